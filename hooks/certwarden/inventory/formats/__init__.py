"""The inventory's output formats: one module per `--format`, each with
`write(inventory: Inventory, stream: TextIO, options: FormatOptions) -> None`.
Formats print; they never judge. Every value from a certificate or the configuration is
escaped for the format (HTML, CSV formulas, Markdown tables).
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol, TextIO

    from certwarden.inventory.model import Inventory

    class InventoryFormat(Protocol):
        def write(self, inventory: Inventory, stream: TextIO,
                  options: FormatOptions) -> None: ...

FORMATS = ("text", "json", "csv", "markdown", "html")


class FormatOptions:
    __slots__ = ("colour", "width")

    def __init__(self, *, width: int = 100, colour: bool = False) -> None:
        self.width = width  # the terminal's columns (text)
        self.colour = colour


def formatter(name: str) -> InventoryFormat:
    module: InventoryFormat = importlib.import_module(f"certwarden.inventory.formats.{name}")
    return module
