"""Text for people: a table that fits the terminal (most urgent first), then the
appliance findings and the files that hold no readable certificate."""

from __future__ import annotations

from certwarden.inventory.formats import FormatOptions
from certwarden.inventory.model import STATUSES, CertificateRow, Inventory
from certwarden.reporters.text import display_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

COLOURS = {"expired": "\033[31m", "not-yet-valid": "\033[35m", "blocked": "\033[31m",
           "expiring": "\033[33m", "ok": "\033[32m"}
RESET = "\033[0m"
GAP = "  "

# (heading, minimum width, flexible); flexible columns shrink (then go) on narrow terminals
COLUMNS = [("STATUS", 13, False), ("DAYS", 5, False), ("NOT AFTER", 10, False),
           ("CN", 12, True), ("APPLIANCE", 9, True), ("PATH", 12, True), ("KEY", 5, True),
           ("VERDICT", 10, True)]
DROP_ORDER = ("KEY", "APPLIANCE", "VERDICT", "NOT AFTER")  # first to go when too narrow


def _key(row: CertificateRow) -> str:
    if row.key_path is None:
        return "-"
    state = {True: "enc", False: "PLAIN", None: "?"}[row.key_encrypted]
    if row.key_matches is False:
        state += ",MISMATCH"
    return state


def _cells(row: CertificateRow, strict: bool) -> dict[str, str]:
    return {"STATUS": row.status, "DAYS": "" if row.days_left is None else str(row.days_left),
            "NOT AFTER": f"{row.not_after:%Y-%m-%d}" if row.not_after else "?",
            "CN": display_path(row.cn or "(no CN)") + (" [CA]" if row.is_ca else ""),
            "APPLIANCE": display_path(row.appliance or "-"),
            "PATH": display_path(row.location), "KEY": _key(row),
            "VERDICT": row.verdict_text(strict=strict) or "-"}


def _fit(table: list[dict[str, str]], width: int) -> list[tuple[str, int]]:
    """Columns and widths that fit `width`: shrink the widest flexible column first, then
    drop columns in DROP_ORDER."""
    columns = [(name, minimum, flexible) for name, minimum, flexible in COLUMNS]
    natural = {name: max([len(name)] + [len(r[name]) for r in table]) for name, _, _ in columns}
    while True:
        widths = {name: natural[name] for name, _, _ in columns}
        total = sum(widths.values()) + len(GAP) * (len(columns) - 1)
        flexible = [(name, minimum) for name, minimum, flex in columns if flex]
        while total > width:
            shrinkable = [(widths[n] - m, n) for n, m in flexible if widths[n] > m]
            if not shrinkable:
                break
            _, name = max(shrinkable)
            widths[name] -= 1
            total -= 1
        if total <= width or not any(c[0] in DROP_ORDER for c in columns):
            return [(name, widths[name]) for name, _, _ in columns]
        drop = next(n for n in DROP_ORDER if any(c[0] == n for c in columns))
        columns = [c for c in columns if c[0] != drop]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(width - 1, 0)] + "…"


def _urgency(row: CertificateRow) -> tuple[int, float, str]:
    return (STATUSES.index(row.status),
            row.not_after.timestamp() if row.not_after is not None else float("inf"), row.path)


def write(inventory: Inventory, stream: TextIO, options: FormatOptions) -> None:
    rows = sorted(inventory.rows, key=_urgency)
    table = [_cells(row, inventory.strict) for row in rows]
    layout = _fit(table, max(options.width, 40))
    lines = [GAP.join(f"{name:<{width}}" for name, width in layout).rstrip()]
    for row, cells in zip(rows, table, strict=True):
        parts = []
        for name, width in layout:
            text = f"{_clip(cells[name], width):<{width}}"
            if name == "STATUS" and options.colour:
                text = f"{COLOURS[row.status]}{text}{RESET}"
            parts.append(text)
        lines.append(GAP.join(parts).rstrip())
    stream.write("\n".join(lines) + "\n")
    for entry in inventory.appliances:
        for finding in entry.findings:
            where = finding.path if finding.line is None else f"{finding.path}:{finding.line}"
            stream.write(f"{display_path(where)}: {finding.rule.id}: {finding.message} "
                         f"[{finding.severity.value}]\n")
    for finding in inventory.problems:
        where = finding.path if finding.line is None else f"{finding.path}:{finding.line}"
        stream.write(f"{display_path(where)}: {finding.rule.id}: {finding.message} "
                     f"[{finding.severity.value}]\n")
    counts = inventory.counts()
    summary = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]) or "none"
    stream.write(f"certwarden: inventory of {len(inventory.rows)} certificate"
                 f"{'s' if len(inventory.rows) != 1 else ''} on {inventory.now:%Y-%m-%d} "
                 f"(warning window {inventory.warning_days} days): {summary}\n")
