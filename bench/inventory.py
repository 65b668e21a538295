"""Benchmark: `certwarden inventory` over 10,000 certificates in the git index, each with
an encrypted key beside it, a CA chain, and (optionally) an appliance manifest; first run
(cold cache) and rerun (cache keyed by blob id under .git/certwarden); and the size of the
HTML report for 1,000 certificates.

    python -m bench.inventory [--count 10000] [--appliances 0] [--runs 5] [--html 1000]
                              [--without-keys]

Targets (issue 15): under 3 s cold, under 0.5 s cached; HTML for 1,000 certificates
under 1.5 MB. Not a test: timings depend on the machine. Cold, each encrypted key costs
one key derivation: the key rules try the empty passphrase on it (a key that opens with
it is unencrypted), about 0.45 ms each for PBKDF2 at 2,048 iterations; --without-keys
measures the certificates alone.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from bench.measure import run_once
from bench.private_keys import tool

HERE = Path(__file__).parent
NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)
NOW_ISO = "2026-06-01T00:00:00Z"
CRL = "http://crl.plant.example.com/issuing.crl"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Corp"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Plant Engineering"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def generate(folder: Path, count: int, appliances: int, keys: bool = True) -> None:
    """`count` appliance certificates (EC keys: fast to make; the inventory reads them as it
    reads RSA ones) issued by an RSA CA over a spread of expiry dates, each with its
    encrypted key beside it unless `keys` is false."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name("Bench Issuing CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(NOW - datetime.timedelta(days=400))
          .not_valid_after(NOW + datetime.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
          .sign(ca_key, hashes.SHA256()))
    (folder / "pki").mkdir()
    (folder / "pki" / "chain.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    encryption = serialization.BestAvailableEncryption(b"Bench-Pass.1")
    # EC keys are allowed here so that, as in a compliant plant, most certificates have no
    # finding (the inventory's work is the same for RSA ones).
    manifest = ['chain = "pki/chain.pem"', 'key-types = ["rsa", "ec"]',
                "key-sizes = [256, 2048, 4096]", ""]
    for index in range(count):
        key = ec.generate_private_key(ec.SECP256R1())
        cn = f"sensor{index}.plant.example.com"
        cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca_name)
                .public_key(key.public_key()).serial_number(index + 2)
                .not_valid_before(NOW - datetime.timedelta(days=30))
                .not_valid_after(NOW + datetime.timedelta(days=(index * 7) % 900 - 30))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), False)
                .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                    [x509.UniformResourceIdentifier(CRL)], None, None, None)]), False)
                .sign(ca_key, hashes.SHA256()))
        stem = folder / f"site{index % 50}" / f"sensor{index}"
        stem.parent.mkdir(exist_ok=True)
        stem.with_suffix(".crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        if keys:
            stem.with_suffix(".key").write_bytes(key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
        if index < appliances:
            manifest += ["[[appliances]]", f'name = "sensor-{index}"', 'role = "sensor"',
                         f'cn = "{cn}"', f'certificate = "site{index % 50}/sensor{index}.crt"',
                         ""]
    (folder / ".certwarden.toml").write_text("\n".join(manifest))
    # Committed and packed, as a clone is (loose objects cost git more than us to read).
    for command in (["init", "-q", "-b", "main"], ["add", "-A"],
                    ["-c", "gc.auto=0", "-c", "user.name=bench",
                     "-c", "user.email=bench@example.invalid", "commit", "-q", "-m", "plant"],
                    ["gc", "-q"]):
        subprocess.run(["git", *command], cwd=folder, check=True)


def _median(samples: list[tuple[float, float, float, int]]) -> str:
    wall = statistics.median(s[0] for s in samples)
    cpu = statistics.median(s[1] for s in samples)
    codes = sorted({s[3] for s in samples})
    return f"median wall {wall:.3f} s, CPU {cpu:.3f} s, peak RSS " \
           f"{max(s[2] for s in samples):.0f} MB, exit {codes}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--appliances", type=int, default=0,
                        help="appliances in the manifest (the first N certificates)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--html", type=int, default=1000,
                        help="certificates in the HTML size check")
    parser.add_argument("--without-keys", action="store_true",
                        help="certificates only, no encrypted key beside each")
    args = parser.parse_args()
    keys = not args.without_keys
    folder = HERE / "out" / (f"inventory-{args.count}-{args.appliances}"
                             + ("" if keys else "-nokeys"))
    if not (folder / ".git").exists():
        generate(folder, args.count, args.appliances, keys)
    command = [tool("certwarden"), "inventory", "--now", NOW_ISO]
    cache = folder / ".git" / "certwarden"
    cold = []
    for _ in range(args.runs):
        shutil.rmtree(cache, ignore_errors=True)
        cold.append(run_once(command, folder))
    run_once(command, folder)
    warm = [run_once(command, folder) for _ in range(args.runs)]
    warm_json = [run_once([*command, "--format", "json"], folder) for _ in range(args.runs)]
    print(f"inventory, {args.count} certificates{' and keys' if keys else ''}, "
          f"{args.appliances} appliances "
          f"(load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"  cold cache, text:  {_median(cold)}")
    print(f"  blob cache, text:  {_median(warm)}")
    print(f"  blob cache, json:  {_median(warm_json)}")
    small = HERE / "out" / f"inventory-{args.html}-{args.html}"
    if not (small / ".git").exists():
        generate(small, args.html, args.html)
    report = small / "inventory.html"
    subprocess.run([tool("certwarden"), "inventory", "--now", NOW_ISO, "--format", "html",
                    "--output", str(report)], cwd=small, check=False)
    print(f"HTML report, {args.html} certificates in a {args.html}-appliance manifest: "
          f"{report.stat().st_size / 1e6:.2f} MB ({report})")


if __name__ == "__main__":
    main()
