"""`certwarden inventory --appliance NAME`: one appliance's certificate, key and chain,
field by field against the policy, as `certwarden inspect` shows a file."""

from __future__ import annotations

from certwarden.context import RuleContext
from certwarden.findings import Finding
from certwarden.inventory.model import Inventory

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO


def _key_findings(path: str, data: bytes, context: RuleContext) -> list[Finding]:
    """The keys group on the appliance's key file, after policy."""
    from certwarden import pipeline
    from certwarden.groups import load
    from certwarden.sources import SourceFile

    report = pipeline.check_files([SourceFile(path, data, len(data))], [load("keys")], context)
    return pipeline.apply_policy(report.findings, context.config)


def write_appliance(inventory: Inventory, context: RuleContext, stream: TextIO) -> list[Finding]:
    """Print the appliance's view; return the key's findings (they count for the exit)."""
    from certwarden.inspection import certificate_rows, key_rows, render
    from certwarden.inventory.facts import certificates_in
    from certwarden.passphrases import passphrase_for
    from certwarden.recognition.keys import find_keys
    from certwarden.reporters.text import display_path, use_colour

    config = context.config
    colour = use_colour(stream)
    entry = inventory.appliances[0]
    appliance = entry.appliance
    stream.write(f"appliance {display_path(appliance.name)} ({appliance.role}), "
                 f"cn {display_path(appliance.cn)}\n")
    path = appliance.certificate
    stream.write(f"  certificate  {display_path(path) if path else '(none named)'}\n")
    key_path = appliance.key or next((r.key_path for r in inventory.rows if r.key_path), None)
    stream.write(f"  key          {display_path(key_path) if key_path else '(none found)'}\n")
    stream.write(f"  chain        {display_path(config.chain) if config.chain else '(none)'}\n")
    data = context.neighbours.read(path) if path else None
    if path and data is not None:
        loaded = certificates_in(data, path, passphrase=passphrase_for(path, config),
                                 chain_file=False)
        for obj in loaded.objects:
            row = next((r for r in inventory.rows if r.fingerprint == obj.fingerprint), None)
            if obj.certificate is None or row is None:
                continue
            kind = "CA certificate" if row.is_ca else "certificate"
            days = row.days_left
            left = ("dates unreadable" if days is None else f"{days} days left" if days >= 0
                    else f"expired {-days} days ago")
            state = left if row.status == "expired" else f"{row.status}, {left}"
            title = (f"{kind} #{row.position} of {display_path(path)}: {state}, "
                     f"SHA-256 {row.fingerprint[:16]}...")
            render(title, certificate_rows(obj, config), row.findings, stream, colour=colour)
            if row.chain is not None:
                stream.write(f"  chain of trust: {row.chain}"
                             f"{': ' + row.chain_detail if row.chain_detail else ''}\n")
    key_findings: list[Finding] = []
    key_data = context.neighbours.read(key_path) if key_path else None
    if key_path and key_data is not None:
        key_findings = _key_findings(key_path, key_data, context)
        for key in find_keys(key_data, config=config).keys:
            where = f" (line {key.line})" if key.line else ""
            render(f"private key in {display_path(key_path)}{where}", key_rows(key),
                   [f for f in key_findings if f.line == key.line], stream, colour=colour)
            match = next((r.key_matches for r in inventory.rows if r.key_path == key_path),
                         None)
            stream.write("  matches the certificate: "
                         f"{ {True: 'yes', False: 'NO', None: 'not verified (encrypted)'}[match]}"
                         "\n")
    findings = entry.findings + [f for r in inventory.rows for f in r.findings] + key_findings
    stream.write("\n")
    seen = set()
    for finding in findings:
        line = f"{finding.severity.value}: {finding.rule.id}: {finding.message}"
        if line not in seen:
            seen.add(line)
            stream.write(line + "\n")
    blocking = sorted({f.rule.id for f in findings if f.blocks(strict=inventory.strict)})
    if blocking:
        stream.write(f"\nblocked by: {', '.join(blocking)}\n")
    else:
        stream.write(f"\n{display_path(appliance.name)}: meets the policy\n")
    return key_findings
