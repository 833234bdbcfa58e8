"""The site's credential sets: where they come from, which to try first, and when to stop trying.

Credentials come from a YAML file (``--creds FILE`` or ``ASBUILT_CREDS_FILE``) or from environment
variables. Each is bound to driver names and/or vendors (Netdisco binds credentials to drivers) and,
as an extension of the file format, to device targets (IP or MAC) for sites with one password per
device. Passwords stay `SecretStr`: this module never logs, formats or returns one as text, except
`CredentialBook.secret_values()`, which exists so the snapshot can be checked for leaks.

File format::

    credentials:
      - name: installer-axis          # the label problems and logs show
        username: root
        password: "..."
        vendors: [AXIS]               # optional: only for these vendors
        drivers: [onvif]              # optional: onvif, snmp, cli (any cli.*), cli.cisco_ios, ...
        targets: [10.0.0.21]          # optional: only for these devices (IP or MAC)
      - name: switches-ro
        snmp_community: "..."
        drivers: [snmp]
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from drivers.base import Credential
from drivers.normalize import canonical_ip, canonical_mac

log = logging.getLogger(__name__)

MAX_CREDS_FILE_BYTES = 1_000_000


class CredentialFileError(ValueError):
    """The credential file or environment is unusable; the message never contains a secret."""


class BoundCredential(BaseModel):
    """A credential with the devices it is reserved for (empty: any device)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    credential: Credential
    targets: frozenset[str] = Field(default_factory=frozenset)

    @property
    def name(self) -> str:
        return self.credential.name


def _canonical_target(text: str) -> str:
    text = str(text).strip()
    try:
        return canonical_ip(text)
    except ValueError:
        pass
    try:
        return canonical_mac(text)
    except ValueError:
        raise CredentialFileError(f"target {text!r} is neither an IP address nor a MAC") from None


def parse_credentials(data: Any, *, origin: str = "credentials") -> list[BoundCredential]:
    """Validate the parsed YAML (a list, or a mapping with a `credentials` list)."""
    items = data.get("credentials") if isinstance(data, Mapping) else data
    if items is None:
        return []
    if not isinstance(items, list):
        raise CredentialFileError(f"{origin}: expected a list of credentials")
    bound: list[BoundCredential] = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise CredentialFileError(f"{origin}: entry {index + 1} is not a mapping")
        fields = dict(item)
        targets = fields.pop("targets", None) or []
        label = str(fields.get("name") or f"entry {index + 1}")
        try:
            credential = Credential.model_validate(fields)
        except ValidationError as exc:
            # Only field locations and error types: the input values may be passwords.
            where = ", ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors())
            raise CredentialFileError(f"{origin}: credential {label!r} is invalid ({where})") from None
        if not isinstance(targets, list):
            raise CredentialFileError(f"{origin}: credential {label!r}: targets must be a list")
        bound.append(
            BoundCredential(credential=credential, targets=frozenset(_canonical_target(t) for t in targets))
        )
    names = [b.name for b in bound]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise CredentialFileError(f"{origin}: credential names must be unique; repeated: {dupes}")
    return bound


def load_credentials_file(path: Path) -> list[BoundCredential]:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CredentialFileError(f"cannot read credential file {path}: {exc.strerror}") from None
    if path.is_dir():
        raise CredentialFileError(f"credential file {path} is a directory, not a file")
    if size > MAX_CREDS_FILE_BYTES:
        raise CredentialFileError(f"credential file {path} is larger than {MAX_CREDS_FILE_BYTES} bytes")
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise CredentialFileError(f"cannot read credential file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise CredentialFileError(f"credential file {path} is not valid YAML{where}") from None
    return parse_credentials(data, origin=str(path))


def credentials_from_env(env: Mapping[str, str] | None = None) -> list[BoundCredential]:
    """ASBUILT_CREDS_FILE, else single sets from ASBUILT_ONVIF_USER/PASSWORD, ASBUILT_SNMP_COMMUNITY,
    ASBUILT_SNMP_V3_USER/AUTH_KEY/PRIV_KEY and ASBUILT_CLI_USER/PASSWORD/ENABLE."""
    env = os.environ if env is None else env
    found: list[BoundCredential] = []
    if env.get("ASBUILT_CREDS_FILE"):
        found.extend(load_credentials_file(Path(env["ASBUILT_CREDS_FILE"])))
    if env.get("ASBUILT_ONVIF_USER"):
        found.append(
            _env_cred(
                name="env-onvif",
                username=env["ASBUILT_ONVIF_USER"],
                password=SecretStr(env.get("ASBUILT_ONVIF_PASSWORD", "")),
                drivers=["onvif"],
            )
        )
    if env.get("ASBUILT_SNMP_COMMUNITY"):
        found.append(
            _env_cred(
                name="env-snmp", snmp_community=SecretStr(env["ASBUILT_SNMP_COMMUNITY"]), drivers=["snmp"]
            )
        )
    if env.get("ASBUILT_SNMP_V3_USER"):
        found.append(
            _env_cred(
                name="env-snmp-v3",
                snmp_v3_user=env["ASBUILT_SNMP_V3_USER"],
                snmp_v3_auth_key=_secret(env.get("ASBUILT_SNMP_V3_AUTH_KEY")),
                snmp_v3_priv_key=_secret(env.get("ASBUILT_SNMP_V3_PRIV_KEY")),
                drivers=["snmp"],
            )
        )
    if env.get("ASBUILT_CLI_USER"):
        found.append(
            _env_cred(
                name="env-cli",
                username=env["ASBUILT_CLI_USER"],
                password=SecretStr(env.get("ASBUILT_CLI_PASSWORD", "")),
                enable_secret=_secret(env.get("ASBUILT_CLI_ENABLE")),
                drivers=["cli"],
            )
        )
    return found


def _secret(value: str | None) -> SecretStr | None:
    return SecretStr(value) if value else None


def _env_cred(**fields: Any) -> BoundCredential:
    return BoundCredential(credential=Credential(**fields))


def driver_matches(bindings: list[str], driver: str) -> bool:
    """`cli` binds every `cli.*` driver; otherwise names must be equal."""
    return any(b == driver or driver.startswith(b + ".") for b in bindings)


def vendor_matches(bindings: list[str], vendor: str) -> bool:
    v = vendor.strip().lower()
    return any(b.strip().lower() in v or v in b.strip().lower() for b in bindings if b.strip())


def usable_for(credential: Credential, protocol: str) -> bool:
    if protocol == "snmp":
        return credential.snmp_community is not None or bool(credential.snmp_v3_user)
    if protocol in ("onvif", "cli"):
        return bool(credential.username)
    return True


class CredentialBook:
    """Which credential to try next for a device, remembering what worked and what was refused.

    Order: the one that worked before for this device; those reserved for this device; those bound
    to its vendor (and driver); those bound to its driver; generic ones; vendor-bound ones when the
    vendor is not known yet. After `max_failures` refused logins per device and protocol the book
    offers nothing more, so a scan never locks an account out.
    """

    def __init__(
        self,
        credentials: list[BoundCredential],
        *,
        max_failures: int = 3,
        cache_path: Path | None = None,
    ) -> None:
        self._creds = list(credentials)
        self.max_failures = max_failures
        self.cache_path = cache_path
        self._worked: dict[tuple[str, str], str] = {}  # (device key, driver) -> credential name
        self._failures: dict[tuple[str, str], int] = {}  # (device key, protocol) -> refused logins
        if cache_path is not None:
            self._worked.update(_read_cache(cache_path))

    def __len__(self) -> int:
        return len(self._creds)

    def candidates(
        self,
        driver: str,
        *,
        ip: str,
        mac: str | None = None,
        vendor: str | None = None,
        protocol: str | None = None,
    ) -> list[Credential]:
        """Credentials to try for this driver on this device, best first.

        With `protocol`, sets that cannot serve it are left out (SNMP needs a community or v3 user;
        ONVIF and CLI need a user name)."""
        keys = {k for k in (ip, mac) if k}
        ranked: list[tuple[int, int, Credential]] = []
        for position, bound in enumerate(self._creds):
            if protocol is not None and not usable_for(bound.credential, protocol):
                continue
            tier = self._tier(bound, driver, keys, vendor)
            if tier is not None:
                ranked.append((tier, position, bound.credential))
        remembered = next(
            (self._worked[(k, driver)] for k in (mac, ip) if k and (k, driver) in self._worked), None
        )
        ranked.sort(key=lambda item: (item[2].name != remembered, item[0], item[1]))
        return [cred for _, _, cred in ranked]

    @staticmethod
    def _tier(bound: BoundCredential, driver: str, keys: set[str], vendor: str | None) -> int | None:
        cred = bound.credential
        if cred.drivers and not driver_matches(cred.drivers, driver):
            return None
        if bound.targets:
            return 0 if bound.targets & keys else None
        if cred.vendors:
            if vendor is None:
                return 5
            if not vendor_matches(cred.vendors, vendor):
                return None
            return 1 if cred.drivers else 2
        return 3 if cred.drivers else 4

    # ------------------------------------------------------------ attempts

    def may_try(self, protocol: str, *, ip: str, mac: str | None = None) -> bool:
        return self._failure_count(protocol, ip, mac) < self.max_failures

    def record_failure(self, protocol: str, *, ip: str, mac: str | None = None) -> int:
        key = (mac or ip, protocol)
        self._failures[key] = self._failures.get(key, 0) + 1
        return self._failure_count(protocol, ip, mac)

    def _failure_count(self, protocol: str, ip: str, mac: str | None) -> int:
        return sum(self._failures.get((k, protocol), 0) for k in {ip, mac} if k)

    def record_success(self, driver: str, credential_name: str, *, ip: str, mac: str | None = None) -> None:
        for key in (ip, mac):
            if key:
                self._worked[(key, driver)] = credential_name

    def worked(self, driver: str, *, ip: str, mac: str | None = None) -> str | None:
        return next((self._worked[(k, driver)] for k in (mac, ip) if k and (k, driver) in self._worked), None)

    def save_cache(self) -> None:
        """Write the names (never the secrets) of credentials that worked, keyed by MAC/IP."""
        if self.cache_path is None:
            return
        devices: dict[str, dict[str, str]] = {}
        for (key, driver), name in sorted(self._worked.items()):
            devices.setdefault(key, {})[driver] = name
        tmp = self.cache_path.with_suffix(self.cache_path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # owner only, whatever the umask
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps({"version": 1, "devices": devices}, indent=1, sort_keys=True))
        os.chmod(tmp, 0o600)  # a cache left by an older version with looser bits is tightened too
        tmp.replace(self.cache_path)

    def secret_values(self) -> set[str]:
        """Every secret string in the book, so a finished snapshot can be checked for leaks."""
        values: set[str] = set()
        for bound in self._creds:
            c = bound.credential
            for secret in (
                c.password,
                c.enable_secret,
                c.snmp_community,
                c.snmp_v3_auth_key,
                c.snmp_v3_priv_key,
            ):
                if secret is not None and secret.get_secret_value():
                    values.add(secret.get_secret_value())
        return values


def _read_cache(path: Path) -> dict[tuple[str, str], str]:
    try:
        data = json.loads(path.read_text())
        devices = data["devices"]
        return {
            (str(key), str(driver)): str(name)
            for key, per_driver in devices.items()
            for driver, name in per_driver.items()
        }
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        log.warning("credential cache %s is unreadable; starting without it", path)
        return {}
