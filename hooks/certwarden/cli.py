"""The `certwarden` command line. Exit status: 0 clean, 1 blocking finding, 2 usage error."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone

from certwarden import __version__
from certwarden.config import Config, ConfigError, load_config

TYPE_CHECKING = False
if TYPE_CHECKING:
    from certwarden.findings import Report
    from certwarden.groups import Group
    from certwarden.sources import SourceFile

EXIT_OK, EXIT_BLOCKED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def _parse_now(value: str) -> datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--now {value!r} is not an ISO-8601 date or time, e.g. 2027-01-31T12:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _common(parser: argparse.ArgumentParser) -> None:
    from certwarden.reporters import formats

    parser.add_argument("--format", choices=formats(), default="text", help="output format")
    parser.add_argument("--config", metavar="FILE",
                        help="configuration file (default: .certwarden.toml or "
                             "[tool.certwarden] in pyproject.toml at the repository root)")
    parser.add_argument("--now", type=_parse_now, metavar="ISO-8601",
                        help="the time the validity rules use (default: now)")
    parser.add_argument("--strict", action="store_true", help="warnings block too")
    parser.add_argument("--fetch-crl", action="store_true",
                        help="fetch each certificate's http:// CRL (as crl-fetch = true)")


def build_parser() -> argparse.ArgumentParser:
    from certwarden.groups import NAMES, default_names

    parser = argparse.ArgumentParser(
        prog="certwarden", allow_abbrev=False,
        description="Keep non-compliant certificates and unencrypted private keys out of git. "
                    "Everything after `--` is a path, even if it looks like an option.")
    parser.add_argument("--version", action="version", version=f"certwarden {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    # No abbreviations anywhere: a staged file named `--he` must never become `--help`.
    add_parser = commands.add_parser
    commands.add_parser = (  # type: ignore[method-assign]
        lambda name, **kwargs: add_parser(name, allow_abbrev=False, **kwargs))
    file_groups = ", ".join(default_names(repository=False))

    check = commands.add_parser("check", help="check files (default: the staged blobs)")
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help="files or folders to check (after `--`, every argument is a "
                            "path); none: the staged blobs of the git index")
    check.add_argument("--secrets-baseline", "--baseline", metavar="FILE",
                       help="detect-secrets baseline (default: .secrets.baseline at the "
                            "root; --baseline as in detect-secrets-hook)")
    for kind in ("lines", "files", "secrets"):
        check.add_argument(f"--exclude-{kind}", action="append", metavar="REGEX",
                           dest=f"exclude_{kind}",
                           help=f"detect-secrets: ignore {kind} matching REGEX (repeatable)")
    check.add_argument("--group", action="append", choices=NAMES,
                       help=f"run only this group of rules (repeatable; default: "
                            f"{file_groups}; unique judges the whole git index)")
    _common(check)

    scan = commands.add_parser("scan", help="check every tracked file (the git index)")
    what = scan.add_mutually_exclusive_group()
    what.add_argument("--history", action="store_true",
                      help="check every blob ever committed instead, once each")
    what.add_argument("--range", metavar="A..B",
                      help="every blob the commits of B that A lacks introduce, including "
                           "ones a later commit deletes (reported as COMMIT:PATH)")
    what.add_argument("--since", metavar="REF", help="as --range REF..HEAD")
    what.add_argument("--pushed", action="store_true",
                      help="the commits being pushed (the check-push hook: pre-commit's "
                           "PRE_COMMIT_FROM_REF/TO_REF; without them, what no remote has)")
    scan.add_argument("--group", action="append", choices=NAMES,
                      help="run only this group of rules (repeatable; default: all; for "
                           "commits: certificates, keys, unique, and secrets when a "
                           "secrets baseline is configured)")
    # Manifest entries end with `--` (check-push); scan itself takes no paths.
    scan.add_argument("no_paths", nargs="*", metavar="", help=argparse.SUPPRESS)
    _common(scan)

    from certwarden.server_options import add_arguments as add_pre_receive_arguments

    add_pre_receive_arguments(commands.add_parser(
        "pre-receive", help="git server hook: judge every blob a push introduces (stdin: "
                            "<old> <new> <ref> lines); exit 1 rejects the push"), _parse_now)

    baseline = commands.add_parser(
        "baseline", help="write .certwarden-baseline.json from today's findings")
    baseline.add_argument("--config", metavar="FILE")
    baseline.add_argument("--now", type=_parse_now, metavar="ISO-8601")
    baseline.add_argument("--output", metavar="FILE",
                          help="where to write it (default: the configured baseline)")

    inspect = commands.add_parser("inspect", help="one file, field by field, against the policy")
    inspect.add_argument("file", metavar="FILE")
    inspect.add_argument("--config", metavar="FILE")
    inspect.add_argument("--now", type=_parse_now, metavar="ISO-8601")

    new_csr = commands.add_parser(
        "new-csr", help="write an encrypted key and a CSR that meet the policy")
    new_csr.add_argument("--cn", required=True, help="the appliance's domain name")
    new_csr.add_argument("--country", required=True, help="ISO 3166 two-letter code")
    new_csr.add_argument("--org", required=True, help="organization (subject O)")
    new_csr.add_argument("--org-unit", required=True, help="organizational unit (subject OU)")
    new_csr.add_argument("--key-size", type=int, choices=(2048, 4096), default=2048)
    new_csr.add_argument("--self-signed", action="store_true",
                         help="also write a self-signed lab certificate")
    new_csr.add_argument("--crl-url", metavar="URL",
                         help="http:// CRL URL for the lab certificate (crl-mode require)")
    new_csr.add_argument("--days", type=int, default=365,
                         help="validity of the lab certificate (default 365)")
    new_csr.add_argument("--passphrase-env", metavar="VAR",
                         help="environment variable holding the key's passphrase "
                              "(default: ask twice, without echo)")
    new_csr.add_argument("--out-dir", required=True, metavar="DIR")
    new_csr.add_argument("--config", metavar="FILE")

    _inventory_parser(commands)

    rules = commands.add_parser("rules", help="list every rule")
    rules.add_argument("--format", choices=("text", "json", "markdown"), default="text")

    explain = commands.add_parser("explain", help="explain one rule")
    explain.add_argument("rule", metavar="RULE")

    demo = commands.add_parser("demo", help="generate an example repository and check it")
    demo.add_argument("folder", nargs="?",
                      help="where to write the example (default: a new temporary folder)")

    passphrase = commands.add_parser(
        "check-passphrase", help="is this passphrase allowed? (no-echo prompt, or stdin)")
    passphrase.add_argument("--stdin", action="store_true",
                            help="read the passphrase from standard input")
    return parser


def _inventory_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from certwarden.inventory.formats import FORMATS

    inventory = commands.add_parser(
        "inventory", help="every certificate: appliance, expiry, key, verdict")
    inventory.add_argument("paths", nargs="*", metavar="PATH",
                           help="files or folders (default: the git index)")
    inventory.add_argument("--format", choices=FORMATS, default="text", help="output format")
    inventory.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    inventory.add_argument("--expiring-within", type=_days, metavar="DAYS",
                           help="exit 1 when a certificate expires within DAYS days")
    inventory.add_argument("--appliance", metavar="NAME",
                           help="one appliance of the manifest: certificate, key, chain")
    inventory.add_argument("--config", metavar="FILE")
    inventory.add_argument("--now", type=_parse_now, metavar="ISO-8601",
                           help="the time expiry is measured from (default: now)")
    inventory.add_argument("--strict", action="store_true", help="warnings block too")
    inventory.add_argument("--fetch-crl", action="store_true",
                           help="fetch each certificate's http:// CRL (as crl-fetch = true)")


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = -1
    if days < 0:
        raise argparse.ArgumentTypeError(f"expected a number of days >= 0, got {value!r}")
    return days


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    """Command-line options that change the configuration, as config keys: merged into
    the file's table by load_config, validated the same way."""
    overrides: dict[str, object] = {}
    if getattr(args, "fetch_crl", False):
        overrides["crl-fetch"] = True
    excludes = {kind: patterns for kind in ("lines", "files", "secrets")
                if (patterns := getattr(args, f"exclude_{kind}", None))}
    if excludes:
        overrides["secrets-exclude"] = excludes
    if getattr(args, "secrets_baseline", None):
        from certwarden.config import find_repository_root

        root = find_repository_root(os.getcwd())
        overrides["secrets-baseline"] = os.path.relpath(os.path.abspath(args.secrets_baseline),
                                                        root)
    return overrides


def _context(args: argparse.Namespace) -> tuple[Config, datetime]:
    config = load_config(args.config, overrides=_overrides(args))
    now = args.now or datetime.now(timezone.utc)
    return config, now


def _report(args: argparse.Namespace, report: Report, root: str = ".") -> int:
    from certwarden.reporters import ReportOptions, reporter

    for note in report.notes:
        sys.stderr.write(f"certwarden: {note}\n")
    reporter(args.format).write(report, sys.stdout, ReportOptions(strict=args.strict, root=root))
    return EXIT_BLOCKED if report.blocking(strict=args.strict) else EXIT_OK


def _groups(args: argparse.Namespace, *, repository: bool) -> list[Group]:
    from certwarden.groups import default_names, load_all

    names = list(dict.fromkeys(args.group)) if args.group else default_names(
        repository=repository)
    return load_all(names)


def cmd_check(args: argparse.Namespace) -> int:
    from certwarden import pipeline, sources
    from certwarden.context import RuleContext
    from certwarden.groups import FILE
    from certwarden.neighbours import GitIndex, WorkingTree

    config, now = _context(args)
    groups = _groups(args, repository=False)
    if args.paths:
        missing = [path for path in args.paths if not os.path.lexists(path)]
        if missing:
            raise UsageError(f"no such file: {missing[0]}")
        report = pipeline.run_paths(args.paths, groups=groups, context=RuleContext(
            config, now, WorkingTree(config.max_file_bytes)),
            staged=_staged_blobs(args.paths, config.root))
    else:
        context = RuleContext(config, now, GitIndex(config.root, config.max_file_bytes))
        # Only file groups read the staged blobs; a repository-wide hook reads the index.
        files = (sources.read_staged(config.root, max_bytes=config.max_file_bytes)
                 if any(group.scope == FILE for group in groups) else iter(()))
        report = pipeline.run(files, groups=groups, context=context)
    return _report(args, report, config.root)


def _staged_blobs(paths: list[str], root: str) -> dict[str, str]:
    """Under pre-commit, the named files a git filter or working-tree-encoding converts
    are judged on their staged blob, not on the disk (path -> blob id)."""
    if os.environ.get("PRE_COMMIT") != "1":
        return {}
    from certwarden import sources

    return sources.staged_blobs_that_differ(paths, root)


def _progress(files: Iterator[SourceFile], total: int) -> Iterator[SourceFile]:
    """A progress line on a terminal (stderr), nothing otherwise."""
    if not sys.stderr.isatty():
        yield from files
        return
    for count, source in enumerate(files, 1):
        if count % 50 == 0 or count == total:
            sys.stderr.write(f"\rcertwarden: {count}/{total} blobs")
            sys.stderr.flush()
        yield source
    sys.stderr.write("\n")


def cmd_scan(args: argparse.Namespace) -> int:
    from certwarden.revisions import published_objects

    if args.no_paths:
        raise UsageError(f"scan takes no paths (got {args.no_paths[0]!r}); use check PATH")
    with published_objects():
        return _scan(args)


def _scan(args: argparse.Namespace) -> int:
    from certwarden import baseline, pipeline, sources
    from certwarden.context import RuleContext
    from certwarden.groups import FILE
    from certwarden.neighbours import GitIndex

    config, now = _context(args)
    if args.range or args.since or args.pushed:
        return _scan_commits(args, config, now)
    context = RuleContext(config, now, GitIndex(config.root, config.max_file_bytes))
    if args.history:
        entries = sources.history_entries(config.root)
        files = _progress(sources.read_blobs(config.root, entries,
                                             max_bytes=config.max_file_bytes), len(entries))
        # History has no index to judge as a whole: the file groups only.
        groups = [g for g in _groups(args, repository=True) if g.scope == FILE]
        report = pipeline.run(files, groups=groups, context=context)
    else:
        files = sources.read_tracked(config.root, max_bytes=config.max_file_bytes)
        report = pipeline.run(files, groups=_groups(args, repository=True), context=context)
        report.notes.extend(baseline.stale_notes(config, report))
    return _report(args, report, config.root)


def _scan_commits(args: argparse.Namespace, config: Config, now: datetime) -> int:
    """scan --range/--since/--pushed: what commits introduce (certwarden.history)."""
    from certwarden import history, revisions
    from certwarden.groups import load_all

    if args.range:
        walk, tips = revisions.range_walk(args.range)
    elif args.since:
        walk, tips = revisions.range_walk(f"{revisions.check_revision(args.since)}..HEAD")
    else:
        walk, tips = revisions.pushed_walk(os.environ)
    names = list(dict.fromkeys(args.group)) if args.group else history.default_group_names(
        config)
    report = history.scan(config.root, walk, tips, groups=load_all(names), config=config,
                          now=now)
    return _report(args, report, config.root)


def cmd_pre_receive(args: argparse.Namespace) -> int:
    from certwarden.server import pre_receive

    return pre_receive(args)


def cmd_baseline(args: argparse.Namespace) -> int:
    from certwarden import baseline, pipeline, sources
    from certwarden.context import RuleContext
    from certwarden.groups import NAMES, load_all
    from certwarden.neighbours import GitIndex

    config, now = _context(args)
    files = sources.read_tracked(config.root, max_bytes=config.max_file_bytes)
    report = pipeline.run(files, groups=load_all(NAMES), use_baseline=False,
                          context=RuleContext(config, now,
                                              GitIndex(config.root, config.max_file_bytes)))
    target = args.output or baseline.baseline_path(config.root, config.baseline)
    count = baseline.write(target, report.findings)
    sys.stdout.write(f"certwarden: wrote {count} baseline entries to {target}\n")
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from certwarden.registry import all_rules, markdown_table

    if args.format == "markdown":
        sys.stdout.write(markdown_table())
    elif args.format == "json":
        import json

        json.dump([{"id": r.id, "group": r.group, "severity": r.severity.value,
                    "summary": r.summary, "policy": r.policy, "hint": r.hint,
                    "security_severity": r.security_severity} for r in all_rules()],
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        width = max(len(r.id) for r in all_rules())
        for rule in all_rules():
            sys.stdout.write(f"{rule.id:<{width}}  {rule.severity.value:<7}  {rule.summary}\n")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from certwarden.registry import rules_by_id

    rule = rules_by_id().get(args.rule)
    if rule is None:
        raise UsageError(f"unknown rule {args.rule!r}; `certwarden rules` lists them")
    sys.stdout.write(
        f"{rule.id} ({rule.severity.value}, {rule.group})\n\n"
        f"Checks: {rule.summary}\nPolicy: {rule.policy}\nFix:    {rule.hint_for('FILE')}\n")
    return EXIT_OK


def cmd_check_passphrase(args: argparse.Namespace) -> int:
    from certwarden.passphrases import allowed_set_description, count_disallowed

    if args.stdin or not sys.stdin.isatty():
        candidate = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        candidate = getpass.getpass("Passphrase (not echoed): ")
    if not candidate:
        sys.stderr.write("certwarden: error: empty passphrase\n")
        return EXIT_BLOCKED
    bad = count_disallowed(candidate)
    if bad:
        from certwarden.rules.key_rules import PASSPHRASE_CHARSET

        sys.stdout.write(f"{PASSPHRASE_CHARSET.id}: the passphrase has {bad} character(s) the "
                         f"appliance does not accept; allowed: {allowed_set_description()}\n")
        return EXIT_BLOCKED
    sys.stdout.write("passphrase: allowed by the policy\n")
    return EXIT_OK


def cmd_inspect(args: argparse.Namespace) -> int:
    from certwarden.inspection import inspect_file

    config, now = _context(args)
    return inspect_file(args.file, config=config, now=now, stream=sys.stdout)


def _new_passphrase(variable: str | None) -> str:
    from certwarden.csr_builder import RequestError

    if variable:
        value = os.environ.get(variable)
        if not value:
            raise RequestError(f"--passphrase-env {variable}: the variable is not set")
        return value
    if not sys.stdin.isatty():
        raise RequestError("no terminal to ask for a passphrase: use --passphrase-env VAR")
    import getpass

    first = getpass.getpass("Passphrase for the new key (not echoed): ")
    if first != getpass.getpass("Same passphrase again: "):
        raise RequestError("the two passphrases differ")
    return first


def cmd_new_csr(args: argparse.Namespace) -> int:
    from certwarden import csr_builder

    config = load_config(args.config)
    try:
        request = csr_builder.Request(cn=args.cn, country=args.country, org=args.org,
                                      org_unit=args.org_unit, key_size=args.key_size,
                                      self_signed=args.self_signed, crl_url=args.crl_url,
                                      days=args.days)
        csr_builder.validate(request, config)
        passphrase = _new_passphrase(args.passphrase_env)
        csr_builder.validate_passphrase(passphrase)
        written = csr_builder.create(request, config=config, passphrase=passphrase.encode(),
                                     out_dir=args.out_dir)
    except csr_builder.RequestError as exc:
        sys.stderr.write(f"certwarden: error: {exc}\n")
        return EXIT_USAGE
    for path in written:
        sys.stdout.write(f"wrote {path}\n")
    sys.stdout.write("next: have your CA sign the CSR; keep the passphrase out of git\n")
    return EXIT_OK


def cmd_inventory(args: argparse.Namespace) -> int:
    from certwarden.inventory.command import UnknownAppliance, run

    config, now = _context(args)
    missing = [path for path in args.paths if not os.path.lexists(path)]
    if missing:
        raise UsageError(f"no such file: {missing[0]}")
    try:
        return run(config=config, now=now, paths=args.paths, output_format=args.format,
                   output=args.output, expiring_within=args.expiring_within,
                   appliance=args.appliance, strict=args.strict, stdout=sys.stdout)
    except UnknownAppliance as exc:
        raise UsageError(str(exc)) from None
    except BrokenPipeError:
        raise
    except OSError as exc:
        if args.output is None:
            raise
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None


def cmd_demo(args: argparse.Namespace) -> int:
    from certwarden.demo import run_demo

    return run_demo(args.folder)


HANDLERS = {
    "baseline": cmd_baseline,
    "demo": cmd_demo,
    "inspect": cmd_inspect,
    "inventory": cmd_inventory,
    "new-csr": cmd_new_csr,
    "check": cmd_check,
    "scan": cmd_scan,
    "rules": cmd_rules,
    "explain": cmd_explain,
    "check-passphrase": cmd_check_passphrase,
    "pre-receive": cmd_pre_receive,
}


def main(argv: Sequence[str] | None = None) -> int:
    from certwarden.sources import GitError

    # cryptography warns on odd but loadable certificates; findings already say what matters.
    warnings.simplefilter("ignore")
    # File names that are not valid UTF-8 reach us as surrogates; print them escaped.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return HANDLERS[args.command](args)
    except (ConfigError, UsageError, GitError) as exc:
        sys.stderr.write(f"certwarden: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
