"""Recognition: what a file holds (certificates, CSRs, bundles, keys), decided by content.

`armor` and `sniff` are import-light and run on every file; the loaders that need
cryptography or asn1crypto are imported only for files that passed the sniff.
"""
