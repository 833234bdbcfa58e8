"""Credential sets: loading, ordering by binding, the lockout cap, the name-only cache, no leaks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.credentials import (
    CredentialBook,
    CredentialFileError,
    credentials_from_env,
    load_credentials_file,
    parse_credentials,
)
from drivers.base import Credential

SECRET = "S3cr3t-Pa55!"

CREDS = [
    {"name": "generic", "username": "admin", "password": "generic-pw"},
    {"name": "cli-any", "username": "admin", "password": "cli-pw", "drivers": ["cli"]},
    {"name": "axis", "username": "root", "password": "axis-pw", "vendors": ["AXIS"], "drivers": ["onvif"]},
    {"name": "hik", "username": "admin", "password": "hik-pw", "vendors": ["Hikvision"]},
    {"name": "cam-21", "username": "root", "password": SECRET, "targets": ["10.0.0.21"]},
    {"name": "snmp-ro", "snmp_community": "c0mmunity", "drivers": ["snmp"]},
]


def names(creds: list[Credential]) -> list[str]:
    return [c.name for c in creds]


def test_order_device_then_vendor_and_driver_then_generic() -> None:
    book = CredentialBook(parse_credentials(CREDS))
    assert names(book.candidates("onvif", ip="10.0.0.21", vendor="AXIS")) == ["cam-21", "axis", "generic"]
    assert names(book.candidates("onvif", ip="10.0.0.30", vendor="HIKVISION")) == ["hik", "generic"]
    # vendor unknown: vendor-bound sets go after the generic one
    assert names(book.candidates("onvif", ip="10.0.0.30")) == ["generic", "axis", "hik"]
    assert names(book.candidates("cli.cisco_ios", ip="10.0.0.2", vendor="Cisco")) == ["cli-any", "generic"]
    assert names(book.candidates("snmp", ip="10.0.0.2")) == ["snmp-ro", "generic", "hik"]


def test_what_worked_is_tried_first_next_time() -> None:
    book = CredentialBook(parse_credentials(CREDS))
    book.record_success("onvif", "generic", ip="10.0.0.30", mac="c0:56:e3:00:00:01")
    assert names(book.candidates("onvif", ip="10.0.0.30", vendor="HIKVISION"))[0] == "generic"
    assert book.worked("onvif", ip="10.0.0.99", mac="c0:56:e3:00:00:01") == "generic"  # same MAC, new IP


def test_lockout_cap_per_device_and_protocol() -> None:
    book = CredentialBook(parse_credentials(CREDS), max_failures=2)
    assert book.may_try("onvif", ip="10.0.0.30")
    book.record_failure("onvif", ip="10.0.0.30")
    book.record_failure("onvif", ip="10.0.0.30")
    assert not book.may_try("onvif", ip="10.0.0.30")
    assert book.may_try("cli", ip="10.0.0.30")  # another protocol, another account
    assert book.may_try("onvif", ip="10.0.0.31")


def test_cache_keeps_names_never_secrets(tmp_path: Path) -> None:
    cache = tmp_path / "creds-cache.json"
    book = CredentialBook(parse_credentials(CREDS), cache_path=cache)
    book.record_success("onvif", "cam-21", ip="10.0.0.21", mac="ac:cc:8e:00:00:21")
    book.save_cache()
    text = cache.read_text()
    assert "cam-21" in text and SECRET not in text and "pw" not in text
    assert json.loads(text)["devices"]["ac:cc:8e:00:00:21"] == {"onvif": "cam-21"}
    again = CredentialBook(parse_credentials(CREDS), cache_path=cache)
    assert again.worked("onvif", ip="10.0.0.99", mac="ac:cc:8e:00:00:21") == "cam-21"


def test_unreadable_cache_is_ignored(tmp_path: Path) -> None:
    cache = tmp_path / "c.json"
    cache.write_text("{not json")
    assert CredentialBook([], cache_path=cache).worked("onvif", ip="10.0.0.1") is None


def test_file_errors_never_echo_a_secret(tmp_path: Path) -> None:
    path = tmp_path / "creds.yaml"
    path.write_text(f"credentials:\n  - name: x\n    password: {SECRET}\n    bogus: {SECRET}\n")
    with pytest.raises(CredentialFileError) as info:
        load_credentials_file(path)
    assert SECRET not in str(info.value) and "bogus" in str(info.value)


def test_file_loads_and_duplicate_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "creds.yaml"
    path.write_text("- {name: a, username: u, password: p, targets: ['AC-CC-8E-00-00-01']}\n")
    (bound,) = load_credentials_file(path)
    assert bound.targets == {"ac:cc:8e:00:00:01"} and bound.credential.password.get_secret_value() == "p"
    assert SECRET not in repr(parse_credentials([{"name": "s", "password": SECRET}]))
    with pytest.raises(CredentialFileError, match="unique"):
        parse_credentials([{"name": "a"}, {"name": "a"}])
    with pytest.raises(CredentialFileError, match="neither"):
        parse_credentials([{"name": "a", "targets": ["not-an-address"]}])


def test_environment_sets(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("credentials: [{name: from-file, username: u, password: p}]\n")
    env = {
        "ASBUILT_CREDS_FILE": str(path),
        "ASBUILT_ONVIF_USER": "admin",
        "ASBUILT_ONVIF_PASSWORD": SECRET,
        "ASBUILT_SNMP_COMMUNITY": "ro",
        "ASBUILT_CLI_USER": "manager",
        "ASBUILT_CLI_PASSWORD": "x",
    }
    found = credentials_from_env(env)
    assert [b.name for b in found] == ["from-file", "env-onvif", "env-snmp", "env-cli"]
    book = CredentialBook(found)
    assert names(book.candidates("onvif", ip="10.0.0.1")) == ["env-onvif", "from-file"]
    assert SECRET in book.secret_values()
