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


def _cells(row: CertificateRow, strict: bool) -> list[str]:
    """In COLUMNS order."""
    return [row.status, "" if row.days_left is None else str(row.days_left),
            f"{row.not_after:%Y-%m-%d}" if row.not_after else "?",
            display_path(row.cn or "(no CN)") + (" [CA]" if row.is_ca else ""),
            display_path(row.appliance or "-"), display_path(row.location), _key(row),
            row.verdict_text(strict=strict) or "-"]


def _fit(table: list[list[str]], width: int) -> list[tuple[int, int]]:
    """(column index, width) of the columns that fit `width`: shrink the widest flexible
    column first, then drop columns in DROP_ORDER."""
    names = [name for name, _, _ in COLUMNS]
    natural = [max([len(name)] + [len(r[i]) for r in table]) for i, name in enumerate(names)]
    shown = list(range(len(COLUMNS)))
    while True:
        widths = {i: natural[i] for i in shown}
        total = sum(widths.values()) + len(GAP) * (len(shown) - 1)
        flexible = [(i, COLUMNS[i][1]) for i in shown if COLUMNS[i][2]]
        while total > width:
            shrinkable = [(widths[i] - minimum, i) for i, minimum in flexible
                          if widths[i] > minimum]
            if not shrinkable:
                break
            _, index = max(shrinkable)
            widths[index] -= 1
            total -= 1
        droppable = [names.index(n) for n in DROP_ORDER if names.index(n) in shown]
        if total <= width or not droppable:
            return [(i, widths[i]) for i in shown]
        shown.remove(droppable[0])


def _clip(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[:max(width - 1, 0)] + "…"


def _urgency(row: CertificateRow) -> tuple[int, float, str]:
    return (STATUSES.index(row.status),
            row.not_after.timestamp() if row.not_after is not None else float("inf"), row.path)


def write(inventory: Inventory, stream: TextIO, options: FormatOptions) -> None:
    rows = sorted(inventory.rows, key=_urgency)
    table = [_cells(row, inventory.strict) for row in rows]
    layout = _fit(table, max(options.width, 40))
    lines = [GAP.join(COLUMNS[i][0].ljust(width) for i, width in layout).rstrip()]
    for row, cells in zip(rows, table, strict=True):
        parts = [_clip(cells[i], width) for i, width in layout]
        if options.colour and layout[0][0] == 0:
            parts[0] = f"{COLOURS[row.status]}{parts[0]}{RESET}"
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
