"""Markdown (GitHub-flavoured table): for pull-request comments and CI job summaries
(`>> $GITHUB_STEP_SUMMARY`). Most urgent first. Every value is escaped: a certificate's
CN cannot break the table, start a link or smuggle HTML into the comment."""

from __future__ import annotations

import re

from certwarden.inventory.formats import FormatOptions
from certwarden.inventory.model import STATUSES, CertificateRow, Inventory

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

MARKS = {"expired": "🔴", "not-yet-valid": "🟣", "blocked": "⛔", "expiring": "🟠", "ok": "🟢"}
# What has a meaning inside a table cell (inline syntax: code, emphasis, links, strike,
# the cell separator); block syntax (#, -, 1.) does not apply there.
_SPECIAL = re.compile(r"([\\`*_\[\]~|])")


def escape(value: object) -> str:
    """Plain text in a table cell: inline Markdown punctuation backslash-escaped, `<` and `&`
    as entities (no HTML, no autolink), line breaks as spaces."""
    text = "" if value is None else str(value)
    text = " ".join(text.splitlines())
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _SPECIAL.sub(r"\\\1", text)


def _key(row: CertificateRow) -> str:
    if row.key_path is None:
        return ""
    state = {True: "encrypted", False: "NOT encrypted", None: "?"}[row.key_encrypted]
    return f"{escape(row.key_path)} ({state})"


def _urgency(row: CertificateRow) -> tuple[int, float]:
    return (STATUSES.index(row.status),
            row.not_after.timestamp() if row.not_after is not None else float("inf"))


def write(inventory: Inventory, stream: TextIO, options: FormatOptions) -> None:
    counts = inventory.counts()
    summary = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
    stream.write("## Certificate inventory\n\n")
    stream.write(f"{len(inventory.rows)} certificates on {inventory.now:%Y-%m-%d %H:%M} UTC"
                 f"{': ' + summary if summary else ''} (warning window: "
                 f"{inventory.warning_days} days)\n\n")
    stream.write("| status | days left | not after | CN | appliance | path | key | verdict |\n")
    stream.write("| --- | ---: | --- | --- | --- | --- | --- | --- |\n")
    for row in sorted(inventory.rows, key=_urgency):
        appliance = f"{escape(row.appliance)} ({escape(row.role)})" if row.appliance else ""
        cells = [
            f"{MARKS[row.status]} {escape(row.status)}",
            "" if row.days_left is None else str(row.days_left),
            f"{row.not_after:%Y-%m-%d}" if row.not_after else "",
            escape(row.cn), appliance, escape(row.location), _key(row),
            escape(row.verdict_text(strict=inventory.strict)),
        ]
        stream.write("| " + " | ".join(cells) + " |\n")
    troubled = [entry for entry in inventory.appliances if entry.findings]
    if troubled:
        stream.write("\n### Appliances\n\n| appliance | role | rule | finding |\n"
                     "| --- | --- | --- | --- |\n")
        for entry in troubled:
            for finding in entry.findings:
                stream.write(f"| {escape(entry.appliance.name)} | {escape(entry.appliance.role)}"
                             f" | {escape(finding.rule.id)} | {escape(finding.message)} |\n")
    if inventory.problems:
        stream.write("\n### Files\n\n| path | rule | finding |\n| --- | --- | --- |\n")
        for finding in inventory.problems:
            stream.write(f"| {escape(finding.path)} | {escape(finding.rule.id)} | "
                         f"{escape(finding.message)} |\n")
