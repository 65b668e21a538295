"""JSON: the whole inventory as one object (`certificates`, `appliances`, `problems`,
`summary`), dates in ISO 8601 UTC. The shape is documented in the README.

One certificate per line: readable, diffable, and written by the C encoder (an indented
dump of 10,000 certificates takes seconds)."""

from __future__ import annotations

import json

from certwarden.inventory.formats import FormatOptions
from certwarden.inventory.model import Inventory

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO


def write(inventory: Inventory, stream: TextIO, options: FormatOptions) -> None:
    document = inventory.as_json()
    stream.write("{\n")
    for position, (key, value) in enumerate(document.items()):
        stream.write(f"  {json.dumps(key)}: ")
        if isinstance(value, list) and value:
            stream.write("[\n" + ",\n".join(
                "    " + json.dumps(item, ensure_ascii=False) for item in value) + "\n  ]")
        else:
            stream.write(json.dumps(value, ensure_ascii=False))
        stream.write(",\n" if position < len(document) - 1 else "\n")
    stream.write("}\n")
