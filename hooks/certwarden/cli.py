"""The `certwarden` command line. Exit status: 0 clean, 1 blocking finding, 2 usage error."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone

from certwarden import __version__
from certwarden.config import Config, ConfigError, load_config

TYPE_CHECKING = False
if TYPE_CHECKING:
    from certwarden.sources import SourceFile

EXIT_OK, EXIT_BLOCKED, EXIT_USAGE = 0, 1, 2
GROUP_CHOICES = ("certificates", "keys", "secrets", "unique")


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


def _common(parser: argparse.ArgumentParser, *,
            formats: Sequence[str] = ("text", "json", "sarif")) -> None:
    parser.add_argument("--format", choices=formats, default="text", help="output format")
    parser.add_argument("--config", metavar="FILE",
                        help="configuration file (default: .certwarden.toml or "
                             "[tool.certwarden] in pyproject.toml at the repository root)")
    parser.add_argument("--now", type=_parse_now, metavar="ISO-8601",
                        help="the time the validity rules use (default: now)")
    parser.add_argument("--strict", action="store_true", help="warnings block too")
    parser.add_argument("--fetch-crl", action="store_true",
                        help="fetch each certificate's http:// CRL (as crl-fetch = true)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="certwarden",
        description="Keep non-compliant certificates and unencrypted private keys out of git.")
    parser.add_argument("--version", action="version", version=f"certwarden {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    check = commands.add_parser("check", help="check files (default: the staged blobs)")
    check.add_argument("paths", nargs="*", metavar="PATH")
    check.add_argument("--secrets-baseline", "--baseline", metavar="FILE",
                       help="detect-secrets baseline (default: .secrets.baseline at the "
                            "root; --baseline as in detect-secrets-hook)")
    for kind in ("lines", "files", "secrets"):
        check.add_argument(f"--exclude-{kind}", action="append", metavar="REGEX",
                           dest=f"exclude_{kind}",
                           help=f"detect-secrets: ignore {kind} matching REGEX (repeatable)")
    check.add_argument("--group", action="append", choices=GROUP_CHOICES,
                       help="run only this group of rules (repeatable; default: "
                            "certificates and keys; unique judges the whole git index)")
    _common(check)

    scan = commands.add_parser("scan", help="check every tracked file (the git index)")
    scan.add_argument("--history", action="store_true",
                      help="check every blob ever committed instead, once each")
    scan.add_argument("--group", action="append", choices=GROUP_CHOICES,
                      help="run only this group of rules (repeatable; default: all)")
    _common(scan)

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


def _context(args: argparse.Namespace) -> tuple[Config, datetime]:
    config = load_config(args.config)
    if getattr(args, "fetch_crl", False):
        config.crl_fetch = True
    excludes = {kind: getattr(args, f"exclude_{kind}", None) or []
                for kind in ("lines", "files", "secrets")}
    if any(excludes.values()):
        merged = {kind: [*config.secrets_exclude.get(kind, []), *patterns]
                  for kind, patterns in excludes.items()}
        config.secrets_exclude = {kind: patterns for kind, patterns in merged.items() if patterns}
    if getattr(args, "secrets_baseline", None):
        import os

        config.secrets_baseline = os.path.relpath(os.path.abspath(args.secrets_baseline),
                                                  config.root)
    now = args.now or datetime.now(timezone.utc)
    return config, now


def _report(args: argparse.Namespace, report: object, root: str = ".") -> int:
    from certwarden.pipeline import Report

    assert isinstance(report, Report)
    if args.format == "json":
        from certwarden.reporters import json_report

        json_report.write(report, sys.stdout)
    elif args.format == "sarif":
        from certwarden.reporters import sarif

        sarif.write(report, sys.stdout, root=root)
    else:
        from certwarden.reporters import text

        text.write(report, sys.stdout, strict=args.strict)
    return EXIT_BLOCKED if report.blocking(strict=args.strict) else EXIT_OK


def _groups(args: argparse.Namespace, default: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(args.group)) if args.group else list(default)


def cmd_check(args: argparse.Namespace) -> int:
    from certwarden import pipeline, sources
    from certwarden.context import RuleContext
    from certwarden.neighbours import GitIndex, WorkingTree

    config, now = _context(args)
    groups = _groups(args, tuple(pipeline.GROUPS))
    if args.paths:
        report = pipeline.run_paths(args.paths, groups=groups, context=RuleContext(
            config, now, WorkingTree(config.max_file_bytes)))
    elif groups == ["unique"]:  # the repository-wide hook: the index, not the staged files
        report = pipeline.run([], groups=groups, context=RuleContext(
            config, now, GitIndex(config.root, config.max_file_bytes)))
    else:
        files = sources.read_staged(config.root, max_bytes=config.max_file_bytes)
        report = pipeline.run(files, groups=groups, context=RuleContext(
            config, now, GitIndex(config.root, config.max_file_bytes)))
    return _report(args, report, config.root)


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
    from certwarden import baseline, pipeline, sources
    from certwarden.context import RuleContext
    from certwarden.neighbours import GitIndex

    config, now = _context(args)
    context = RuleContext(config, now, GitIndex(config.root, config.max_file_bytes))
    if args.history:
        entries = sources.history_entries(config.root)
        files = _progress(sources.read_blobs(config.root, entries,
                                             max_bytes=config.max_file_bytes), len(entries))
        groups = [g for g in _groups(args, pipeline.ALL_GROUPS) if g in pipeline.GROUPS]
        report = pipeline.run(files, groups=groups, context=context)
    else:
        files = sources.read_tracked(config.root, max_bytes=config.max_file_bytes)
        report = pipeline.run(files, groups=_groups(args, pipeline.ALL_GROUPS),
                              context=context)
        known = baseline.load(baseline.baseline_path(config.root, config.baseline))
        for fingerprint, rule in sorted(known - report.baselined):
            sys.stderr.write(f"certwarden: stale baseline entry {rule} {fingerprint[:16]}: "
                             "its problem is gone; regenerate with `certwarden baseline`\n")
    return _report(args, report, config.root)


def cmd_baseline(args: argparse.Namespace) -> int:
    from certwarden import baseline, pipeline, sources
    from certwarden.context import RuleContext
    from certwarden.neighbours import GitIndex

    config, now = _context(args)
    files = sources.read_tracked(config.root, max_bytes=config.max_file_bytes)
    report = pipeline.run(files, groups=list(pipeline.ALL_GROUPS), use_baseline=False,
                          context=RuleContext(config, now,
                                              GitIndex(config.root, config.max_file_bytes)))
    target = args.output or baseline.baseline_path(config.root, config.baseline)
    count = baseline.write(target, report.findings)
    sys.stdout.write(f"certwarden: wrote {count} baseline entries to {target}\n")
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from certwarden.registry import RULES, markdown_table

    if args.format == "markdown":
        sys.stdout.write(markdown_table())
    elif args.format == "json":
        import json

        json.dump([{"id": r.id, "group": r.group, "severity": r.severity.value,
                    "summary": r.summary, "policy": r.policy, "hint": r.hint,
                    "checked": r.checked} for r in RULES], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        width = max(len(r.id) for r in RULES)
        for rule in RULES:
            status = "" if rule.checked else " (planned)"
            sys.stdout.write(f"{rule.id:<{width}}  {rule.severity.value:<7}  "
                             f"{rule.summary}{status}\n")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from certwarden.registry import RULES_BY_ID

    rule = RULES_BY_ID.get(args.rule)
    if rule is None:
        raise UsageError(f"unknown rule {args.rule!r}; `certwarden rules` lists them")
    sys.stdout.write(
        f"{rule.id} ({rule.severity.value}, {rule.group})"
        f"{'' if rule.checked else ' - planned, not checked yet'}\n\n"
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
        sys.stdout.write(f"passphrase-charset: the passphrase has {bad} character(s) the "
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
        import os

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
    from certwarden.passphrases import allowed_set_description, count_disallowed

    config = load_config(args.config)
    try:
        csr_builder.validate_subject(cn=args.cn, country=args.country, org=args.org,
                                     org_unit=args.org_unit, key_size=args.key_size,
                                     config=config)
        used_by = csr_builder.cn_in_repository(args.cn, config)
        if used_by:
            raise csr_builder.RequestError(f"CN {args.cn!r} is already used by {used_by}; "
                                           "every appliance needs its own CN")
        if args.self_signed and config.crl_mode == "require" and not args.crl_url:
            raise csr_builder.RequestError("crl-mode is require: give the lab certificate "
                                           "its CRL URL with --crl-url http://...")
        if args.crl_url and not args.crl_url.lower().startswith("http://"):
            raise csr_builder.RequestError("--crl-url must be an http:// URL")
        passphrase = _new_passphrase(args.passphrase_env)
        if count_disallowed(passphrase) or not passphrase:
            raise csr_builder.RequestError(
                "the passphrase has characters the appliance does not accept; allowed: "
                f"{allowed_set_description()}")
        written = csr_builder.create(
            cn=args.cn, country=args.country, org=args.org, org_unit=args.org_unit,
            key_size=args.key_size, passphrase=passphrase.encode(), out_dir=args.out_dir,
            self_signed=args.self_signed,
            crl_url=args.crl_url if config.crl_mode != "forbid" else None, days=args.days)
    except csr_builder.RequestError as exc:
        sys.stderr.write(f"certwarden: error: {exc}\n")
        return EXIT_USAGE
    for path in written:
        sys.stdout.write(f"wrote {path}\n")
    sys.stdout.write("next: have your CA sign the CSR; keep the passphrase out of git\n")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from certwarden.demo import run_demo

    return run_demo(args.folder)


HANDLERS = {
    "baseline": cmd_baseline,
    "demo": cmd_demo,
    "inspect": cmd_inspect,
    "new-csr": cmd_new_csr,
    "check": cmd_check,
    "scan": cmd_scan,
    "rules": cmd_rules,
    "explain": cmd_explain,
    "check-passphrase": cmd_check_passphrase,
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
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # pre-commit passes file names as they are: one starting with "-" is a file here.
        import os

        if args.command != "check" or not all(os.path.lexists(u) for u in unknown):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.paths = [*args.paths, *unknown]
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
