"""How much work opening a PKCS#12 bundle takes, read before any password is tried.

Every attempt to open a bundle runs its MAC key derivation, and a successful one each
PBE derivation too; a hostile bundle can ask for billions of iterations. The counts are
in the clear, so they are read first and a bundle over the limits is never opened
(docs/policy.md: work taken from an input is capped before it is done). The key
recognition keeps its own reading of PKCS#12 bags; this one only counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Real exports: openssl 2048, Windows 2000 to 10000, Java keytool 10000, some tools
# follow OWASP's 600000 for PBKDF2. A million per derivation covers them all.
MAX_ITERATIONS = 1_000_000
MAX_DERIVATIONS = 16  # MAC + one per encrypted safe or shrouded key; real bundles hold 2-4
MAX_NESTING = 4  # safeContents bags inside safeContents bags


@dataclass(frozen=True)
class Pkcs12Work:
    iterations: int  # the largest iteration count of any derivation
    derivations: int  # how many key derivations opening the bundle runs
    unknown: bool  # a derivation whose cost cannot be read (another KDF, public-key envelope)

    def refusal(self) -> str | None:
        """Why the bundle must not be opened, or None when it is within the limits."""
        if self.iterations > MAX_ITERATIONS:
            return (f"it asks for {self.iterations:,} key-derivation iterations, more than "
                    f"the limit of {MAX_ITERATIONS:,}")
        if self.derivations > MAX_DERIVATIONS:
            return (f"it holds {self.derivations} encrypted parts, more than the limit of "
                    f"{MAX_DERIVATIONS}")
        return None


def _bag_work(bags: Any, depth: int, counts: list[int]) -> bool:
    """Add the derivations of these bags to counts; False when one cannot be read."""
    from asn1crypto import pkcs12 as asn1_pkcs12

    readable = True
    for bag in bags:
        kind = bag["bag_id"].native
        if kind == "pkcs8_shrouded_key_bag":
            counts.append(int(bag["bag_value"]["encryption_algorithm"].kdf_iterations))
        elif kind == "safe_contents" and depth < MAX_NESTING:
            value = bag["bag_value"]
            inner = value if isinstance(value, asn1_pkcs12.SafeContents) else \
                asn1_pkcs12.SafeContents.load(value.dump())
            readable = _bag_work(inner, depth + 1, counts) and readable
        elif kind == "safe_contents":
            readable = False
    return readable


def pkcs12_work(data: bytes) -> Pkcs12Work | None:
    """The work of opening this PKCS#12 bundle; None when the bytes are not one."""
    from asn1crypto import pkcs12 as asn1_pkcs12

    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=False)
        if pfx["version"].native not in ("v3", 3) or \
                pfx["auth_safe"]["content_type"].native not in ("data", "signed_data"):
            return None
        counts: list[int] = []
        mac = pfx["mac_data"]
        if mac.native is not None:
            counts.append(int(mac["iterations"].native or 1))
        unknown = False
        for content_info in pfx.authenticated_safe:
            kind = content_info["content_type"].native
            try:
                if kind == "data":
                    safe = asn1_pkcs12.SafeContents.load(content_info["content"].native)
                    unknown = not _bag_work(safe, 0, counts) or unknown
                elif kind == "encrypted_data":
                    algorithm = content_info["content"]["encrypted_content_info"][
                        "content_encryption_algorithm"]
                    counts.append(int(algorithm.kdf_iterations))
                else:
                    unknown = True
            except (ValueError, TypeError, KeyError):  # no readable password KDF
                unknown = True
        return Pkcs12Work(max(counts, default=0), len(counts), unknown)
    except Exception:  # asn1crypto raises many types on input that is not PKCS#12
        return None
