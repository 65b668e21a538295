"""Reporters print findings. They never judge."""
