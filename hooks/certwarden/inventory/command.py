"""`certwarden inventory`: build the inventory, print it in a format, decide the exit status.

Exit status: 0, or 1 with `--expiring-within DAYS` when a certificate expires within that
many days (scheduled CI), and with `--appliance NAME` when that appliance's certificate
or key is blocked (as `inspect` for a file); 2 for usage or configuration errors. The
inventory is a view: without those options its findings do not change the status
(`scan` and the hooks enforce them).
"""

from __future__ import annotations

import os
import shutil
import sys
from datetime import datetime

from certwarden.config import Config
from certwarden.findings import Finding
from certwarden.inventory.model import Inventory

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TextIO


class UnknownAppliance(Exception):
    pass


def only_appliance(inventory: Inventory, name: str) -> Inventory:
    """The inventory of one appliance: its certificate file's rows and its findings."""
    entry = next((e for e in inventory.appliances if e.appliance.name == name), None)
    if entry is None:
        known = ", ".join(sorted(e.appliance.name for e in inventory.appliances)) or "none"
        raise UnknownAppliance(f"no appliance {name!r} in the manifest (appliances: {known})")
    rows = [row for row in inventory.rows if row.appliance == name]
    problems = [p for p in inventory.problems if p.path == entry.appliance.certificate]
    return Inventory(now=inventory.now, warning_days=inventory.warning_days, rows=rows,
                     appliances=[entry], problems=problems, chain=inventory.chain,
                     strict=inventory.strict)


def run(*, config: Config, now: datetime, paths: Sequence[str], output_format: str,
        output: str | None, expiring_within: int | None, appliance: str | None,
        strict: bool, stdout: TextIO) -> int:
    from certwarden.context import RuleContext
    from certwarden.inventory.build import build_inventory
    from certwarden.inventory.formats import FormatOptions, formatter
    from certwarden.neighbours import GitIndex, WorkingTree

    neighbours = (WorkingTree(config.max_file_bytes) if paths
                  else GitIndex(config.root, config.max_file_bytes))
    context = RuleContext(config, now, neighbours)
    inventory = build_inventory(context, paths=paths, strict=strict)
    if appliance is not None:
        inventory = only_appliance(inventory, appliance)
    extra: list[Finding] = []
    stream = stdout if output is None else open(output, "w", encoding="utf-8")  # noqa: SIM115
    try:
        if appliance is not None and output_format == "text":
            from certwarden.inventory.appliance_view import write_appliance

            extra = write_appliance(inventory, context, stream)
        else:
            colour = output is None and _colour(stream)
            options = FormatOptions(width=shutil.get_terminal_size().columns, colour=colour)
            formatter(output_format).write(inventory, stream, options)
    finally:
        if output is not None:
            stream.close()
    code = 0
    if appliance is not None and (inventory.blocking() or
                                  any(f.blocks(strict=strict) for f in extra)):
        code = 1
    if expiring_within is not None:
        soon = inventory.expiring_within(expiring_within)
        if soon:
            sys.stderr.write(f"certwarden: {len(soon)} certificate"
                             f"{'s' if len(soon) != 1 else ''} expire within "
                             f"{expiring_within} days: "
                             f"{', '.join(row.location for row in soon[:5])}"
                             f"{', ...' if len(soon) > 5 else ''}\n")
            code = 1
    return code


def _colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
