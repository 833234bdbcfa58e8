"""Namespace building blocks: the iproute2 batch text, the segment itself, and teardown that finds
everything by prefix, also after the lab process was killed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from lab.control import is_lab_process, start_daemon, stop_lab
from lab.netns import (
    Endpoint,
    LabNames,
    LabNetwork,
    check_lab_id,
    delete_namespaces,
    endpoint_batch,
    list_namespaces,
    veth_batch,
)
from tests.lab.conftest import new_lab_id, requires_root


def test_names_share_one_prefix_per_lab() -> None:
    names = LabNames("t42")
    assert (names.bridge, names.scanner, names.device(7)) == ("asb-t42-br", "asb-t42-scan", "asb-t42-7")
    assert all(n.startswith(names.prefix) for n in (names.bridge, names.scanner, names.device(1)))


@pytest.mark.parametrize("bad", ["", "has-dash", "UPPER", "x" * 17, "a b"])
def test_lab_ids_that_could_overlap_another_lab_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="lab id"):
        check_lab_id(bad)


def test_teardown_refuses_prefixes_outside_asb() -> None:
    for prefix in ("", "asb-", "lp-", "other-"):
        with pytest.raises(ValueError, match="refusing"):
            delete_namespaces(prefix)


def test_interface_names_stay_within_15_characters() -> None:
    with pytest.raises(ValueError, match="15"):
        Endpoint("asb-x-1", "p" * 16, "02:00:00:00:00:01", "10.0.0.1/24")


def test_batch_text_creates_each_veth_straight_into_its_namespaces() -> None:
    ep = Endpoint("asb-t1-3", "p3", "ac:cc:8e:5a:01:01", "10.77.0.21/24")
    assert veth_batch([ep], "asb-t1-br") == (
        "link add eth0 netns asb-t1-3 address ac:cc:8e:5a:01:01 type veth peer name p3 netns asb-t1-br\n"
    )
    config = endpoint_batch(ep)
    assert "addr add 10.77.0.21/24 dev eth0" in config
    assert "route add 224.0.0.0/4 dev eth0" in config


def _ip(*args: str) -> str:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=True).stdout


def _mac(netns: str) -> str:
    words = _ip("-n", netns, "-o", "link", "show", "dev", "eth0").split()
    return words[words.index("link/ether") + 1]


def _scanner_learns(scanner_ns: str, ip: str) -> str:
    """Send one datagram from the scanner namespace to `ip`, then return the scanner's ARP table."""
    poke = f"import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('{ip}', 9))"
    subprocess.run(["ip", "netns", "exec", scanner_ns, "python3", "-c", poke], check=True)
    deadline = time.monotonic() + 3
    neigh = _ip("-n", scanner_ns, "neigh")
    while time.monotonic() < deadline and "lladdr" not in neigh:
        time.sleep(0.05)
        neigh = _ip("-n", scanner_ns, "neigh")
    return neigh


@requires_root
async def test_segment_has_the_devices_macs_and_addresses_and_goes_away() -> None:
    net = LabNetwork(new_lab_id())
    devices = [
        Endpoint(net.names.device(n), f"p{n}", f"02:00:00:00:00:0{n}", f"10.66.0.{n}/24") for n in (1, 2, 3)
    ]
    try:
        await net.build("10.66.0.250/24", "02:00:00:00:00:fe", devices)
        assert len(list_namespaces(net.names.prefix)) == 5  # bridge + scanner + 3
        for ep in devices:
            assert _mac(ep.netns) == ep.mac
            assert f"inet {ep.address}" in _ip("-n", ep.netns, "-o", "addr", "show", "dev", "eth0")
        neigh = await asyncio.to_thread(_scanner_learns, net.names.scanner, "10.66.0.2")
        assert "10.66.0.2 dev eth0 lladdr 02:00:00:00:00:02" in neigh

        await net.remove([devices[0].netns])
        assert devices[0].netns not in list_namespaces(net.names.prefix)
        await net.add([devices[0]])  # the same names right away: the old veth is really gone
        assert _mac(devices[0].netns) == devices[0].mac
    finally:
        removed = net.teardown()
    assert len(removed) == 5
    assert list_namespaces(net.names.prefix) == []
    assert net.teardown() == []  # idempotent


@requires_root
def test_down_after_a_crash_kills_nothing_else_and_removes_every_namespace(tmp_path: Path) -> None:
    lab_id = new_lab_id()
    info = start_daemon("small", "netns", lab_id, tmp_path, wait_s=120)
    pid = info["pid"]
    assert is_lab_process(pid)
    assert len(list_namespaces(LabNames(lab_id).prefix)) == 18  # 16 devices + bridge + scanner
    os.kill(pid, signal.SIGKILL)  # a crash: nothing gets cleaned up by the lab itself
    deadline = time.monotonic() + 10
    while is_lab_process(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list_namespaces(LabNames(lab_id).prefix)  # still there
    said = stop_lab(tmp_path, lab_id)
    assert "removed 18 leftover namespaces" in said
    assert list_namespaces(LabNames(lab_id).prefix) == []
    assert not is_lab_process(pid)
    assert stop_lab(tmp_path, lab_id) == "no lab was running"
