"""Generate the history the push benchmark pushes: a base commit, then 1,000 commits that
introduce about 10,000 blobs (source, data and binary files; a few hundred certificates and
keys, some of them unencrypted, one added and deleted again), on branch `main`; and branch
`small`: main plus 10 commits of text with no key or certificate candidate.

Written with `git fast-import`: deterministic layout and sizes (seeded), dates explicit;
key material is generated at run time into bench/out, which is never committed.

    python -m bench.push_history [--out bench/out/push/repo]
"""

from __future__ import annotations

import argparse
import datetime
import random
import shutil
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bench.generate_repo import WORDS

SEED = 20261201
COMMITS = 1000
FILES_PER_COMMIT = 10
NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)
NOW_ISO = "2026-06-01T00:00:00Z"
APPLIANCES = 100  # each: an encrypted RSA key and its certificate
CONSOLES = 50  # DER certificates
LEAKS = 12  # unencrypted keys inside YAML
PUBLIC_KEYS = 30
PASSPHRASE = b"bench-Pass-1"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Corp"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Plant Engineering"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def certificate(key: rsa.RSAPrivateKey, cn: str, serial: int) -> x509.Certificate:
    """A certificate that meets the policy at NOW."""
    return (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(NOW - datetime.timedelta(days=30))
            .not_valid_after(NOW + datetime.timedelta(days=400))
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier("http://crl.plant.example.com/i.crl")],
                None, None, None)]), critical=False)
            .sign(key, hashes.SHA256()))


class _Text:
    """Source-like text from a pool of lines: fast, deterministic, never key-like."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lines = [("    " * rng.randint(0, 3) + " ".join(rng.choices(WORDS, k=rng.randint(
            3, 12))) + "\n").encode() for _ in range(4000)]

    def make(self, size: int) -> bytes:
        chunks, total = [], 0
        while total < size:
            line = self.lines[self.rng.randrange(len(self.lines))]
            chunks.append(line)
            total += len(line)
        return b"".join(chunks)


def _stream(rng: random.Random) -> tuple[list[tuple[str, dict[str, bytes | None]]],
                                        list[tuple[str, dict[str, bytes | None]]]]:
    """(main's commits after the base, small's extra commits): message, {path: data or None
    for a deletion}."""
    text = _Text(rng)
    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048)
            for _ in range(APPLIANCES + CONSOLES)]
    pem, der = serialization.Encoding.PEM, serialization.Encoding.DER
    encrypt = serialization.BestAvailableEncryption(PASSPHRASE)
    pkcs8 = serialization.PrivateFormat.PKCS8
    traditional = serialization.PrivateFormat.TraditionalOpenSSL
    plain = serialization.NoEncryption()

    special: list[dict[str, bytes | None]] = []  # key and certificate changes, spread out
    for index in range(APPLIANCES):
        key = keys[index]
        special.append({f"pki/sensor{index}.key": key.private_bytes(pem, pkcs8, encrypt),
                        f"pki/sensor{index}.crt": certificate(
                            key, f"sensor{index}.plant.example.com", index + 1).public_bytes(pem)})
    for index in range(CONSOLES):
        special.append({f"pki/der/console{index}.der": certificate(
            keys[APPLIANCES + index], f"console{index}.plant.example.com",
            1000 + index).public_bytes(der)})
    for index in range(LEAKS):
        body = keys[index].private_bytes(pem, traditional, plain).decode()
        indented = "".join(f"    {line}\n" for line in body.splitlines())
        special.append({f"deploy/leak{index}.yaml": f"tls:\n  key: |\n{indented}".encode()})
    for index in range(PUBLIC_KEYS):
        special.append({f"keys/public{index}.pem": keys[index].public_key().public_bytes(
            pem, serialization.PublicFormat.SubjectPublicKeyInfo)})
    oops = keys[-1].private_bytes(pem, traditional, plain)
    special.append({"ops/id_rsa": oops})
    special.append({"ops/id_rsa": None})  # deleted again a little later
    slots = sorted(rng.sample(range(COMMITS), len(special) - 1))
    slots.append(slots[-1] + 1 if slots[-1] + 1 < COMMITS else slots[-1])
    by_commit: dict[int, list[dict[str, bytes | None]]] = {}
    for slot, change in zip(slots, special, strict=True):
        by_commit.setdefault(slot, []).append(change)

    existing: list[str] = []
    commits = []
    for number in range(COMMITS):
        files: dict[str, bytes | None] = {}
        for change in by_commit.get(number, []):
            files.update(change)
        while len(files) < FILES_PER_COMMIT:
            if existing and rng.random() < 0.35:  # a change to an existing file
                files[rng.choice(existing)] = text.make(rng.randint(500, 12_000))
                continue
            kind = rng.random()
            index = len(existing)
            if kind < 0.80:
                extension = rng.choice([".py", ".js", ".go", ".md", ".txt", ".sh", ".yaml"])
                path = f"src/{rng.choice(WORDS)}/{rng.choice(WORDS)}/file{index}{extension}"
                files[path] = text.make(rng.randint(500, 12_000))
            elif kind < 0.95:
                path = f"data/table{index}.json"
                files[path] = b'{"rows": [\n' + b",\n".join(
                    b'  {"id": %d, "name": "%s"}' % (i, rng.choice(WORDS).encode())
                    for i in range(rng.randint(20, 400))) + b"\n]}\n"
            else:
                path = f"assets/blob{index}.bin"
                files[path] = rng.randbytes(rng.randint(2_000, 60_000))
            existing.append(path)
        commits.append((f"change {number}", files))
    small = [(f"docs {number}", {f"docs/page{number}-{i}.md": text.make(rng.randint(500, 4000))
                                 for i in range(FILES_PER_COMMIT)}) for number in range(10)]
    return commits, small


def _fast_import(repo: Path, base: dict[str, bytes],
                 branches: list[tuple[str, str | None, list[tuple[str, dict[str, bytes | None]]]]]
                 ) -> None:
    out: list[bytes] = []
    mark = 0
    when = int(NOW.timestamp()) - 10_000_000

    def emit_commit(ref: str, parent: str | None, message: str,
                    files: dict[str, bytes | None]) -> str:
        nonlocal mark, when
        mark += 1
        when += 600
        body = message.encode()
        out.append(f"commit {ref}\nmark :{mark}\n"
                   f"committer Bench <bench@example.invalid> {when} +0000\n"
                   f"data {len(body)}\n".encode() + body + b"\n")
        if parent:
            out.append(f"from {parent}\n".encode())
        for path, data in files.items():
            if data is None:
                out.append(f"D {path}\n".encode())
            else:
                out.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
        return f":{mark}"

    base_mark = emit_commit("refs/heads/main", None, "base", base)
    out.append(f"reset refs/tags/base\nfrom {base_mark}\n".encode())
    for ref, start, commits in branches:
        parent: str | None = start or base_mark
        for message, files in commits:
            parent = emit_commit(ref, parent, message, files)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(out), check=True)


def generate(out: Path) -> Path:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rng = random.Random(SEED)
    commits, small = _stream(rng)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=out, check=True)
    _fast_import(out, {"README.md": b"# plant repository\n"},
                 [("refs/heads/main", None, commits), ("refs/heads/small", "refs/heads/main",
                                                       small)])
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=out, check=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "out" / "push" / "repo")
    args = parser.parse_args()
    repo = generate(args.out)
    count = subprocess.run(["git", "rev-list", "--count", "base..main"], cwd=repo,
                           capture_output=True, text=True, check=True).stdout.strip()
    print(f"{repo}: {count} commits after base")


if __name__ == "__main__":
    main()
