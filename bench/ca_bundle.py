"""Benchmark: check-certificates on one 348-certificate CA bundle (issue 12: well under a
second), with two malformed CAs in it, and the same bundle without them.

    python -m bench.ca_bundle [--runs 7]

The bundles are built at run time by the odd-certificate test builders (tests/), so this
needs the test extra: pip install '.[test]'.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tests import odd_certificates

from bench.measure import measure, table
from bench.private_keys import tool

HERE = Path(__file__).parent
NOW = "2026-06-01T00:00:00Z"  # the builders date certificates relative to tests.pki.NOW


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    folder = HERE / "out" / "ca-bundle"
    folder.mkdir(parents=True, exist_ok=True)
    bundles = {"ca-bundle.pem": odd_certificates.large_ca_bundle(),
               "ca-bundle-clean.pem": odd_certificates.ca_bundle(348, malformed={})}
    certwarden = tool("certwarden")
    rows = []
    for name, bundle in bundles.items():
        (folder / name).write_bytes(bundle.data)
        rows.append((measure(f"certwarden check --group certificates, {name} "
                             f"({bundle.count} certificates)",
                             [certwarden, "check", "--group", "certificates", "--now", NOW,
                              "--", name], folder, runs=args.runs), None))
    print(table(rows))


if __name__ == "__main__":
    main()
