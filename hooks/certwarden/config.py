"""Repository configuration: the Defender for IoT profile by default, validated strictly.

An unknown key or a value of the wrong type is a ConfigError (exit 2): a typo must
never silently weaken the policy.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping

from certwarden.findings import Severity

TYPE_CHECKING = False  # typing costs start-up time; mypy reads this block all the same
if TYPE_CHECKING:
    from typing import Any


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and what is allowed."""


# Names users write, mapped to dotted OIDs, so loading config never imports cryptography.
SIGNATURE_ALGORITHM_OIDS: dict[str, str] = {
    "sha256WithRSAEncryption": "1.2.840.113549.1.1.11",
    "sha384WithRSAEncryption": "1.2.840.113549.1.1.12",
    "sha512WithRSAEncryption": "1.2.840.113549.1.1.13",
    "sha224WithRSAEncryption": "1.2.840.113549.1.1.14",
    "sha1WithRSAEncryption": "1.2.840.113549.1.1.5",
    "md5WithRSAEncryption": "1.2.840.113549.1.1.4",
    "rsassaPss": "1.2.840.113549.1.1.10",
    "ecdsa-with-SHA1": "1.2.840.10045.4.1",
    "ecdsa-with-SHA256": "1.2.840.10045.4.3.2",
    "ecdsa-with-SHA384": "1.2.840.10045.4.3.3",
    "ecdsa-with-SHA512": "1.2.840.10045.4.3.4",
    "Ed25519": "1.3.101.112",
    "Ed448": "1.3.101.113",
}
SIGNATURE_ALGORITHM_NAMES = {oid: name for name, oid in SIGNATURE_ALGORITHM_OIDS.items()}

KEY_TYPES = ("rsa", "rsa-pss", "ec", "dsa", "ed25519", "ed448")  # rsa-pss: certificates only
CRL_MODES = ("require", "forbid", "ignore")
SUBJECT_FIELDS = ("common-name", "country", "organization", "organizational-unit")
APPLIANCE_ROLES = ("sensor", "console", "ha")
APPLIANCE_KEYS = ("name", "role", "cn", "certificate", "key")
_OID_PATTERN = re.compile(r"^[0-2](\.\d+)+$")

# Plain classes, not dataclasses: configuration is loaded on every run, and a commit
# without certificates or keys must start fast.


class SubjectField:
    __slots__ = ("pattern", "required", "value")

    def __init__(self, required: bool = True, value: str | None = None,
                 pattern: re.Pattern[str] | None = None) -> None:
        self.required = required
        self.value = value
        self.pattern = pattern


class AllowEntry:
    __slots__ = ("fingerprint", "reason", "rule")

    def __init__(self, fingerprint: str, rule: str, reason: str) -> None:
        self.fingerprint = fingerprint
        self.rule = rule
        self.reason = reason


class Appliance:
    """One entry of the appliance manifest: which certificate (and key) serves it."""

    __slots__ = ("certificate", "cn", "key", "name", "role")

    def __init__(self, name: str, role: str, cn: str, certificate: str | None = None,
                 key: str | None = None) -> None:
        self.name = name
        self.role = role  # sensor | console | ha
        self.cn = cn  # the appliance's domain name
        self.certificate = certificate  # repository-relative, normalized; None: not named
        self.key = key  # repository-relative, normalized; None: the certificate's own stem

    def __repr__(self) -> str:
        return f"Appliance({self.name!r}, {self.role!r}, {self.cn!r}, {self.certificate!r}, " \
               f"{self.key!r})"


def _default_subject() -> dict[str, SubjectField]:
    return {name: SubjectField() for name in SUBJECT_FIELDS}


class Config:
    """The policy in force. Class attributes are the Defender for IoT defaults."""

    key_types: tuple[str, ...] = ("rsa",)
    key_sizes: tuple[int, ...] = (2048, 4096)
    slow_key_sizes: tuple[int, ...] = (4096,)
    signature_algorithms: tuple[str, ...] = (SIGNATURE_ALGORITHM_OIDS["sha256WithRSAEncryption"],)
    crl_mode: str = "require"
    expiry_warning_days: int = 30
    exclude: tuple[str, ...] = ()
    allowlist: tuple[AllowEntry, ...] = ()
    chain: str | None = None
    crl_files: tuple[str, ...] = ()
    crl_fetch: bool = False
    pbkdf2_min_iterations: int = 1000
    scrypt_min_n: int = 1 << 14
    legacy_pem_aes_severity: Severity = Severity.WARNING
    pbes2_3des_severity: Severity = Severity.WARNING
    key_policy_paths: tuple[str, ...] = ()
    max_file_bytes: int = 64 * 1024 * 1024
    baseline: str | None = None  # default: .certwarden-baseline.json at the root
    secrets_max_file_bytes: int = 4 * 1024 * 1024
    secrets_baseline: str | None = None  # default: .secrets.baseline at the root
    secrets_exclude: dict[str, list[str]] = {}  # noqa: RUF012 (replaced, never mutated)
    appliances: tuple[Appliance, ...] = ()  # the appliance manifest; empty: no appliance rules

    def __init__(self, root: str | None = None, source: str = "defaults", **changes: Any) -> None:
        assign = super().__setattr__
        assign("root", root or os.getcwd())
        assign("source", source)
        assign("subject", _default_subject())
        assign("severity", {})  # rule id -> Severity, or None: the rule is off
        assign("passphrases", {})  # key-file glob -> environment variable
        for name, value in changes.items():
            if not hasattr(self, name):
                raise ConfigError(f"no such setting: {name}")
            assign(name, value)

    # Declared for type checkers; set once in __init__.
    root: str
    source: str
    subject: dict[str, SubjectField]
    severity: dict[str, Severity | None]
    passphrases: dict[str, str]

    def __setattr__(self, name: str, value: object) -> None:
        # Loaded once, then read by everything: overrides go through load_config.
        raise AttributeError(f"the configuration is read-only ({name})")


# -- value checkers: each takes (key, raw value) and returns the typed value ------------------

def _fail(key: str, expected: str, value: object) -> ConfigError:
    return ConfigError(f"config key '{key}': expected {expected}, got {value!r}")


def _int(key: str, value: object, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(key, f"an integer >= {minimum}", value)
    return value


def _bool(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _fail(key, "true or false", value)
    return value


def _str(key: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(key, "a non-empty string", value)
    return value


def _str_list(key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(key, "a list of non-empty strings", value)
    return tuple(value)


def _key_sizes(key: str, value: object) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(key, "a non-empty list of key sizes in bits", value)
    return tuple(_int(key, v, minimum=256) for v in value)


def _key_types(key: str, value: object) -> tuple[str, ...]:
    names = _str_list(key, value)
    for name in names:
        if name not in KEY_TYPES:
            raise ConfigError(f"config key '{key}': unknown key type {name!r}; "
                              f"allowed: {', '.join(KEY_TYPES)}")
    return names


def _signature_algorithms(key: str, value: object) -> tuple[str, ...]:
    oids = []
    for name in _str_list(key, value):
        if name in SIGNATURE_ALGORITHM_OIDS:
            oids.append(SIGNATURE_ALGORITHM_OIDS[name])
        elif _OID_PATTERN.match(name):
            oids.append(name)
        else:
            raise ConfigError(
                f"config key '{key}': unknown signature algorithm {name!r}; allowed: "
                f"{', '.join(SIGNATURE_ALGORITHM_OIDS)} or a dotted OID")
    return tuple(oids)


def _crl_mode(key: str, value: object) -> str:
    if value not in CRL_MODES:
        raise _fail(key, " or ".join(repr(m) for m in CRL_MODES), value)
    return str(value)


def _severity_name(key: str, value: object) -> Severity | None:
    if value == "off":
        return None
    try:
        return Severity(value)
    except ValueError:
        raise _fail(key, "'error', 'warning', 'info' or 'off'", value) from None


def _severity_map(key: str, value: object) -> dict[str, Severity | None]:
    from certwarden.registry import rules_by_id

    table = _table(key, value)
    result = {}
    for rule_id, level in table.items():
        if rule_id not in rules_by_id():
            raise ConfigError(f"config key '{key}.{rule_id}': unknown rule id; "
                              "`certwarden rules` lists them")
        result[rule_id] = _severity_name(f"{key}.{rule_id}", level)
    return result


def _table(key: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(key, "a table", value)
    return value


def _subject(key: str, value: object) -> dict[str, SubjectField]:
    table = _table(key, value)
    result = _default_subject()
    for name, spec in table.items():
        if name not in SUBJECT_FIELDS:
            raise ConfigError(f"config key '{key}.{name}': unknown subject field; "
                              f"allowed: {', '.join(SUBJECT_FIELDS)}")
        spec_table = _table(f"{key}.{name}", spec)
        unknown = set(spec_table) - {"required", "value", "pattern"}
        if unknown:
            raise ConfigError(f"config key '{key}.{name}.{sorted(unknown)[0]}': unknown key; "
                              "allowed: required, value, pattern")
        pattern = None
        if "pattern" in spec_table:
            raw = _str(f"{key}.{name}.pattern", spec_table["pattern"])
            try:
                pattern = re.compile(raw)
            except re.error as exc:
                raise ConfigError(f"config key '{key}.{name}.pattern': invalid regular "
                                  f"expression: {exc}") from None
        result[name] = SubjectField(
            required=_bool(f"{key}.{name}.required", spec_table.get("required", True)),
            value=_str(f"{key}.{name}.value", spec_table["value"]) if "value" in spec_table
            else None,
            pattern=pattern,
        )
    return result


def _allowlist(key: str, value: object) -> tuple[AllowEntry, ...]:
    from certwarden.registry import rules_by_id

    if not isinstance(value, list):
        raise _fail(key, "a list of {fingerprint, rule, reason} tables", value)
    entries = []
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        table = _table(where, item)
        unknown = set(table) - {"fingerprint", "rule", "reason"}
        if unknown or "fingerprint" not in table or "rule" not in table:
            raise ConfigError(f"config key '{where}': expected keys fingerprint, rule and "
                              f"optional reason; got {sorted(table)}")
        rule = _str(f"{where}.rule", table["rule"])
        if rule not in rules_by_id():
            raise ConfigError(f"config key '{where}.rule': unknown rule id {rule!r}")
        entries.append(AllowEntry(_str(f"{where}.fingerprint", table["fingerprint"]), rule,
                                  str(table.get("reason", ""))))
    return tuple(entries)


def _secrets_exclude(key: str, value: object) -> dict[str, list[str]]:
    """{lines|files|secrets = [regex, ...]}, as detect-secrets' --exclude-* options."""
    table = _table(key, value)
    result: dict[str, list[str]] = {}
    for kind, patterns in table.items():
        if kind not in ("lines", "files", "secrets"):
            raise ConfigError(f"config key '{key}.{kind}': unknown; allowed: lines, files, "
                              "secrets")
        result[kind] = list(_str_list(f"{key}.{kind}", patterns))
        for pattern in result[kind]:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"config key '{key}.{kind}': invalid regular expression "
                                  f"{pattern!r}: {exc}") from None
    return result


def _passphrases(key: str, value: object) -> dict[str, str]:
    table = _table(key, value)
    result = {}
    for glob, env_name in table.items():
        name = _str(f"{key}.{glob}", env_name)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ConfigError(f"config key '{key}.{glob}': expected the name of an "
                              f"environment variable, got {name!r}")
        result[glob] = name
    return result


def _repository_path(key: str, value: object) -> str:
    """A path relative to the repository root, normalized the way git lists it."""
    import posixpath

    text = _str(key, value).replace("\\", "/")
    normalized = posixpath.normpath(text)
    if text.startswith("/") or normalized == ".." or normalized.startswith("../"):
        raise _fail(key, "a path relative to the repository root", value)
    return normalized


def _appliances(key: str, value: object) -> tuple[Appliance, ...]:
    """[[appliances]]: name, role, cn, certificate, key (optional); names are unique."""
    if not isinstance(value, list):
        raise _fail(key, "a list of [[appliances]] tables", value)
    appliances: list[Appliance] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        table = _table(where, item)
        unknown = sorted(set(table) - set(APPLIANCE_KEYS))
        if unknown:
            raise ConfigError(f"config key '{where}.{unknown[0]}': unknown key; allowed: "
                              f"{', '.join(APPLIANCE_KEYS)}")
        for required in ("name", "role", "cn"):
            if required not in table:
                raise ConfigError(f"config key '{where}': missing '{required}' "
                                  "(name, role and cn are required)")
        name = _str(f"{where}.name", table["name"])
        if name in seen:
            raise ConfigError(f"config key '{where}.name': duplicate appliance name {name!r}")
        seen.add(name)
        role = table["role"]
        if role not in APPLIANCE_ROLES:
            raise _fail(f"{where}.role", " or ".join(repr(r) for r in APPLIANCE_ROLES), role)
        appliances.append(Appliance(
            name, str(role), _str(f"{where}.cn", table["cn"]),
            _repository_path(f"{where}.certificate", table["certificate"])
            if "certificate" in table else None,
            _repository_path(f"{where}.key", table["key"]) if "key" in table else None))
    return tuple(appliances)


# config key -> (Config attribute, checker)
_SCHEMA: dict[str, tuple[str, Callable[[str, object], Any]]] = {
    "key-types": ("key_types", _key_types),
    "key-sizes": ("key_sizes", _key_sizes),
    "slow-key-sizes": ("slow_key_sizes", lambda k, v: tuple(_int(k, x) for x in _list(k, v))),
    "signature-algorithms": ("signature_algorithms", _signature_algorithms),
    "crl-mode": ("crl_mode", _crl_mode),
    "subject": ("subject", _subject),
    "expiry-warning-days": ("expiry_warning_days", _int),
    "exclude": ("exclude", _str_list),
    "severity": ("severity", _severity_map),
    "allowlist": ("allowlist", _allowlist),
    "chain": ("chain", _str),
    "crl-files": ("crl_files", _str_list),
    "crl-fetch": ("crl_fetch", _bool),
    "passphrases": ("passphrases", _passphrases),
    "pbkdf2-min-iterations": ("pbkdf2_min_iterations", _int),
    "legacy-pem-aes-severity": ("legacy_pem_aes_severity",
                                lambda k, v: _severity_name(k, v) or Severity.INFO),
    "scrypt-min-n": ("scrypt_min_n", lambda k, v: _int(k, v, minimum=2)),
    "pbes2-3des-severity": ("pbes2_3des_severity",
                            lambda k, v: _severity_name(k, v) or Severity.INFO),
    "key-policy-paths": ("key_policy_paths", _str_list),
    "max-file-bytes": ("max_file_bytes", lambda k, v: _int(k, v, minimum=1024)),
    "baseline": ("baseline", _str),
    "secrets-baseline": ("secrets_baseline", _str),
    "secrets-exclude": ("secrets_exclude", lambda k, v: _secrets_exclude(k, v)),
    "secrets-max-file-bytes": ("secrets_max_file_bytes", lambda k, v: _int(k, v, minimum=1024)),
    "appliances": ("appliances", _appliances),
}
CONFIG_KEYS = tuple(_SCHEMA)


def _list(key: str, value: object) -> list[object]:
    if not isinstance(value, list):
        raise _fail(key, "a list", value)
    return value


def config_from_mapping(table: Mapping[str, object], *, root: str, source: str) -> Config:
    """Validate a [tool.certwarden] table and build the Config it describes."""
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _SCHEMA:
            raise ConfigError(f"{source}: unknown config key '{key}'; allowed: "
                              f"{', '.join(CONFIG_KEYS)}")
        attribute, check = _SCHEMA[key]
        try:
            changes[attribute] = check(key, value)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    return Config(root=root, source=source, **changes)


def find_repository_root(start: str) -> str:
    """The nearest folder holding .git (a folder or a worktree file); else `start`."""
    folder = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return os.path.abspath(start)
        folder = parent


def _read_toml(path: str) -> dict[str, Any]:
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        with open(path, "rb") as stream:
            document: dict[str, Any] = tomllib.load(stream)
            return document
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _has_certwarden_table(pyproject: str) -> bool:
    """Cheap look before parsing: most pyproject.toml files do not configure us."""
    try:
        with open(pyproject, "rb") as stream:
            return b"certwarden" in stream.read()
    except OSError:
        return False


def _tool_certwarden(document: Mapping[str, object], where: str) -> Mapping[str, object] | None:
    """[tool.certwarden] of a pyproject.toml document; None when absent."""
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{where}: [tool] must be a table")
    table = tool.get("certwarden")
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{where}: [tool.certwarden] must be a table")
    return table


def _configured_table(explicit: str | None, root: str) -> tuple[Mapping[str, object], str]:
    """(the [tool.certwarden] table, where it came from) for this repository."""
    if explicit is not None:
        document = _read_toml(explicit)
        if os.path.basename(explicit) == "pyproject.toml":
            return _tool_certwarden(document, explicit) or {}, str(explicit)
        return document, str(explicit)
    dedicated = os.path.join(root, ".certwarden.toml")
    pyproject = os.path.join(root, "pyproject.toml")
    pyproject_table = None
    if os.path.isfile(pyproject) and _has_certwarden_table(pyproject):
        pyproject_table = _tool_certwarden(_read_toml(pyproject), "pyproject.toml")
    if os.path.isfile(dedicated):
        if pyproject_table is not None:
            raise ConfigError("both .certwarden.toml and [tool.certwarden] in pyproject.toml "
                              "configure certwarden; keep one")
        return _read_toml(dedicated), ".certwarden.toml"
    if pyproject_table is not None:
        return pyproject_table, "pyproject.toml [tool.certwarden]"
    return {}, "defaults"


def _merged(table: Mapping[str, object], overrides: Mapping[str, object]) -> dict[str, object]:
    """The file's table with command-line overrides: a scalar replaces, a table of lists
    (secrets-exclude) extends."""
    merged = dict(table)
    for key, value in overrides.items():
        current = merged.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            combined = dict(current)
            for name, items in value.items():
                previous = combined.get(name, [])
                combined[name] = [*previous, *items] if isinstance(previous, list) else items
            merged[key] = combined
        else:
            merged[key] = value
    return merged


def load_config(explicit: str | None = None, *, start: str | None = None,
                overrides: Mapping[str, object] | None = None) -> Config:
    """The explicit --config file, else .certwarden.toml or pyproject.toml at the root,
    with the command line's overrides (config keys, validated like the file's) merged in.
    This is the one place a configuration is made; it is read-only afterwards."""
    root = find_repository_root(start or os.getcwd())
    table, source = _configured_table(explicit, root)
    if overrides:
        table = _merged(table, overrides)
    return config_from_mapping(table, root=root, source=source)
