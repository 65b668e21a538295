"""`certwarden pre-receive`: the git server hook that `--no-verify` cannot skip.

git (and GitLab, Gitea, GitHub Enterprise Server) runs it in the repository's git folder
before any ref moves, with one `<old> <new> <ref>` line per updated ref on stdin and the
pushed objects in a quarantine the environment points to. Exit 1 rejects the whole push
and the objects are thrown away; every line written to stderr reaches the pusher, shown
by their git as `remote: ...`.

Judged: every blob the pushed commits introduce (revisions.introduced_blobs, also the ones
a later pushed commit deletes again), by the server's policy (server_policy), and the tree
each updated branch ends at for the repository-wide rules. Within a time budget (GitHub
Enterprise gives all pre-receive hooks 5 s together): a push too large to judge in time is
rejected, saying so, unless the administrator configured otherwise. An emergency bypass
exists only when the administrator enables it, and every use is logged. Nothing here
goes on the network (docs/contract.md, server side).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Mapping, Sequence

from certwarden.history import OutOfTime, Progress
from certwarden.server_options import BYPASS_OPTION, DEFAULT_TIME_BUDGET

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import TextIO

    from certwarden.commit_trees import ObjectReader
    from certwarden.findings import Finding
    from certwarden.revisions import IntroducedBlob
    from certwarden.server_policy import ServerPolicy


EXIT_OK, EXIT_REJECTED, EXIT_ERROR = 0, 1, 2
ABBREV = 12  # commit ids in messages to people
# Who pushed, as each server tells its hooks.
PUSHER_VARIABLES = ("GL_USERNAME", "GITEA_PUSHER_NAME", "GITHUB_USER_LOGIN", "REMOTE_USER",
                    "USER", "LOGNAME")


class RefUpdate:
    __slots__ = ("new", "old", "ref")

    def __init__(self, old: str, new: str, ref: str) -> None:
        self.old, self.new, self.ref = old, new, ref


def parse_updates(data: bytes) -> list[RefUpdate]:
    """`<old> <new> <ref>` lines; anything else is an error (the push is rejected)."""
    from certwarden.revisions import is_object_id

    updates = []
    for number, raw in enumerate(data.splitlines(), 1):
        line = raw.decode("utf-8", "surrogateescape").strip()
        if not line:
            continue
        parts = line.split(" ", 2)
        if len(parts) != 3 or not (is_object_id(parts[0]) and is_object_id(parts[1])):
            raise ValueError(f"stdin line {number} is not `<old> <new> <ref>`")
        updates.append(RefUpdate(*parts))
    return updates


class Settings:
    """The hook's own settings: the command line first, then git config certwarden.*."""

    __slots__ = ("allow_bypass", "audit_log", "config_file", "on_timeout", "time_budget")

    def __init__(self, args: argparse.Namespace, git_config: Mapping[str, str],
                 git_dir: str) -> None:
        self.config_file: str | None = args.config or git_config.get("certwarden.config")
        budget = args.time_budget
        if budget is None and "certwarden.timebudget" in git_config:
            try:
                budget = float(git_config["certwarden.timebudget"])
            except ValueError:
                raise ValueError("git config certwarden.timeBudget: expected seconds, got "
                                 f"{git_config['certwarden.timebudget']!r}") from None
        if budget is not None and not math.isfinite(budget):  # setitimer takes no inf
            raise ValueError(f"time budget: expected seconds, got {budget}")
        self.time_budget = DEFAULT_TIME_BUDGET if budget is None else max(budget, 0.0)
        on_timeout = args.on_timeout or git_config.get("certwarden.ontimeout", "reject")
        if on_timeout not in ("reject", "accept"):
            raise ValueError(f"git config certwarden.onTimeout: expected reject or accept, got "
                             f"{on_timeout!r}")
        self.on_timeout = on_timeout
        self.allow_bypass = args.allow_bypass or _true(git_config.get(
            "certwarden.allowbypass", "false"))
        self.audit_log = args.audit_log or git_config.get("certwarden.auditlog") or \
            os.path.join(git_dir, "certwarden", "audit.log")


def _true(value: str) -> bool:
    return value.strip().lower() in ("true", "yes", "on", "1")


def read_git_config(repo: str) -> dict[str, str]:
    """git config certwarden.* (keys lower-cased, as git reports them)."""
    from certwarden.sources import GitError, git

    try:
        output = git(repo, "config", "-z", "--get-regexp", r"^certwarden\.")
    except GitError:  # none set
        return {}
    settings = {}
    for record in output.split(b"\0"):
        key, _, value = record.decode("utf-8", "replace").partition("\n")
        if key:
            settings[key.lower()] = value
    return settings


def push_options(environ: Mapping[str, str]) -> list[str]:
    """`git push -o` values; git passes them only with receive.advertisePushOptions."""
    try:
        count = int(environ.get("GIT_PUSH_OPTION_COUNT", "0"))
    except ValueError:
        return []
    return [environ.get(f"GIT_PUSH_OPTION_{index}", "") for index in range(min(count, 100))]


def requested_bypass(options: Sequence[str]) -> str | None:
    """The reason given with certwarden.bypass=REASON ("" when given without one)."""
    for option in options:
        name, equals, reason = option.partition("=")
        if name.strip() == BYPASS_OPTION:
            cleaned = "".join(c if c.isprintable() else " " for c in reason).strip()
            return cleaned[:200] if equals else ""
    return None


def pusher(environ: Mapping[str, str]) -> str:
    for variable in PUSHER_VARIABLES:
        if environ.get(variable):
            return environ[variable]
    return "unknown"


class PushJudgement:
    """What was judged, and what was found; complete is False when time ran out."""

    def __init__(self) -> None:
        self.progress = Progress()
        self.commits: list[str] = []
        self.refs_of_commit: dict[str, list[str]] = {}  # abbreviated id -> refs
        self.other_objects: set[str] = set()  # abbreviated ids of tagged trees and blobs
        self.complete = False


def judge_push(repo: str, updates: Sequence[RefUpdate], *, policy: ServerPolicy,
               group_names: Sequence[str] | None, now: datetime, reader: ObjectReader,
               judgement: PushJudgement, deadline: float | None = None) -> None:
    """Every blob the push introduces, then each updated branch's tree; raises OutOfTime."""
    from certwarden import history
    from certwarden.groups import load_all
    from certwarden.revisions import (
        IntroducedBlob,
        introduced_blobs,
        is_zero,
        object_types,
        tree_entries,
    )

    config = policy.config
    created = [u for u in updates if not is_zero(u.new)]  # a deleted ref adds nothing
    refs_of: dict[str, list[str]] = {}
    for update in created:
        refs_of.setdefault(update.new, []).append(update.ref)
    types = object_types(repo, list(refs_of))
    missing = [new for new in refs_of if new not in types]
    if missing:
        raise ValueError(f"the pushed object {missing[0][:ABBREV]} is not in the repository")
    commits = [new for new in refs_of if types[new] == "commit"]
    blobs: list[IntroducedBlob] = []
    if commits:
        blobs, judgement.commits = introduced_blobs(repo, [*commits, "--not", "--all"])
    for new, kind in types.items():  # a tag of a tree or a blob: judge what it holds
        if kind in ("tree", "blob"):
            judgement.other_objects.add(new[:ABBREV])
        if kind == "tree":
            blobs.extend(IntroducedBlob(new, e.path, e.mode, e.blob, new)
                         for e in tree_entries(repo, new) if e.mode != "160000")
        elif kind == "blob":
            blobs.append(IntroducedBlob(new, refs_of[new][0], "100644", f"{new}^{{}}", new))
    for blob in blobs:
        judgement.refs_of_commit.setdefault(blob.commit[:ABBREV], refs_of.get(blob.source, []))
    tags: list[str] = []  # annotated tags pushed, and the tags they tag
    pushed_types = object_types(repo, list(refs_of), peel=False)
    for new in (new for new, kind in pushed_types.items() if kind == "tag"):
        for tag in history.tag_chain(reader, new):
            judgement.other_objects.add(tag[:ABBREV])
            judgement.refs_of_commit.setdefault(tag[:ABBREV], refs_of[new])
            tags.append(tag)
    names = list(group_names) if group_names else history.default_group_names(config)
    groups = load_all(names)
    context = history.history_context(config, now, reader)
    history.judge_blobs(repo, blobs, groups=groups, context=context, abbrev=ABBREV,
                        progress=judgement.progress, deadline=deadline)
    history.judge_object_texts(repo, history.object_texts(judgement.commits, tags),
                               groups=groups, context=context, abbrev=ABBREV,
                               progress=judgement.progress, deadline=deadline)
    branches = [u.new for u in created
                if u.ref.startswith("refs/heads/") and types[u.new] == "commit"]
    for update in created:
        judgement.refs_of_commit.setdefault(update.new[:ABBREV], refs_of[update.new])
    judgement.progress.findings.extend(history.judge_trees(
        repo, branches, blobs, groups=groups, config=config, abbrev=ABBREV))
    judgement.complete = True


class _Alarm:
    """Raise OutOfTime in the main thread at the deadline, wherever the work is (a long
    parse, a git call); a no-op where signals are not available."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.armed = False
        self.previous: object = None

    def _fire(self, signum: int, frame: object) -> None:
        if self.armed:
            self.armed = False
            raise OutOfTime

    def __enter__(self) -> _Alarm:
        import signal
        import threading

        if hasattr(signal, "setitimer") and threading.current_thread() is \
                threading.main_thread():
            self.previous = signal.signal(signal.SIGALRM, self._fire)
            self.armed = True
            signal.setitimer(signal.ITIMER_REAL, max(self.deadline - time.monotonic(), 1e-3))
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        if self.previous is not None:
            self.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)  # type: ignore[arg-type]


def pre_receive(args: argparse.Namespace, *, stdin: bytes | None = None,
                environ: Mapping[str, str] | None = None, stream: TextIO | None = None) -> int:
    started = time.monotonic()
    environ = os.environ if environ is None else environ
    stream = sys.stderr if stream is None else stream
    say = _Speaker(stream)
    repo = os.getcwd()  # git runs pre-receive in the repository's git folder
    try:
        updates = parse_updates(sys.stdin.buffer.read() if stdin is None else stdin)
        settings = Settings(args, read_git_config(repo),
                            os.path.abspath(environ.get("GIT_DIR", repo)))
    except ValueError as exc:
        say(f"error: {exc}; push rejected")
        return EXIT_ERROR
    from certwarden.revisions import is_zero, published_objects

    if all(is_zero(update.new) for update in updates):
        return EXIT_OK  # only deletions: nothing new to judge
    bypass = requested_bypass(push_options(environ))
    try:
        # git gives its hooks GIT_DIR=., and the policy's files are read from elsewhere.
        with published_objects(environ.get("GIT_DIR", repo)):
            return _judge_and_answer(repo, updates, args, settings, bypass, environ, say,
                                     started)
    except OutOfTime:  # the alarm fired after the judgement was over
        say("error: interrupted while answering; push rejected")
        return EXIT_REJECTED
    except Exception as exc:  # a defect of ours: fail closed, without a traceback
        say(f"internal error ({type(exc).__name__}); push rejected, please report it")
        return EXIT_ERROR


def _judge_and_answer(repo: str, updates: list[RefUpdate], args: argparse.Namespace,
                      settings: Settings, bypass: str | None, environ: Mapping[str, str],
                      say: _Speaker, started: float) -> int:
    import tempfile
    from datetime import datetime, timezone

    from certwarden import server_policy
    from certwarden.commit_trees import ObjectReader
    from certwarden.config import ConfigError
    from certwarden.sources import GitError

    now = args.now or datetime.now(timezone.utc)
    judgement = PushJudgement()
    policy: ServerPolicy | None = None
    with tempfile.TemporaryDirectory(prefix="certwarden-policy-") as workdir:
        reader = ObjectReader(repo)
        try:
            with _Alarm(started + settings.time_budget):
                try:
                    policy = (server_policy.from_admin_file(settings.config_file)
                              if settings.config_file else
                              server_policy.from_default_branch(repo, reader, workdir))
                    judge_push(repo, updates, policy=policy, group_names=args.group, now=now,
                               reader=reader, judgement=judgement,
                               deadline=started + settings.time_budget)
                except OutOfTime:
                    judgement.complete = False
        except (ConfigError, GitError, ValueError) as exc:
            say(f"error: {exc}; push rejected")
            return EXIT_ERROR
        finally:
            reader.close()
        if policy is None:  # out of time before the policy was even read
            return _answer_unjudged(updates, settings, bypass, environ, say, [])
        return _answer(updates, policy, judgement, args, settings, bypass, environ, say,
                       time.monotonic() - started)


class _Speaker:
    """Lines for the pusher: git shows each as `remote: certwarden: ...`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, text: str = "") -> None:
        from certwarden.reporters.text import display_path

        for line in text.splitlines() or [""]:
            self.stream.write(f"certwarden: {display_path(line)}\n")
        self.stream.flush()


def _blocking(findings: list[Finding], strict: bool) -> list[Finding]:
    return [finding for finding in findings if finding.blocks(strict=strict)]


def _describe(finding: Finding, judgement: PushJudgement) -> list[str]:
    """Three lines, each one line whatever the path holds (a newline in a file name would
    otherwise start a line of its own)."""
    from certwarden.reporters.text import display_path as one_line

    commit, _, path = finding.path.partition(":")
    refs = ", ".join(judgement.refs_of_commit.get(commit, [])) or "pushed objects"
    where = path if finding.line is None else f"{path}:{finding.line}"
    kind = "object" if commit in judgement.other_objects else "commit"
    return [f"{kind} {commit} ({one_line(refs)}): {one_line(where)}",
            f"  {finding.rule.id} [{finding.severity.value}]: {one_line(finding.message)}",
            f"  fix: {one_line(finding.hint)}"]


def _answer(updates: list[RefUpdate], policy: ServerPolicy, judgement: PushJudgement,
            args: argparse.Namespace, settings: Settings, bypass: str | None,
            environ: Mapping[str, str], say: _Speaker, elapsed: float) -> int:
    from certwarden.findings import Report, Severity
    from certwarden.pipeline import apply_policy

    progress = judgement.progress
    report = Report()
    findings = apply_policy(progress.findings, policy.config, report)
    order = {commit[:ABBREV]: index for index, commit in enumerate(judgement.commits)}
    findings.sort(key=lambda f: (order.get(f.path.partition(":")[0], len(order)),
                                 f.sort_key()))
    blocking = _blocking(findings, args.strict)
    for note in policy.notes:
        say(f"note: {note}")
    for finding in findings:
        if finding.severity is Severity.WARNING and finding not in blocking:
            say("warning: " + " ".join(_describe(finding, judgement)[:2]))
    summary = (f"{progress.blobs_judged} new blobs of {len(judgement.commits)} new commits "
               f"judged in {elapsed:.1f} s by {policy.origin}")
    if not judgement.complete:
        return _answer_unjudged(updates, settings, bypass, environ, say, blocking,
                                judgement=judgement, summary=summary)
    if not blocking:
        if bypass is not None and settings.allow_bypass:
            _log(settings, "bypass-unneeded", updates, bypass, environ, [], say)
        if progress.blobs_total:
            say(f"push accepted: {summary}")
        return EXIT_OK
    if _bypassed(settings, bypass, updates, environ, blocking, judgement, say):
        return EXIT_OK
    say(f"push rejected: {len(blocking)} blocking finding"
        f"{'' if len(blocking) == 1 else 's'}; nothing was stored on the server")
    shown = blocking[:args.max_shown] if args.max_shown > 0 else blocking
    for finding in shown:
        say("")
        for line in _describe(finding, judgement):
            say(line)
    if len(shown) < len(blocking):
        say(f"\n... and {len(blocking) - len(shown)} more; `certwarden scan --range "
            f"<remote branch>..<local branch>` lists them all on your machine")
    say("")
    say("Every pushed commit is published, so a later commit that deletes the file does "
        "not help:\nrewrite the commits that add it (git rebase -i, git commit --amend, or "
        "git filter-repo),\nthen push again.")
    say(summary)
    return EXIT_REJECTED


def _bypassed(settings: Settings, bypass: str | None, updates: list[RefUpdate],
              environ: Mapping[str, str], blocking: list[Finding],
              judgement: PushJudgement | None, say: _Speaker) -> bool:
    """Accept despite blocking findings (or an incomplete judgement) when the pusher asked
    for a bypass with a reason, the administrator allows bypasses, and the log is written."""
    if bypass is None:
        return False
    if not settings.allow_bypass:
        say(f"{BYPASS_OPTION} was asked for, but this server does not allow bypasses "
            "(git config certwarden.allowBypass)")
        return False
    if not bypass:
        say(f"{BYPASS_OPTION} needs a reason: git push -o '{BYPASS_OPTION}=<why>'")
        return False
    if not _log(settings, "bypass", updates, bypass, environ, blocking, say,
                complete=judgement.complete if judgement else False):
        say("no bypass without its entry in the audit log")
        return False
    say(f"BYPASS by {pusher(environ)}: {bypass!r}; logged to {settings.audit_log}")
    for finding in blocking:
        for line in _describe(finding, judgement or PushJudgement()):
            say(f"bypassed: {line}")
    say("push accepted despite the findings above (emergency bypass)")
    return True


def _answer_unjudged(updates: list[RefUpdate], settings: Settings, bypass: str | None,
                     environ: Mapping[str, str], say: _Speaker, blocking: list[Finding], *,
                     judgement: PushJudgement | None = None, summary: str = "") -> int:
    """Time ran out: what was found so far still rejects; otherwise the administrator's
    on-timeout setting decides, failing closed by default."""
    progress = judgement.progress if judgement else Progress()
    total = f"{progress.blobs_judged} of {progress.blobs_total} new blobs" if \
        progress.blobs_total else "the push"
    say(f"this push is too large to judge within {settings.time_budget:g} s (judged {total})")
    if _bypassed(settings, bypass, updates, environ, blocking, judgement, say):
        return EXIT_OK
    if not blocking and settings.on_timeout == "accept":
        if not _log(settings, "timeout-accepted", updates, "", environ, [], say,
                    complete=False):
            say("push rejected: a push is accepted unjudged only with its entry in the "
                "audit log; nothing was stored")
            return EXIT_REJECTED
        say("push accepted without a full judgement: this server is set to accept on timeout "
            "(certwarden.onTimeout = accept); logged")
        return EXIT_OK
    for finding in blocking:
        say("")
        for line in _describe(finding, judgement or PushJudgement()):
            say(line)
    say("push rejected (a push that cannot be judged in time is not accepted); nothing was "
        "stored.\nPush fewer commits at a time, e.g. `git push origin <older commit>:<branch>` "
        "first,\nor ask the server's administrator.")
    if summary:
        say(summary)
    return EXIT_REJECTED


def _log(settings: Settings, event: str, updates: list[RefUpdate], reason: str,
         environ: Mapping[str, str], blocking: list[Finding], say: _Speaker, *,
         complete: bool = True) -> bool:
    """One JSON line per event in the audit log: who, when, which refs, why, what was
    bypassed (rule, COMMIT:PATH, fingerprint; never file content)."""
    import json
    from datetime import datetime, timezone

    entry = {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "event": event, "pusher": pusher(environ), "reason": reason,
        "refs": [{"ref": u.ref, "old": u.old, "new": u.new} for u in updates],
        "judged_completely": complete,
        "blocking": [{"rule": f.rule.id, "path": f.path, "fingerprint": f.fingerprint}
                     for f in blocking],
    }
    try:
        os.makedirs(os.path.dirname(os.path.abspath(settings.audit_log)), exist_ok=True)
        with open(settings.audit_log, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(entry, sort_keys=True) + "\n")
    except OSError as exc:
        say(f"cannot write the audit log {settings.audit_log} ({exc.strerror})")
        return False
    return True
