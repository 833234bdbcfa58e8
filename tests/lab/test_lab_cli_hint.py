"""`asbuilt lab up` tells the technician how to scan what it started, in either mode."""

from __future__ import annotations

from lab.cli import scanner_hint


def _status(mode: str) -> dict[str, object]:
    return {
        "mode": mode,
        "ports": {"http": 8080, "snmp": 1161, "ssh": 2222, "wsd": 3702},
        "scanner_ip": "127.26.0.250" if mode == "loopback" else "10.77.0.250",
        "scanner_netns": "asb-f-scanner",
        "devices": [{"address": "127.26.0.2"}],
    }


def test_loopback_hint_is_a_scan_command_with_the_lab_ports() -> None:
    hint = scanner_hint(_status("loopback"))
    command = next(line.strip() for line in hint.splitlines() if line.strip().startswith("asbuilt scan"))
    assert command.startswith("asbuilt scan 127.26.0.0/24 ")
    assert "--ports http=8080,snmp=1161,ssh=2222" in command and "--creds" in command


def test_namespace_hint_runs_in_the_scanner_namespace() -> None:
    hint = scanner_hint(_status("netns"), "10.77.0.0/24")
    assert "ip netns exec asb-f-scanner asbuilt scan 10.77.0.0/24" in hint
