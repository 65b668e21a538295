"""Generated files seeded with secrets of every kind detect-secrets knows, in several file
types, plus look-alikes. Secrets are fake, made at test time."""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path

AWS = "AKIA" + "".join(random.Random(1).choices(string.ascii_uppercase + string.digits, k=16))
GITHUB = "ghp_" + "".join(random.Random(2).choices(string.ascii_letters + string.digits, k=36))
SLACK = "xoxb-" + "1234567890123-1234567890123-" + "".join(
    random.Random(3).choices(string.ascii_letters + string.digits, k=24))
STRIPE = "sk_live_" + "".join(random.Random(4).choices(string.ascii_letters + string.digits,
                                                       k=24))
JWT = ".".join(base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
               for part in ({"alg": "HS256", "typ": "JWT"}, {"sub": "1234567890", "n": "x"})) \
    + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
BASIC_AUTH = "https://deploy:Tr0ub4dor-and-3@git.example.com/repo.git"
HIGH_ENTROPY = base64.b64encode(random.Random(5).randbytes(33)).decode()
HEX_ENTROPY = random.Random(6).randbytes(20).hex()


def _source(rng: random.Random, secrets: list[str]) -> str:
    lines = []
    for index in range(rng.randint(20, 60)):
        lines.append(f"def function_{index}(value):\n    return value + {index}\n")
        if secrets and rng.random() < 0.2:
            lines.append(secrets.pop())
    lines.extend(secrets)
    return "".join(lines)


def build(folder: Path, *, files: int = 40, seed: int = 7) -> list[str]:
    """Write the corpus; return the file names."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    seeded = [
        f'AWS_ACCESS_KEY_ID = "{AWS}"\n',
        f'github_token = "{GITHUB}"\n',
        f'SLACK = "{SLACK}"\n',
        f'stripe.api_key = "{STRIPE}"\n',
        f'headers = {{"Authorization": "Bearer {JWT}"}}\n',
        f'REMOTE = "{BASIC_AUTH}"\n',
        'password = "correct-horse-battery-staple-9"\n',
        f'blob = "{HIGH_ENTROPY}"\n',
        f'digest = "{HEX_ENTROPY}"\n',
        f'ignored = "{HIGH_ENTROPY}"  # pragma: allowlist secret\n',
        'version = "1.2.3"\nuuid = "123e4567-e89b-12d3-a456-426614174000"\n',
    ]
    names = []
    for index in range(files):
        secrets = rng.sample(seeded, rng.randint(0, 4))
        name = f"mod{index}.py"
        (folder / name).write_text(_source(rng, secrets))
        names.append(name)
    (folder / "config.yaml").write_text(
        f"db:\n  password: {HIGH_ENTROPY}\n  user: admin\naws:\n  key: {AWS}\n"
        f"multi: >\n  {HIGH_ENTROPY[:20]}\n  {HIGH_ENTROPY[20:]}\n")
    (folder / "settings.ini").write_text(
        f"[service]\ntoken = {HIGH_ENTROPY}\nsecret_key = hunter2hunter2\nurl = {BASIC_AUTH}\n")
    (folder / "app.env").write_text(f"SLACK_TOKEN={SLACK}\nAPI_KEY={HEX_ENTROPY}\nDEBUG=1\n")
    (folder / "deploy.json").write_text(json.dumps(
        {"stripe": STRIPE, "jwt": JWT, "nested": {"password": "s3cr3t-value-here"}}, indent=2))
    (folder / "notes.md").write_text(f"Use the token `{GITHUB}` and keep {HEX_ENTROPY} safe.\n")
    (folder / "Dockerfile").write_text(f"ENV AWS_SECRET_ACCESS_KEY={HIGH_ENTROPY}\n")
    names += ["config.yaml", "settings.ini", "app.env", "deploy.json", "notes.md", "Dockerfile"]
    return names
