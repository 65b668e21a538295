"""JSON Web Keys (RFC 7517/7518/8037): an object with `kty` and a private member (`d` for
RSA, EC and OKP keys) is an unencrypted private key; a JWKS holds several. JSON, also
JavaScript and Python object literals (`{kty: 'EC', ...}`, `{'kty': 'EC', ...}`) and
YAML mappings (`- kty: EC`). A JWK inside a
JWE (`step crypto jwk create` with a password) is ciphertext and has no `kty` to see."""

from __future__ import annotations

import base64
import binascii
import json
import re
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


_RELAXED_SPAN = 1 << 13  # an object literal longer than this is not one JWK (RSA 4096: 3 KB)
_MEMBER_AFTER = re.compile(r"""['"]?[ \t]*:""")
# Braces, and strings skipped whole: the matching brace in one pass of the regex engine.
_TOKENS = re.compile(r"""[{}]|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`[^`]*`""")
_SINGLE_QUOTED = re.compile(r"'((?:\\.|[^'\\\n])*)'")
_BARE_NAME = re.compile(r"([{,]\s*)([A-Za-z_$][\w$]*)\s*:")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_YAML_MEMBER = re.compile(r"( *(?:- +)?)([A-Za-z_][\w-]*) *: *(.*)")


def _literal_at(text: str, kty: int) -> tuple[int, int, dict[str, Any]] | None:
    """(start, end, object) of a JavaScript or Python object literal around kty: names
    unquoted or single-quoted strings, trailing commas (`{kty: 'EC', d: '...'}`)."""
    if not _MEMBER_AFTER.match(text, kty + 3):
        return None  # `jwk.kty` in code, not a member of a literal
    start = text.rfind("{", max(0, kty - _BACK), kty)
    if start == -1:
        return None
    depth = 0
    for token in _TOKENS.finditer(text, start, min(len(text), start + _RELAXED_SPAN)):
        depth += {"{": 1, "}": -1}.get(token.group(), 0)
        if depth == 0:
            end = token.end()
            break
    else:
        return None
    literal = text[start:end]
    literal = _SINGLE_QUOTED.sub(lambda m: json.dumps(m.group(1).replace("\\'", "'")), literal)
    literal = _TRAILING_COMMA.sub(r"\1", _BARE_NAME.sub(r'\1"\2":', literal))
    try:
        value = json.loads(literal)
    except ValueError:
        return None
    return (start, end, value) if isinstance(value, dict) and "kty" in value else None


def _yaml_at(text: str, kty: int) -> tuple[int, int, dict[str, Any]] | None:
    """(start, end, mapping) of a YAML mapping holding `kty: ...` at kty: its sibling
    `name: value` lines (a list item `- kty: EC` opens one), scalar values only."""
    line_start = text.rfind("\n", 0, kty) + 1
    line_end = text.find("\n", kty)
    line_end = len(text) if line_end == -1 else line_end
    match = _YAML_MEMBER.fullmatch(text[line_start:line_end].rstrip("\r"))
    if match is None or match.group(2) != "kty":
        return None
    indent = len(match.group(1))
    members = {"kty": match.group(3)}
    start, end = line_start, line_end
    opened = "-" in match.group(1)
    for _ in range(64):  # upwards, to the item's first line
        if opened or start == 0:
            break
        previous = text.rfind("\n", 0, start - 1) + 1
        member = _YAML_MEMBER.fullmatch(text[previous:start - 1].rstrip("\r"))
        if member is None or len(member.group(1)) != indent:
            break
        members.setdefault(member.group(2), member.group(3))
        opened, start = "-" in member.group(1), previous
    for _ in range(64):  # downwards, while the lines are members of the same mapping
        if end >= len(text):
            break
        following = text.find("\n", end + 1)
        following = len(text) if following == -1 else following
        member = _YAML_MEMBER.fullmatch(text[end + 1:following].rstrip("\r"))
        if member is None or member.group(1) != " " * indent:
            break
        members.setdefault(member.group(2), member.group(3))
        end = following
    return start, end, {name: value.strip().strip("\"'") for name, value in members.items()}


def _facts(jwk: dict[str, Any]) -> tuple[str | None, int | None] | None:
    """(type, size) of a private JWK, None when it holds no private member."""
    from certwarden.recognition.key_prefix import is_secret_like

    kty = jwk.get("kty")
    private = jwk.get("d")
    if not isinstance(private, str) or len(private) < 16:
        return None
    try:
        value = base64.urlsafe_b64decode(private + "=" * (-len(private) % 4))
    except (binascii.Error, ValueError):
        value = private.encode()
    if not is_secret_like(value):
        return None  # "d": "AAAA...", "xxxxxxxx...": a placeholder
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
            found = _object_at(text, index) or _literal_at(text, index) \
                or _yaml_at(text, index)
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
