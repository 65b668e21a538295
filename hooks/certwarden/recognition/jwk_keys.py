"""JSON Web Keys (RFC 7517/7518/8037): an object with `kty` and a private member (`d` for
RSA, EC and OKP keys) is an unencrypted private key; a JWKS holds several. A JWK inside a
JWE (`step crypto jwk create` with a password) is ciphertext and has no `kty` to see."""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from certwarden.recognition.found_key import FoundKey, digest

if TYPE_CHECKING:
    from certwarden.recognition.keys import KeyScan, View

_BACK = 4096  # how far before "kty" its object may open
MAX_OBJECTS = 5000  # "kty" members looked at in one file
_MAX_OBJECT = 1 << 20
_CURVES = {"P-256": 256, "P-384": 384, "P-521": 521, "secp256k1": 256, "Ed25519": 256,
           "Ed448": 456, "X25519": 256, "X448": 448}
_OKP_TYPES = {"Ed25519": "ed25519", "Ed448": "ed448", "X25519": "x25519", "X448": "x448"}


def _b64url_length(value: str) -> int | None:
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError):
        return None


def _object_at(text: str, kty: int) -> tuple[int, int, dict[str, Any]] | None:
    """(start, end, object) of the JSON object whose `kty` member sits at kty."""
    decoder = json.JSONDecoder()
    start = kty
    for _ in range(4):
        start = text.rfind("{", max(0, kty - _BACK), start)
        if start == -1:
            return None
        try:
            value, end = decoder.raw_decode(text, start)  # no copy: parses in place
        except ValueError:
            continue
        if isinstance(value, dict) and "kty" in value and end > kty and end - start < _MAX_OBJECT:
            return start, end, value
    return None


def _facts(jwk: dict[str, Any]) -> tuple[str | None, int | None] | None:
    """(type, size) of a private JWK, None when it holds no private member."""
    kty = jwk.get("kty")
    private = jwk.get("d")
    if not isinstance(private, str) or len(private) < 16:
        return None
    if kty == "RSA":
        modulus = jwk.get("n")
        size = _b64url_length(modulus) if isinstance(modulus, str) else None
        return "rsa", size * 8 if size else None
    if kty == "EC":
        return "ec", _CURVES.get(str(jwk.get("crv")))
    if kty == "OKP":
        curve = str(jwk.get("crv"))
        return _OKP_TYPES.get(curve, curve.lower()), _CURVES.get(curve)
    return (str(kty).lower() if kty else None), None


def find(view: View, positions: list[int], scan: KeyScan, name: str) -> None:
    data = view.data
    escaped = b'\\"kty\\"' in data
    text = data.decode("utf-8", "replace")
    if escaped:  # a JWK inside a JSON string: its quotes are escaped
        text = text.replace('\\"', '"')
    done = -1
    index = text.find("kty")
    tried = 0
    chars = encoded = 0  # a character offset and its byte offset, advanced in order
    while index != -1 and tried < MAX_OBJECTS:
        tried += 1
        if index > done:
            found = _object_at(text, index)
            if found is not None:
                start, end, jwk = found
                done = end
                facts = _facts(jwk)
                if facts is not None:
                    key_type, size = facts
                    if not escaped and start >= chars:  # linear: never re-encode the prefix
                        encoded += len(text[chars:start].encode("utf-8", "surrogatepass"))
                        chars = start
                    line = view.line_at(encoded if not escaped else 0)
                    scan.add_key(view, FoundKey(
                        form=f"JWK ({jwk.get('kty')})", line=line, encrypted=False,
                        material_digest=digest(str(jwk.get("d")).encode()),
                        key_type=key_type, key_size=size, family="jose", encoding="text"))
        index = text.find("kty", index + 3)
