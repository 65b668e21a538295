"""What every group and rule of one run shares: the policy, the time, the neighbours."""

from __future__ import annotations

from datetime import datetime

from certwarden.config import Config
from certwarden.neighbours import Neighbourhood, WorkingTree


class RuleContext:
    __slots__ = ("config", "memo", "neighbours", "now")

    def __init__(self, config: Config, now: datetime,
                 neighbours: Neighbourhood | None = None) -> None:
        self.config = config
        self.now = now  # timezone-aware, UTC
        # Where files beside the checked one are read from (same source as the file).
        self.neighbours = neighbours or WorkingTree(config.max_file_bytes)
        # Parsed neighbours, by (what, path): a key and its certificate each read the
        # other; parse each once per run.
        self.memo: dict[tuple[str, str], object] = {}
