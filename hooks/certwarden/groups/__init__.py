"""Check groups: each decides cheaply which files it wants, then checks them.

A hook runs one group; `certwarden check` runs them all.
"""
