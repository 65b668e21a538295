"""Caps on the work a file can ask for, checked before the work is done.

Key derivation and MAC parameters come from the file: a 2.6 KB PKCS#12 can ask for 2^31-1
MAC iterations, an OpenSSH key for 2^31 bcrypt rounds, a PuTTY key for 4 GiB of Argon2
memory. Every loader that derives a key or checks a MAC asks `over_cap` first, and a file
pays from one `WorkBudget`, so no input makes a hook run for more than about a second
(docs/architecture.md). Import-light: no cryptography here.
"""

from __future__ import annotations

# Per key derivation: above these, certwarden does not derive (the finding says so).
MAX_PBKDF2_ITERATIONS = 1_000_000  # OpenSSL writes 2048; OWASP's 2023 advice is 600,000
MAX_PKCS12_KDF_ITERATIONS = 200_000  # the PKCS#12 KDF runs in Python here
MAX_PKCS12_MAC_ITERATIONS = 1_000_000  # OpenSSL 2048, Windows 2000, Java 10,000 or 100,000
MAX_SCRYPT_COST = 1 << 21  # N*r*p; OpenSSL's default N=2^14, r=8, p=1 is 2^17
MAX_SCRYPT_MEMORY = 256 * 1024 * 1024  # 128*N*r bytes
MAX_BCRYPT_ROUNDS = 100  # ssh-keygen writes 16; `-a 100` is common advice
MAX_ARGON2_MEMORY_KIB = 256 * 1024  # puttygen writes 8192 KiB
MAX_ARGON2_WORK = 1 << 21  # memory (KiB) * passes; puttygen's default is about 2^17
MAX_ARGON2_LANES = 16
MAX_S2K_BYTES = 1 << 26  # OpenPGP iterated S2K: bytes hashed (gpg writes about 2^25)

# Rough cost of one unit of work in microseconds on a 2020s core, for the per-file budget.
_MICROSECONDS = {"pbkdf2": 0.25, "pkcs12-kdf": 1.5, "scrypt": 0.3, "bcrypt": 7000.0,
                 "argon2": 0.5, "mac": 0.25}
FILE_BUDGET_MICROSECONDS = 900_000.0  # about 0.9 s of key derivation per file


def over_cap(kdf: str, parameters: dict[str, int]) -> str | None:
    """Why deriving a key with these parameters is refused, or None when it is allowed."""
    if kdf == "pbkdf2":
        return _above("PBKDF2 iterations", parameters.get("iterations", 0),
                      MAX_PBKDF2_ITERATIONS)
    if kdf == "pkcs12-kdf":
        return _above("PKCS#12 key derivation iterations", parameters.get("iterations", 0),
                      MAX_PKCS12_KDF_ITERATIONS)
    if kdf == "mac":
        return _above("PKCS#12 MAC iterations", parameters.get("iterations", 0),
                      MAX_PKCS12_MAC_ITERATIONS)
    if kdf == "scrypt":
        n, r, p = (parameters.get(name, 0) for name in ("n", "r", "p"))
        if n < 2 or n & (n - 1) or r < 1 or p < 1:
            return f"scrypt parameters N={n}, r={r}, p={p} are not valid"
        return (_above("scrypt cost N*r*p", n * r * p, MAX_SCRYPT_COST)
                or _above("scrypt memory (bytes)", 128 * n * r, MAX_SCRYPT_MEMORY))
    if kdf == "bcrypt":
        return _above("bcrypt rounds", parameters.get("rounds", 0), MAX_BCRYPT_ROUNDS)
    if kdf.startswith("argon2"):
        memory, passes = parameters.get("memory", 0), parameters.get("passes", 0)
        lanes = parameters.get("parallelism", 0)
        if memory < 8 or passes < 1 or lanes < 1:
            return f"Argon2 parameters memory={memory}, passes={passes} are not valid"
        return (_above("Argon2 memory (KiB)", memory, MAX_ARGON2_MEMORY_KIB)
                or _above("Argon2 memory x passes", memory * passes, MAX_ARGON2_WORK)
                or _above("Argon2 parallelism", lanes, MAX_ARGON2_LANES))
    if kdf == "s2k":
        return _above("OpenPGP S2K bytes hashed", parameters.get("count", 0), MAX_S2K_BYTES)
    return None


def _above(what: str, value: int, cap: int) -> str | None:
    if value > cap:
        return f"{what} {value:,} over the cap of {cap:,}"
    if value < 0:
        return f"{what} {value} is negative"
    return None


def cost(kdf: str, parameters: dict[str, int]) -> float:
    """Estimated microseconds for one derivation (for the per-file budget)."""
    family = "argon2" if kdf.startswith("argon2") else kdf
    unit = _MICROSECONDS.get(family, 0.0)
    if family in ("pbkdf2", "pkcs12-kdf", "mac"):
        return unit * parameters.get("iterations", 0)
    if family == "scrypt":
        return unit * parameters.get("n", 0) * parameters.get("r", 0) * parameters.get("p", 0)
    if family == "bcrypt":
        return unit * parameters.get("rounds", 0)
    if family == "argon2":
        return unit * parameters.get("memory", 0) * parameters.get("passes", 0)
    return 0.0


class WorkBudget:
    """Key derivation one file may cause: each derivation is charged before it runs.

    `closed` remembers, by a digest of the encrypted bytes, keys the empty passphrase was
    shown not to open (in an earlier run: the keys group keeps them under the git
    directory), so an unchanged encrypted key costs no key derivation the next time."""

    def __init__(self, microseconds: float = FILE_BUDGET_MICROSECONDS,
                 closed: set[str] | None = None) -> None:
        self.left = microseconds
        self.closed = closed if closed is not None else set()
        self.learned: set[str] = set()

    def known_closed(self, memo: str) -> bool:
        return memo in self.closed

    def learn_closed(self, memo: str) -> None:
        self.closed.add(memo)
        self.learned.add(memo)

    def allow(self, kdf: str, parameters: dict[str, int]) -> str | None:
        """None (and charge it) when this derivation may run; else why it may not."""
        refused = over_cap(kdf, parameters)
        if refused:
            return refused
        price = cost(kdf, parameters)
        if price > self.left:
            return "this file's budget for key derivation is spent (too many costly keys)"
        self.left -= price
        return None
