"""CSV: one line per certificate, for spreadsheets. Lists are joined with spaces.

A text cell that a spreadsheet would run as a formula (starting with = + - @, a tab or
a carriage return; a certificate's CN can be `=cmd|' /C calc'!A0`) is prefixed with a
single quote, as OWASP recommends; numbers are written as numbers.
"""

from __future__ import annotations

import csv

from certwarden.inventory.formats import FormatOptions
from certwarden.inventory.model import CertificateRow, Inventory, iso

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

COLUMNS = ("path", "position", "count", "line", "cn", "sans", "issuer", "serial",
           "fingerprint", "not_before", "not_after", "days_left", "key_type", "key_size",
           "signature_algorithm", "crl_urls", "is_ca", "chain", "key_path", "key_encrypted",
           "key_matches", "appliance", "role", "status", "verdict", "notes")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def row_values(row: CertificateRow, *, strict: bool) -> dict[str, object]:
    return {"path": row.path, "position": row.position, "count": row.count, "line": row.line,
            "cn": row.cn, "sans": row.sans, "issuer": row.issuer, "serial": row.serial,
            "fingerprint": row.fingerprint, "not_before": iso(row.not_before),
            "not_after": iso(row.not_after), "days_left": row.days_left,
            "key_type": row.key_type, "key_size": row.key_size,
            "signature_algorithm": row.signature_algorithm, "crl_urls": row.crl_urls,
            "is_ca": row.is_ca, "chain": row.chain, "key_path": row.key_path,
            "key_encrypted": row.key_encrypted, "key_matches": row.key_matches,
            "appliance": row.appliance, "role": row.role, "status": row.status,
            "verdict": row.verdict(strict=strict), "notes": row.notes(strict=strict)}


def write(inventory: Inventory, stream: TextIO, options: FormatOptions) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in inventory.rows:
        values = row_values(row, strict=inventory.strict)
        writer.writerow([cell(values[column]) for column in COLUMNS])
