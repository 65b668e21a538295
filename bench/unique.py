"""Benchmark: check-unique-certificates over 10,000 certificates in the git index,
first run (cold cache) and rerun (cache keyed by blob id under .git/certwarden).

    python -m bench.unique [--count 10000] [--runs 5]

Target (issue 4): under 5 s on this machine.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bench.measure import measure, run_once, table
from bench.private_keys import tool

HERE = Path(__file__).parent


def generate(folder: Path, count: int) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    issuer_key = ec.generate_private_key(ec.SECP256R1())  # fast signatures for the fixture
    now = datetime.datetime.now(datetime.timezone.utc)
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench CA")])
    for index in range(count):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                             f"sensor{index}.plant.example.com")])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer)
                .public_key(key.public_key()).serial_number(index + 1)
                .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=90))
                .sign(issuer_key, hashes.SHA256()))
        target = folder / f"site{index % 50}" / f"sensor{index}.crt"
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=folder, check=True)
    subprocess.run(["git", "add", "-A"], cwd=folder, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = HERE / "out" / f"unique-{args.count}"
    if not (folder / ".git").exists():
        generate(folder, args.count)
    command = [tool("certwarden"), "check", "--group", "unique"]
    cache = folder / ".git" / "certwarden"
    cold = []
    for _ in range(args.runs):
        shutil.rmtree(cache, ignore_errors=True)
        cold.append(run_once(command, folder))
    cold.sort()
    warm = measure(f"certwarden check --group unique, {args.count} certificates, cached",
                   command, folder, runs=args.runs)
    print(f"cold cache: median wall {cold[len(cold) // 2][0]:.3f} s, "
          f"CPU {cold[len(cold) // 2][1]:.3f} s")
    print(table([(warm, None)]))


if __name__ == "__main__":
    main()
