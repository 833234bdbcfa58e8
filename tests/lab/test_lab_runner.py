"""The whole small site running, probed over real sockets as a scanner would: in namespaces (root)
and on 127.23.x.y. Probes are raw protocol messages, so they check the lab, not a client library."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from zeroconf import IPVersion, ServiceBrowser, Zeroconf

from lab.changes import move_device, swap_device
from lab.control import is_lab_process
from lab.host import PortPlan, run_in_netns
from lab.mdns import AXIS_VIDEO, axis_instance_name
from lab.netns import list_namespaces
from lab.runner import LabRunner, loopback_address, services_for
from lab.site import LabSite
from lab.truth import ground_truth
from tests.lab.conftest import LOOPBACK_BASE, RunLab, new_lab_id, requires_root

WSD_GROUP = ("239.255.255.250", 3702)
PROBE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
    'xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><s:Header>'
    '<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>'
    "<a:MessageID>urn:uuid:{mid}</a:MessageID>"
    "<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>"
    '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>'
    "</s:Header><s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>"
)
ENDPOINT = re.compile(rb"urn:uuid:4d454930-[0-9a-f-]+")


# ---------------------------------------------------------------- raw probes (blocking, run in threads)


def wsd_probe(sock: socket.socket, targets: list[tuple[str, int]], listen_s: float = 2.0) -> dict[str, bytes]:
    """Send one Probe to each target (the multicast group, or unicast addresses); collect answers
    by sender address -> endpoint reference."""
    sock.settimeout(0.2)
    message = PROBE.format(mid=uuid.uuid4()).encode()
    for target in targets:
        sock.sendto(message, target)
    found: dict[str, bytes] = {}
    deadline = time.monotonic() + listen_s
    while time.monotonic() < deadline:
        try:
            data, (addr, _port) = sock.recvfrom(65536)
        except TimeoutError:
            continue
        match = ENDPOINT.search(data)
        if b"ProbeMatch" in data and match:
            found[addr] = match.group(0)
    sock.close()
    return found


def _ber(tag: int, body: bytes) -> bytes:
    assert len(body) < 128
    return bytes([tag, len(body)]) + body


def snmp_get(community: str, oid: str = "1.3.6.1.2.1.1.1.0") -> bytes:
    """A minimal SNMPv2c GetRequest, BER-encoded by hand."""
    parts = [int(p) for p in oid.split(".")]
    encoded = bytes([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        while part := part >> 7:
            chunk.append(0x80 | (part & 0x7F))
        encoded += bytes(reversed(chunk))
    varbind = _ber(0x30, _ber(0x30, _ber(0x06, encoded) + b"\x05\x00"))
    pdu = _ber(0xA0, _ber(0x02, b"\x01") + _ber(0x02, b"\x00") + _ber(0x02, b"\x00") + varbind)
    return _ber(0x30, _ber(0x02, b"\x01") + _ber(0x04, community.encode()) + pdu)


def udp_answer(sock: socket.socket, target: tuple[str, int], payload: bytes, wait_s: float = 3.0) -> bytes:
    sock.settimeout(wait_s)
    sock.sendto(payload, target)
    try:
        return sock.recvfrom(65536)[0]
    finally:
        sock.close()


def tcp_first_bytes(sock: socket.socket, target: tuple[str, int], send: bytes = b"") -> bytes:
    sock.settimeout(5)
    try:
        sock.connect(target)
        if send:
            sock.sendall(send)
        return sock.recv(256)
    finally:
        sock.close()


def mdns_browse(zc: Zeroconf, wait_s: float = 5.0, expect: int = 1) -> dict[str, dict[str, str | None]]:
    """Browse _axis-video._tcp; instance name -> TXT properties."""
    names: list[str] = []
    browser = ServiceBrowser(zc, [AXIS_VIDEO], handlers=[lambda **kw: names.append(kw["name"])])
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and len(set(names)) < expect:
        time.sleep(0.05)
    found: dict[str, dict[str, str | None]] = {}
    for name in sorted(set(names)):
        info = zc.get_service_info(AXIS_VIDEO, name, 3000)
        if info is not None:
            found[name.removesuffix("." + AXIS_VIDEO)] = info.decoded_properties
    browser.cancel()
    zc.close()
    return found


# ---------------------------------------------------------------- shared expectations


def up_services(runner: LabRunner) -> dict[str, set[str]]:
    return {d.name: {s for s, st in d.services.items() if st.up} for d in runner.status().devices}


def expected_mdns(site: LabSite) -> dict[str, str]:
    return {
        axis_instance_name(d): d.mac.replace(":", "").upper()
        for d in site.devices
        if "mdns" in services_for(d)
    }


def udp_socket(netns: str | None, bind_ip: str) -> socket.socket:
    def make() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((bind_ip, 0))
        return sock

    return run_in_netns(netns, make)


def tcp_socket(netns: str | None) -> socket.socket:
    return run_in_netns(netns, lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))


def check_services(runner: LabRunner, netns: str | None) -> list[str]:
    """Probe every simulator the runner reports up; return what did not answer."""
    site, failures = runner.state.site, []
    for name, services in up_services(runner).items():
        item = next((s for s in site.switches if s.name == name), None) or site.device(name)
        addr = runner.address(item.ip)
        if "onvif" in services:
            reply = tcp_first_bytes(tcp_socket(netns), (addr, runner.ports.http), b"GET / HTTP/1.0\r\n\r\n")
            if not reply.startswith(b"HTTP/1."):
                failures.append(f"{name} http: {reply[:40]!r}")
        if "ssh" in services:
            banner = tcp_first_bytes(tcp_socket(netns), (addr, runner.ports.ssh))
            if not banner.startswith(b"SSH-2.0"):
                failures.append(f"{name} ssh: {banner[:40]!r}")
        if "snmp" in services and not item.faults.snmp_timeout:
            community = item.snmp_community  # type: ignore[union-attr]
            sock = udp_socket(netns, runner.scanner_address)
            try:
                reply = udp_answer(sock, (addr, runner.ports.snmp), snmp_get(community))
            except TimeoutError:
                reply = b""
            if not (reply.startswith(b"\x30") and b"\xa2" in reply):
                failures.append(f"{name} snmp: {reply[:40]!r}")
    return failures


def answering_wsd(site: LabSite) -> set[str]:
    return {d.ip for d in site.devices if not d.faults.wsd_disabled}


# ---------------------------------------------------------------- namespace mode


def neighbours(netns: str) -> dict[str, str]:
    out = subprocess.run(["ip", "-n", netns, "neigh", "show", "dev", "eth0"], capture_output=True, text=True)
    found = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if "lladdr" in parts:
            found[parts[0]] = parts[parts.index("lladdr") + 1]
    return found


def arp_resolve(netns: str, scanner_ip: str, ips: list[str]) -> dict[str, str]:
    """Make the scanner's kernel ARP for every address (a UDP datagram each), then read its table."""
    subprocess.run(["ip", "-n", netns, "neigh", "flush", "dev", "eth0"], check=True)
    sock = udp_socket(netns, scanner_ip)
    for ip in ips:
        sock.sendto(b"x", (ip, 9))
    sock.close()
    deadline = time.monotonic() + 3
    table = neighbours(netns)
    while time.monotonic() < deadline and not set(ips) <= set(table):
        time.sleep(0.1)
        table = neighbours(netns)
    return table


@requires_root
async def test_small_site_in_namespaces_answers_like_a_real_lan(small_site: LabSite, run_lab: RunLab) -> None:
    truth = ground_truth(small_site)
    async with run_lab(small_site, "netns") as runner:
        scan_ns = runner.names.scanner
        scanner_ip = small_site.scanner_ip
        assert scan_ns in list_namespaces(runner.names.prefix)

        # ARP: every device answers with the MAC of the ground truth
        ips = [s.ip for s in truth.switches] + [d.ip for d in truth.devices]
        table = await asyncio.to_thread(arp_resolve, scan_ns, scanner_ip, ips)
        expected = {s.ip: s.mac for s in truth.switches} | {d.ip: d.mac for d in truth.devices}
        assert {ip: table.get(ip) for ip in ips} == expected

        # WS-Discovery: one multicast probe from the scanner namespace
        if any("wsd" in s for s in up_services(runner).values()):
            sock = udp_socket(scan_ns, scanner_ip)
            found = await asyncio.to_thread(wsd_probe, sock, [WSD_GROUP])
            assert set(found) == answering_wsd(small_site)
            assert found["10.77.0.21"] == truth.device("cam-entrance").endpoint_reference.encode()

        # mDNS: a browser created inside the scanner namespace sees every Axis camera
        want = expected_mdns(small_site)
        zc = run_in_netns(scan_ns, lambda: Zeroconf(interfaces=[scanner_ip], ip_version=IPVersion.V4Only))
        seen = await asyncio.to_thread(mdns_browse, zc, 5.0, len(want))
        assert {name: txt["macaddress"] for name, txt in seen.items()} == want

        # TCP 80 / UDP 161 / TCP 22 wherever the simulator runs
        assert await asyncio.to_thread(check_services, runner, scan_ns) == []


@requires_root
async def test_swap_and_move_apply_to_the_running_namespaces(small_site: LabSite, run_lab: RunLab) -> None:
    async with run_lab(small_site, "netns") as runner:
        before = up_services(runner)["cam-gate"]
        swapped = swap_device(small_site, "cam-gate")
        summary = await runner.apply(move_device(swapped, "cam-office", "sw-core:12"))
        assert summary["readdressed"] == ["cam-gate"]
        new_mac = runner.state.site.device("cam-gate").mac
        assert new_mac != small_site.device("cam-gate").mac
        table = await asyncio.to_thread(
            arp_resolve, runner.names.scanner, small_site.scanner_ip, ["10.77.0.61", "10.77.0.31"]
        )
        assert table["10.77.0.61"] == new_mac
        assert table["10.77.0.31"] == small_site.device("cam-office").mac
        assert up_services(runner)["cam-gate"] == before  # its simulators came back in the new namespace


@requires_root
async def test_stop_leaves_no_namespace_even_after_an_error(small_site: LabSite, run_lab: RunLab) -> None:
    prefix = ""
    with pytest.raises(RuntimeError, match="boom"):
        async with run_lab(small_site, "netns") as runner:
            prefix = runner.names.prefix
            assert len(list_namespaces(prefix)) == len(small_site.switches) + len(small_site.devices) + 2
            raise RuntimeError("boom")
    assert prefix and list_namespaces(prefix) == []


# ---------------------------------------------------------------- loopback mode


def test_loopback_addresses_keep_the_host_part() -> None:
    assert loopback_address("10.77.0.21", "10.77.0.0/24", 23) == "127.23.0.21"
    assert loopback_address("10.79.3.7", "10.79.0.0/22", 23) == "127.23.3.7"
    with pytest.raises(ValueError, match="larger than /16"):
        loopback_address("10.1.2.3", "10.0.0.0/8", 23)


async def test_small_site_on_loopback_answers_on_127_23(small_site: LabSite, run_lab: RunLab) -> None:
    async with run_lab(small_site, "loopback", ports=PortPlan.unprivileged()) as runner:
        assert runner.address("10.77.0.21") == f"127.{LOOPBACK_BASE}.0.21"
        status = {d.name: d for d in runner.status().devices}
        assert status["cam-entrance"].address == "127.23.0.21"
        assert status["sw-core"].services.keys() == {"snmp", "ssh"}
        assert status["cam-entrance"].services.keys() == {"onvif", "wsd", "mdns"}
        # a missing simulator is reported per device with the reason, never silently
        for device in status.values():
            for service in device.services.values():
                assert service.up or service.error

        if any("wsd" in s for s in up_services(runner).values()):
            targets = [(runner.address(d.ip), 3702) for d in small_site.devices]
            sock = udp_socket(None, runner.scanner_address)
            found = await asyncio.to_thread(wsd_probe, sock, targets)
            assert set(found) == {runner.address(ip) for ip in answering_wsd(small_site)}

        want = expected_mdns(small_site)
        zc = Zeroconf(interfaces=[runner.scanner_address], ip_version=IPVersion.V4Only)
        seen = await asyncio.to_thread(mdns_browse, zc, 5.0, len(want))
        assert {name: txt["macaddress"] for name, txt in seen.items() if name in want} == want
        assert status["cam-entrance"].services["mdns"].up

        assert await asyncio.to_thread(check_services, runner, None) == []


async def test_added_and_removed_devices_start_and_stop_on_loopback(
    small_site: LabSite, run_lab: RunLab
) -> None:
    from lab.changes import add_device, remove_device

    async with run_lab(small_site, "loopback", ports=PortPlan.unprivileged()) as runner:
        site = add_device(small_site, like="cam-entrance", name="cam-new", port="sw-core:14")
        site = remove_device(site, "cam-dock-2")
        summary = await runner.apply(site)
        assert summary["added"] == ["cam-new"] and summary["removed"] == ["cam-dock-2"]
        new = runner.state.site.device("cam-new")
        status = {d.name: d for d in runner.status().devices}
        assert "cam-dock-2" not in status
        assert status["cam-new"].services["mdns"].up  # an Axis copy announces itself
        if status["cam-new"].services["onvif"].up:
            port = runner.ports.http
            reply = await asyncio.to_thread(
                tcp_first_bytes, tcp_socket(None), (runner.address(new.ip), port), b"GET / HTTP/1.0\r\n\r\n"
            )
            assert reply.startswith(b"HTTP/1.")
            with pytest.raises(ConnectionRefusedError):
                await asyncio.to_thread(tcp_first_bytes, tcp_socket(None), ("127.23.0.42", port))


async def test_gone_timer_marks_the_faulty_device(small_site: LabSite, run_lab: RunLab) -> None:
    from lab.changes import set_fault

    site = set_fault(small_site, "cam-stairs", "gone_after_discovery")
    async with run_lab(site, "loopback", ports=PortPlan.unprivileged(), gone_after_s=0.3) as runner:
        assert "cam-stairs" not in runner.state.gone  # the timer cannot have run: no await since start
        for _ in range(100):
            await asyncio.sleep(0.05)
            if runner.state.gone:
                break
        assert runner.state.gone == {"cam-stairs"}
        await runner.apply(set_fault(site, "cam-stairs", "gone_after_discovery", False))
        assert runner.state.gone == set()


# ---------------------------------------------------------------- the command line


def asbuilt(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("asbuilt")
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run([str(exe), "lab", *args], capture_output=True, text=True, timeout=180, env=env)


def test_cli_up_status_change_truth_down(tmp_path: Path) -> None:
    where = ["--state-dir", str(tmp_path)]
    options = ["--loopback", "--loopback-base", str(LOOPBACK_BASE), "--ports", "unprivileged"]
    started = asbuilt("up", *options, "--lab-id", new_lab_id(), *where)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert "cam-entrance" in started.stdout and "127.23.0.21" in started.stdout
        pid = json.loads((tmp_path / "lab.json").read_text())["pid"]
        assert is_lab_process(pid)

        status = json.loads(asbuilt("status", "--json", *where).stdout)
        assert {d["name"]: d["address"] for d in status["devices"]}["nvr-yard"] == "127.23.0.12"
        assert status["ports"]["http"] == 8080

        moved = asbuilt("change", "move", "cam-office", "--to", "sw-core:12", *where)
        assert moved.returncode == 0 and "applied move" in moved.stdout
        refused = asbuilt("change", "move", "cam-office", "--to", "sw-core:1", *where)
        assert refused.returncode == 1 and "already used by cam-entrance" in refused.stdout
        firmware = asbuilt("change", "firmware", "cam-lobby", "10.12.200", *where)
        assert firmware.returncode == 0

        truth = json.loads(asbuilt("truth", "--json", *where).stdout)
        devices = {d["name"]: d for d in truth["devices"]}
        assert devices["cam-office"]["port"] == "GigabitEthernet1/0/12"
        assert devices["cam-lobby"]["firmware"] == "10.12.200"
    finally:
        stopped = asbuilt("down", *where)
    assert stopped.returncode == 0 and "stopped the lab" in stopped.stdout
    assert not is_lab_process(pid)
    assert not (tmp_path / "control.sock").exists()
    assert "no lab was running" in asbuilt("down", *where).stdout
