"""The options of `certwarden pre-receive`, apart from the hook itself: every run builds
the command line, and only the server hook should pay for importing the server side."""

from __future__ import annotations

import argparse
from collections.abc import Callable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime

DEFAULT_TIME_BUDGET = 4.0  # seconds: GitHub Enterprise's 5 s, less start-up and margin
MAX_SHOWN = 50  # blocking findings described to the pusher; the rest are counted
BYPASS_OPTION = "certwarden.bypass"


def add_arguments(parser: argparse.ArgumentParser,
                  parse_now: Callable[[str], datetime]) -> None:
    from certwarden.groups import NAMES

    parser.add_argument("--config", metavar="FILE",
                        help="the policy file on the server (default: git config "
                             "certwarden.config, else the configuration on the default "
                             "branch before the push); never the pushed commits' own")
    parser.add_argument("--now", type=parse_now, metavar="ISO-8601",
                        help="the time the validity rules use (default: now)")
    parser.add_argument("--strict", action="store_true", help="warnings reject too")
    parser.add_argument("--group", action="append", choices=NAMES,
                        help="run only this group of rules (repeatable; default: "
                             "certificates, keys, unique, and secrets when the policy has "
                             "a secrets baseline)")
    parser.add_argument("--time-budget", type=float, metavar="SECONDS",
                        help=f"answer within this time (default: git config "
                             f"certwarden.timeBudget, else {DEFAULT_TIME_BUDGET})")
    parser.add_argument("--on-timeout", choices=("reject", "accept"),
                        help="a push too large to judge in time is rejected (default; git "
                             "config certwarden.onTimeout) or accepted and logged")
    parser.add_argument("--allow-bypass", action="store_true",
                        help=f"accept a push that asks for it with `git push -o "
                             f"{BYPASS_OPTION}=REASON`, and log it (as git config "
                             "certwarden.allowBypass = true; off by default)")
    parser.add_argument("--max-shown", type=int, default=MAX_SHOWN, metavar="N",
                        help=f"describe at most N blocking findings to the pusher, count the "
                             f"rest (default {MAX_SHOWN}; 0: all)")
    parser.add_argument("--audit-log", metavar="FILE",
                        help="where bypasses and pushes accepted unjudged are logged (default: "
                             "git config certwarden.auditLog, else certwarden/audit.log in "
                             "the git folder)")
