"""certwarden: keep non-compliant certificates and unencrypted private keys out of git."""

__version__ = "0.2.0"
