"""Benchmark: check-certificates on 300 certificate files, CPU beyond interpreter start.

    python -m bench.certificates [--runs 7]

Also shows that a run over files holding no certificate or key never imports
cryptography (python -X importtime).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.generate_repo import appliance_certificate
from bench.measure import ENVIRONMENT, measure, table
from bench.private_keys import tool

HERE = Path(__file__).parent


def write_certificates(folder: Path, count: int = 300) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(4)]
    names = []
    for index in range(count):
        cert = appliance_certificate(keys[index % len(keys)], f"sensor{index}.plant.example.com")
        encoding = serialization.Encoding.DER if index % 3 == 0 else serialization.Encoding.PEM
        file_name = f"sensor{index}.{'der' if encoding is serialization.Encoding.DER else 'crt'}"
        (folder / file_name).write_bytes(cert.public_bytes(encoding))
        names.append(file_name)
    return names


def imports_cryptography(command: list[str], cwd: Path) -> bool:
    result = subprocess.run([sys.executable, "-X", "importtime", *command], cwd=cwd,
                            capture_output=True, text=True, env=ENVIRONMENT)
    return "cryptography" in result.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    folder = HERE / "out" / "certificates"
    names = write_certificates(folder)
    certwarden = tool("certwarden")
    interpreter = measure("python -c pass (interpreter start)", [sys.executable, "-c", "pass"],
                          folder, runs=args.runs)
    check = measure(f"certwarden check --group certificates ({len(names)} files)",
                    [certwarden, "check", "--group", "certificates", *names], folder,
                    runs=args.runs)
    print(table([(interpreter, None), (check, None)]))
    print(f"\nCPU beyond interpreter start: {check.cpu - interpreter.cpu:.3f} s "
          f"for {len(names)} certificate files")
    (folder / "notes.md").write_text("no certificates here\n")
    print("imports cryptography on a file without certificate or key: "
          f"{imports_cryptography(['-m', 'certwarden', 'check', 'notes.md'], folder)}")


if __name__ == "__main__":
    main()
