"""certwarden: keep non-compliant certificates and unencrypted private keys out of git."""

__version__ = "0.1.0"
