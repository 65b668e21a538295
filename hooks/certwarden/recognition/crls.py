"""Certificate revocation lists: from local files (DER or PEM) or fetched over plain HTTP.

Fetching is opt-in (crl-fetch / --fetch-crl), with a short timeout, a size cap, one
fetch per URL per run, and no redirect to another scheme.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from cryptography import x509

FETCH_TIMEOUT_SECONDS = 5.0
MAX_CRL_BYTES = 10 * 1024 * 1024


class CrlUnavailable(Exception):
    """The CRL could not be had; the message says why (for a finding)."""


def parse_crl(data: bytes, where: str) -> x509.CertificateRevocationList:
    """A CRL from at most MAX_CRL_BYTES (+1 to notice more) of DER or PEM."""
    if len(data) > MAX_CRL_BYTES:
        raise CrlUnavailable(f"the CRL from {where} is larger than {MAX_CRL_BYTES} bytes")
    try:
        if b"-----BEGIN X509 CRL-----" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError:
        raise CrlUnavailable(f"{where} did not provide a CRL (DER or PEM)") from None


def load_crl_file(path: str) -> x509.CertificateRevocationList:
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_CRL_BYTES + 1)
    except OSError as exc:
        raise CrlUnavailable(f"cannot read {path}: {exc.strerror}") from None
    return parse_crl(data, path)


class _SameSchemeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow http:// to http:// redirects only: the appliance fetches over plain HTTP."""

    def redirect_request(self, req: urllib.request.Request, fp: object, code: int, msg: str,
                         headers: object, newurl: str) -> urllib.request.Request | None:
        if not newurl.lower().startswith("http://"):
            raise urllib.error.URLError(f"redirect to another scheme refused: {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)  # type: ignore[arg-type]


def fetch_crl(url: str) -> x509.CertificateRevocationList:
    if not url.lower().startswith("http://"):
        raise CrlUnavailable(f"{url} is not an http:// URL")
    opener = urllib.request.build_opener(_SameSchemeRedirects())
    try:
        with opener.open(url, timeout=FETCH_TIMEOUT_SECONDS) as response:
            data = response.read(MAX_CRL_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CrlUnavailable(f"the CRL location {url} is not reachable ({reason})") from None
    return parse_crl(data, url)
