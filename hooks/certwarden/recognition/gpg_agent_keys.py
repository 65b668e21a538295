"""gpg-agent key files (`~/.gnupg/private-keys-v1.d/<keygrip>.key`): S-expressions, in the
canonical form (`(11:private-key(3:rsa...`) or in the extended key format
(`Key: (private-key (ecc ...`). `private-key` holds the secret in the clear,
`protected-private-key` holds it encrypted, `shadowed-private-key` is a smartcard stub."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from certwarden.recognition.found_key import FoundKey, Protection, digest

if TYPE_CHECKING:
    from certwarden.recognition.keys import KeyScan, View

_START = re.compile(rb"\((?:\d{1,2}:)?(private-key|protected-private-key|shadowed-private-key)"
                    rb"\s*\((?:\d{1,2}:)?([a-z]{2,5})")
# A secret component: d (RSA, ECC) or x (DSA, Elgamal), canonical or advanced form.
_SECRET = re.compile(rb"\((?:1:)?[dx][\s#0-9]")
_PROTECTED = re.compile(rb"\((?:9:)?protected\s*(?:\d{1,2}:)?([a-z0-9-]+)")
_CURVE = re.compile(rb"\((?:5:)?curve\s*(?:\d{1,2}:)?\s*([A-Za-z0-9-]+)")
_TYPES = {b"rsa": "rsa", b"ecc": "ec", b"dsa": "dsa", b"elg": "elgamal", b"ecdsa": "ec"}
MAX_EXPRESSION = 1 << 16
MAX_EXPRESSIONS = 256  # key expressions looked at in one file (a key file holds one)


def find(view: View, positions: list[int], scan: KeyScan, name: str) -> None:
    data = view.data
    for count, match in enumerate(_START.finditer(data)):
        if count >= MAX_EXPRESSIONS:
            return
        if view.is_claimed(match.start()):
            continue
        kind, algorithm = match.group(1), match.group(2)
        expression = data[match.start():match.start() + MAX_EXPRESSION]
        if kind == b"shadowed-private-key":
            continue  # the key lives on a smartcard
        key_type = _TYPES.get(algorithm, algorithm.decode("ascii", "replace"))
        curve = _CURVE.search(expression)
        if curve is not None:
            name_of_curve = curve.group(1).decode("ascii", "replace").lower()
            key_type = {"ed25519": "ed25519", "curve25519": "x25519", "ed448": "ed448",
                        "x448": "x448"}.get(name_of_curve, key_type)
        line = view.line_at(match.start())
        if kind == b"protected-private-key":
            scheme = _PROTECTED.search(expression)
            protection = Protection("gpg-agent", kdf=scheme.group(1).decode("ascii", "replace")
                                    if scheme else "unknown")
            found = FoundKey(form="gpg-agent key file", line=line, encrypted=True,
                             material_digest=digest(expression), key_type=key_type,
                             protection=protection, family="openpgp", encoding="text")
        elif _SECRET.search(expression):
            found = FoundKey(form="gpg-agent key file", line=line, encrypted=False,
                             material_digest=digest(expression), key_type=key_type,
                             family="openpgp", encoding="text")
        else:
            continue  # a public key expression, or a mention
        view.claim(match.start(), match.start() + len(expression))
        scan.add_key(view, found)
