"""Raw secret keys that other tools keep in text: age identities, WireGuard private keys
and OpenVPN static keys. None of these formats can be encrypted: found is unencrypted."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from certwarden.recognition import armor
from certwarden.recognition.found_key import FoundKey, digest

if TYPE_CHECKING:
    from certwarden.recognition.keys import KeyScan, View

_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"  # pragma: allowlist secret
_AGE = re.compile(rb"(?i)AGE-SECRET-KEY-1([qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58})(?![0-9a-z])")
_WIREGUARD = re.compile(rb"PrivateKey[ \t]*[=:][ \t]*[\"']?([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)")
_HEX_LINE = re.compile(rb"[0-9a-fA-F]+")
OPENVPN_LABEL = "OpenVPN Static key V1"


def _bech32_valid(hrp: str, data: str) -> bool:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    values += [_BECH32.index(c) for c in data]
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for index in range(5):
            check ^= generator[index] if (top >> index) & 1 else 0
    return check == 1


def _age(view: View, scan: KeyScan) -> None:
    for match in _AGE.finditer(view.data):
        data = match.group(1).decode("ascii").lower()
        if not _bech32_valid("age-secret-key-", data):
            continue  # a placeholder or a typo, not an identity
        view.claim(match.start(), match.end())
        scan.add_key(view, FoundKey(form="age identity", line=view.line_at(match.start()),
                                    encrypted=False, material_digest=digest(match.group()),
                                    key_type="x25519", key_size=256, family="age",
                                    encoding="text"))


def _wireguard(view: View, scan: KeyScan) -> None:
    import base64

    from certwarden.recognition.key_prefix import is_secret_like

    for match in _WIREGUARD.finditer(view.data):
        if not is_secret_like(base64.b64decode(match.group(1))):
            continue  # `PrivateKey = AAAA...A=`: a placeholder, not a key
        view.claim(match.start(), match.end())
        scan.add_key(view, FoundKey(form="WireGuard private key",
                                    line=view.line_at(match.start()), encrypted=False,
                                    material_digest=digest(match.group(1)), key_type="x25519",
                                    key_size=256, family="wireguard", encoding="text"))


def read_armored(block: armor.ArmoredBlock, line: int | None, scan: KeyScan
                 ) -> FoundKey | str | None:
    """An OpenVPN static key: hex lines (2048 bits) between the armor lines."""
    digits = b"".join(match.group() for raw in block.body.splitlines()
                      if (match := _HEX_LINE.fullmatch(raw.strip().strip(b"\"'"))))
    if len(digits) < 128:
        return "an OpenVPN static key block without its hex key lines"
    return FoundKey(form="OpenVPN static key", line=line, encrypted=False,
                    material_digest=digest(digits.lower()), key_size=len(digits) * 4,
                    key_type="openvpn", family="openvpn", encoding="text")


def _openvpn(view: View, scan: KeyScan) -> None:
    from certwarden.recognition.pem_keys import is_placeholder

    for block in armor.find_blocks(view.data, labels=frozenset({OPENVPN_LABEL})):
        if view.is_claimed(block.start):
            continue
        view.claim(block.start, block.end)
        line = view.line_at(block.start)
        found = read_armored(block, line, scan) if block.complete else \
            "an OpenVPN static key without an END line"
        if isinstance(found, FoundKey):
            scan.add_key(view, found)
        elif found is not None and not is_placeholder(block.body):
            scan.add_unreadable(view, line, found, block.body)


def find(view: View, positions: list[int], scan: KeyScan, name: str) -> None:
    {"age": _age, "wireguard": _wireguard, "openvpn": _openvpn}[name](view, scan)
