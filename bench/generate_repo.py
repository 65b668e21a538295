"""Generate the synthetic benchmark repository: ~5,000 files, ~100 MB, a few hundred keys
and certificates among source, data and binary files.

Deterministic layout and sizes (seeded); key material is generated at run time into the
output folder, which is never committed (bench/out/ is ignored).

    python -m bench.generate_repo [--scale 1.0] [--out bench/out/repo]
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import random
import shutil
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

WORDS = (
    "def", "class", "return", "import", "from", "self", "value", "config", "sensor", "plant",
    "network", "alert", "certificate", "key", "token", "user", "name", "data", "list", "dict",
    "for", "while", "if", "else", "elif", "try", "except", "finally", "with", "as", "lambda",
    "yield", "async", "await", "none", "true", "false", "print", "log", "error", "warning",
    "info", "debug", "request", "response", "handler", "client", "server", "port", "host",
    "path", "file", "open", "read", "write", "close", "update", "delete", "create", "select",
    "insert", "where", "table", "index"
)
SEED = 20261126


def _text(rng: random.Random, size: int) -> bytes:
    lines = []
    total = 0
    while total < size:
        indent = "    " * rng.randint(0, 3)
        line = indent + " ".join(rng.choices(WORDS, k=rng.randint(3, 12))) + "\n"
        lines.append(line)
        total += len(line)
    return "".join(lines).encode()


def _json_blob(rng: random.Random, size: int) -> bytes:
    entries = {}
    total = 0
    while total < size:
        name = "-".join(rng.choices(WORDS, k=3))
        digest = base64.b64encode(rng.randbytes(64)).decode()
        entries[name] = {"version": f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.0",
                         "integrity": f"sha512-{digest}"}
        total += len(name) + 120
    return json.dumps(entries, indent=2).encode()


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Corp"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Plant Engineering"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def appliance_certificate(key: rsa.RSAPrivateKey, cn: str) -> x509.Certificate:
    """A certificate that meets the policy."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=10))
            .not_valid_after(now + datetime.timedelta(days=400))
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier("http://crl.plant.example.com/i.crl")],
                None, None, None)]), critical=False)
            .sign(key, hashes.SHA256()))


def generate(out: Path, *, scale: float = 1.0) -> Path:
    """Write the repository (a git repository with everything staged) and return it."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rng = random.Random(SEED)
    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(8)]
    encrypt = serialization.BestAvailableEncryption(b"bench-Pass-1")
    plain = serialization.NoEncryption()
    pem, der = serialization.Encoding.PEM, serialization.Encoding.DER
    pkcs8 = serialization.PrivateFormat.PKCS8
    traditional = serialization.PrivateFormat.TraditionalOpenSSL
    files: dict[str, bytes] = {}
    count = lambda n: max(1, int(n * scale))  # noqa: E731

    for index in range(count(3900)):
        folder = f"src/{rng.choice(WORDS)}/{rng.choice(WORDS)}"
        extension = rng.choice([".py", ".js", ".go", ".md", ".txt", ".sh"])
        files[f"{folder}/file{index}{extension}"] = _text(rng, rng.randint(2_000, 30_000))
    for index in range(count(500)):
        files[f"data/lock{index}.json"] = _json_blob(rng, rng.randint(5_000, 40_000))
    for index in range(count(300)):
        files[f"assets/image{index}.bin"] = rng.randbytes(rng.randint(20_000, 120_000))
    for index in range(count(120)):
        key = keys[index % len(keys)]
        cert = appliance_certificate(key, f"sensor{index}.plant.example.com")
        files[f"pki/sensor{index}.crt"] = cert.public_bytes(pem)
        files[f"pki/sensor{index}.key"] = key.private_bytes(pem, pkcs8, encrypt)
    for index in range(count(60)):
        cert = appliance_certificate(keys[index % len(keys)], f"console{index}.plant.example.com")
        files[f"pki/der/console{index}.der"] = cert.public_bytes(der)
    for index in range(count(40)):
        key = keys[index % len(keys)]
        body = key.private_bytes(pem, traditional, plain).decode()
        indented = "".join(f"    {line}\n" for line in body.splitlines())
        files[f"deploy/leak{index}.yaml"] = f"tls:\n  key: |\n{indented}".encode()
    for index in range(count(40)):
        files[f"keys/public{index}.pem"] = keys[index % len(keys)].public_key().public_bytes(
            pem, serialization.PublicFormat.SubjectPublicKeyInfo)
    for name, data in files.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=out, check=True)
    subprocess.run(["git", "add", "-A"], cwd=out, check=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "repo")
    args = parser.parse_args()
    repo = generate(args.out, scale=args.scale)
    files = [p for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts]
    size = sum(p.stat().st_size for p in files)
    print(f"{repo}: {len(files)} files, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
