"""What every group and rule of one run shares: the policy, the time, the neighbours,
and what was already parsed this run (each file is parsed once, whoever asks first)."""

from __future__ import annotations

from datetime import datetime

from certwarden.config import Config
from certwarden.neighbours import Neighbourhood, WorkingTree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from certwarden.recognition.keys import KeyScan
    from certwarden.trust import TrustSource


class RuleContext:
    __slots__ = ("_trust", "certificate_keys", "config", "key_scans", "neighbours", "now")

    def __init__(self, config: Config, now: datetime,
                 neighbours: Neighbourhood | None = None) -> None:
        self.config = config
        self.now = now  # timezone-aware, UTC
        # Where files beside the checked one are read from (same source as the file).
        self.neighbours = neighbours or WorkingTree(config.max_file_bytes)
        # A key and its certificate each read the other: parse each file once per run.
        self.key_scans: dict[str, KeyScan] = {}
        self.certificate_keys: dict[str, list[bytes]] = {}  # path -> leaf SPKIs
        self._trust: TrustSource | None = None

    def trust(self) -> TrustSource:
        """The configured chain and CRLs, loaded on first use (imports cryptography)."""
        if self._trust is None:
            from certwarden.trust import TrustSource

            self._trust = TrustSource(self.config, self.now)
        return self._trust
