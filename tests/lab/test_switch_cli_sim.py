"""The simulated switch CLIs, read back the way the scanner reads real switches: netmiko over SSH,
parsed by ntc-templates (use_textfsm=True), and compared with the site model.

Both switches of the small site are served: sw-core (cisco_ios, Catalyst 2960-X) and sw-yard
(hp_procurve, Aruba 2530). Traffic stays on 127.22.x.y (this suite's loopback range), SSH ports are
picked by the kernel.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import paramiko
import pytest
from netmiko import ConnectHandler, NetmikoAuthenticationException, NetmikoTimeoutException, ReadTimeout
from netmiko.base_connection import BaseConnection
from ntc_templates.parse import parse_output

from lab.host import PortPlan, SimHost
from lab.site import Dialect, Faults, LabSite, Switch, load_site
from lab.state import LabState
from lab.switch_cli import cisco_ios, facts, hp_procurve
from lab.switch_cli.server import SshServer, start_ssh
from lab.switch_cli.shell import SPECS, CliSession, LineReader

T = TypeVar("T")
_ip_counter = iter(range(1, 250))
TIMEOUTS = {"conn_timeout": 5, "banner_timeout": 5, "auth_timeout": 5, "fast_cli": True}


def next_ip() -> str:
    """A fresh loopback address per server: 127.22.<pid-derived>.<n>, so parallel runs never collide."""
    return f"127.22.{os.getpid() % 250 + 1}.{next(_ip_counter)}"


@dataclass
class Lab:
    state: LabState
    servers: dict[str, SshServer]
    addresses: dict[str, str]

    @property
    def site(self) -> LabSite:
        return self.state.site

    def switch(self, name: str) -> Switch:
        return self.site.switch(name)

    def connect(self, name: str, **overrides: Any) -> BaseConnection:
        """A netmiko session to a switch with its site credentials (blocking: call in a thread)."""
        switch = self.switch(name)
        params: dict[str, Any] = {
            "device_type": switch.dialect.value,
            "host": self.addresses[name],
            "port": self.servers[name].port,
            "username": switch.credential.username,
            "password": switch.credential.password,
            "secret": switch.enable_secret,
            **TIMEOUTS,
        }
        params.update(overrides)
        return ConnectHandler(**params)


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    state = LabState(load_site("small"))
    servers: dict[str, SshServer] = {}
    addresses: dict[str, str] = {}
    try:
        for name in ("sw-core", "sw-yard"):
            addresses[name] = next_ip()
            servers[name] = await start_ssh(
                state, name, SimHost(name, addresses[name], None, PortPlan(ssh=0))
            )
        yield Lab(state, servers, addresses)
    finally:
        for server in servers.values():
            await server.close()


async def in_thread(fn: Callable[[], T]) -> T:
    return await asyncio.wait_for(asyncio.to_thread(fn), 60)


def mac_of(text: str) -> str:
    """Bare lowercase hex of a MAC in any vendor's notation."""
    return re.sub(r"[^0-9a-f]", "", text.lower())


def text_of(conn: BaseConnection, command: str) -> str:
    result = conn.send_command(command)
    assert isinstance(result, str)
    return result


def parsed(conn: BaseConnection, command: str) -> list[dict[str, Any]]:
    """send_command with TextFSM; fails the test if ntc-templates did not parse it."""
    result = conn.send_command(command, use_textfsm=True)
    assert isinstance(result, list), f"{command!r} was not parsed by ntc-templates:\n{result}"
    return result


def one(lab: Lab, name: str, command: str) -> list[dict[str, Any]]:
    with lab.connect(name) as conn:
        return parsed(conn, command)


def one_raw(lab: Lab, name: str, command: str) -> str:
    with lab.connect(name) as conn:
        return text_of(conn, command)


def set_faults(state: LabState, switch: str, **faults: Any) -> None:
    data = state.site.model_dump()
    for item in data["switches"]:
        if item["name"] == switch:
            item["faults"] = Faults(**faults).model_dump()
    state.replace(LabSite.model_validate(data))


def move_device(state: LabState, device: str, switch: str, port: int) -> None:
    data = state.site.model_dump()
    for item in data["devices"]:
        if item["name"] == device:
            item["uplink"] = {"switch": switch, "port": port}
    state.replace(LabSite.model_validate(data))


# ---------------------------------------------------------------- Cisco IOS (sw-core)


async def test_cisco_identity_from_show_version_and_inventory(lab: Lab) -> None:
    switch = lab.switch("sw-core")

    def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
        with lab.connect("sw-core") as conn:
            return parsed(conn, "show version"), parsed(conn, "show inventory"), conn.find_prompt()

    version, inventory, prompt = await in_thread(read)
    assert prompt == "sw-core>"
    assert version[0]["hostname"] == "sw-core"
    assert version[0]["serial"] == [switch.serial]
    assert version[0]["hardware"] == [switch.model]
    assert version[0]["version"] == switch.firmware
    assert [facts.mac_octets(m) for m in version[0]["mac_address"]] == [facts.mac_octets(switch.mac)]
    assert int(version[0]["uptime_weeks"] or 0) * 7 + int(version[0]["uptime_days"] or 0) == (
        facts.uptime_seconds(switch) // 86400
    )
    assert (inventory[0]["pid"], inventory[0]["sn"]) == (switch.model, switch.serial)


async def test_cisco_interfaces_status_matches_port_view(lab: Lab) -> None:
    rows = await in_thread(lambda: one(lab, "sw-core", "show interfaces status"))
    switch = lab.switch("sw-core")
    by_port = {r["port"]: r for r in rows}
    for number in range(1, switch.port_count + 1):
        view = lab.site.port_view("sw-core", number)
        row = by_port[view.short_name]
        assert row["name"] == view.alias[:18]
        assert row["status"] == ("connected" if view.oper_up else "notconnect")
        assert row["vlan_id"] == ("trunk" if view.is_uplink else str(view.vlan))
        if view.oper_up:
            assert row["speed"] == f"a-{view.speed_mbps}"
    assert by_port[switch.port_short_name(switch.port_count + 1)]["type"] == "Not Present"


async def test_cisco_mac_table_matches_fdb(lab: Lab) -> None:
    rows = await in_thread(lambda: one(lab, "sw-core", "show mac address-table"))
    dynamic = {
        (
            mac_of(r["destination_address"]),
            int(r["vlan_id"]),
            r["destination_port"][0],
        )
        for r in rows
        if r["type"] == "DYNAMIC"
    }
    switch = lab.switch("sw-core")
    expected = {(facts.mac_octets(m), v, switch.port_short_name(p)) for m, v, p in lab.site.fdb("sw-core")}
    assert dynamic == expected
    assert any(r["destination_port"] == ["CPU"] for r in rows)  # the static entries a scanner must skip


async def test_cisco_power_inline_matches_port_view(lab: Lab) -> None:
    rows = await in_thread(lambda: one(lab, "sw-core", "show power inline"))
    switch = lab.switch("sw-core")
    assert len(rows) == switch.poe_ports
    for row in rows:
        view = lab.site.port_view("sw-core", int(row["interface"].rsplit("/", 1)[1]))
        assert row["operational_status"] == ("on" if view.poe_status == "delivering" else "off")
        assert row["admin_status"] == ("auto" if view.poe_enabled else "off")
        assert float(row["power"]) == view.power_w
        assert row["class"] == (str(view.poe_class) if view.poe_class is not None else "n/a")


async def test_cisco_lldp_neighbors_match_site_links(lab: Lab) -> None:
    def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        with lab.connect("sw-core") as conn:
            return parsed(conn, "show lldp neighbors"), parsed(conn, "sh lldp neig det")

    brief, detail = await in_thread(read)
    far, far_port = lab.site.link_on("sw-core", 24) or (None, 0)
    assert far is not None
    assert [(r["local_interface"], r["neighbor_name"], r["neighbor_interface"]) for r in brief] == [
        ("Gi1/0/24", far.name, str(far_port))
    ]
    assert detail[0]["chassis_id"] == facts.cisco_mac(far.mac)
    assert detail[0]["mgmt_address"] == far.ip
    assert detail[0]["neighbor_port_id"] == str(far_port)


async def test_cisco_running_config_needs_enable_and_carries_planted_secrets(lab: Lab) -> None:
    switch = lab.switch("sw-core")

    def read() -> tuple[str, str, str]:
        with lab.connect("sw-core") as conn:
            refused = text_of(conn, "show running-config")
            conn.enable()
            return refused, conn.find_prompt(), text_of(conn, "show running-config")

    refused, prompt, config = await in_thread(read)
    assert "% Invalid input detected at '^' marker." in refused
    assert prompt == "sw-core#"
    assert re.search(r"^enable secret 5 \$1\$\S+$", config, re.M)
    assert re.search(rf"^username {switch.credential.username} secret 5 \$1\$", config, re.M)
    assert re.search(r"^username \S+ privilege 15 secret 5 ", config, re.M)
    assert f"snmp-server community {switch.snmp_community} RO" in config
    assert f" password 7 {facts.cisco_type7(switch.credential.password)}" in config
    assert f"ntp server {facts.gateway(switch)}" in config
    assert " description cam-entrance\n switchport access vlan 20" in config
    assert config.rstrip().endswith("end")


async def test_cisco_enable_with_wrong_secret_fails(lab: Lab) -> None:
    def attempt() -> str:
        with lab.connect("sw-core", secret="not-the-secret", read_timeout_override=2) as conn:
            # IOS asks "Password:" again after a wrong secret, so netmiko never sees the '#' prompt.
            with pytest.raises((ValueError, ReadTimeout)):
                conn.enable()
            conn.write_channel("still-wrong\nwrong-again\n")  # use up the three tries
            return str(conn.read_until_pattern(r"sw-core>", read_timeout=5))

    assert "% Bad secrets" in await in_thread(attempt)


async def test_cisco_unknown_commands_get_the_ios_errors(lab: Lab) -> None:
    def read() -> list[str]:
        with lab.connect("sw-core") as conn:
            return [text_of(conn, c) for c in ("show bogus", "sh in", "show")]

    invalid, ambiguous, incomplete = await in_thread(read)
    assert "% Invalid input detected at '^' marker." in invalid
    assert '% Ambiguous command:  "sh in"' in ambiguous
    assert "% Incomplete command." in incomplete


# ---------------------------------------------------------------- HP ProCurve (sw-yard)


async def test_procurve_identity_from_show_system(lab: Lab) -> None:
    switch = lab.switch("sw-yard")

    def read() -> tuple[list[dict[str, Any]], str, str]:
        with lab.connect("sw-yard") as conn:
            return parsed(conn, "show system"), text_of(conn, "show version"), conn.find_prompt()

    system, version, prompt = await in_thread(read)
    assert prompt == "sw-yard#"
    assert system[0]["name"] == "sw-yard"
    assert system[0]["serial"] == switch.serial
    assert system[0]["software_version"] == switch.firmware
    assert system[0]["mac_address"] == facts.procurve_mac(switch.mac)
    assert switch.firmware in version  # no template for a switch's show version: raw text


async def test_procurve_interfaces_match_port_view(lab: Lab) -> None:
    def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        with lab.connect("sw-yard") as conn:
            return parsed(conn, "show interfaces brief"), parsed(conn, "show interfaces status")

    brief, status = await in_thread(read)
    brief_by_port = {r["port"]: r for r in brief}
    status_by_port = {r["port"]: r for r in status}
    for number in range(1, lab.switch("sw-yard").port_count + 1):
        view = lab.site.port_view("sw-yard", number)
        assert brief_by_port[str(number)]["status"] == ("Up" if view.oper_up else "Down")
        row = status_by_port[str(number)]
        assert row["name"] == (view.alias if len(view.alias) <= 10 else view.alias[:7] + "...")
        assert row["vlan_untagged"] == str(view.vlan)
        assert row["vlan_tagged"] == ("20" if view.is_uplink else "No")
        if view.oper_up:
            assert brief_by_port[str(number)]["mode"] == f"{view.speed_mbps}FDx"


async def test_procurve_mac_table_matches_fdb(lab: Lab) -> None:
    rows = await in_thread(lambda: one(lab, "sw-yard", "show mac-address"))
    got = {(mac_of(r["mac_address"]), int(r["vlan_id"]), int(r["port"])) for r in rows}
    assert got == {(facts.mac_octets(m), v, p) for m, v, p in lab.site.fdb("sw-yard")}


_POE_ROW = re.compile(
    r"^\s*(?P<port>\d+)\s+\|\s+(?P<enable>Yes|No)\s+(?P<priority>\w+)\s+(?P<alloc_by>\w+)\s+"
    r"(?P<alloc>\d+) W\s+(?P<actual>[\d.]+) W\s+(?:\S+\s+)??(?P<status>Delivering|Searching|Disabled|Fault)"
    r"\s+(?P<klass>\d)\s*$",
    re.M,
)


async def test_procurve_power_over_ethernet_brief_for_a_hand_parser(lab: Lab) -> None:
    text = await in_thread(lambda: one_raw(lab, "sw-yard", "show power-over-ethernet brief"))
    assert isinstance(text, str)  # ntc-templates has no template for this command
    rows = {int(m["port"]): m for m in _POE_ROW.finditer(text)}
    switch = lab.switch("sw-yard")
    assert sorted(rows) == list(range(1, switch.poe_ports + 1))
    for number, row in rows.items():
        view = lab.site.port_view("sw-yard", number)
        assert row["enable"] == ("Yes" if view.poe_enabled else "No")
        assert row["status"].lower() == view.poe_status
        assert float(row["actual"]) == view.power_w
        assert int(row["klass"]) == (view.poe_class or 0)
    assert f"Available: {switch.poe_budget_w:.0f} W" in text


async def test_procurve_lldp_matches_site_links(lab: Lab) -> None:
    def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        with lab.connect("sw-yard") as conn:
            return parsed(conn, "show lldp info remote-device"), parsed(
                conn, "show lldp info remote-device 24"
            )

    table, detail = await in_thread(read)
    far, far_port = lab.site.link_on("sw-yard", 24) or (None, 0)
    assert far is not None
    assert [(r["local_interface"], r["neighbor_name"], r["chassis_id"]) for r in table] == [
        ("24", far.name, facts.procurve_mac(far.mac))
    ]
    assert detail[0]["neighbor_interface"] == far.port_short_name(far_port)
    assert detail[0]["mgmt_address"] == far.ip


async def test_procurve_running_config_and_vlans(lab: Lab) -> None:
    switch = lab.switch("sw-yard")

    def read() -> tuple[str, list[dict[str, Any]]]:
        with lab.connect("sw-yard") as conn:
            return text_of(conn, "show running-config"), parsed(conn, "show vlans")

    config, vlans = await in_thread(read)
    assert (
        f'password manager user-name "manager" sha1 "{facts.sha1_hex(switch.credential.password)}"' in config
    )
    assert f'snmp-server community "{switch.snmp_community}" operator' in config
    assert re.search(rf'^snmpv3 user "{switch.snmp_v3_user}" auth sha "\w+" priv aes "\w+"$', config, re.M)
    assert '   name "cam-gate"' in config
    assert {int(v["vlan_id"]): v["vlan_name"] for v in vlans} == switch.vlans


async def test_procurve_unknown_command_error(lab: Lab) -> None:
    text = await in_thread(lambda: one_raw(lab, "sw-yard", "show bogus"))
    assert "Invalid input: bogus" in text


# ---------------------------------------------------------------- both: login, liveness, faults


@pytest.mark.parametrize("name", ["sw-core", "sw-yard"])
async def test_wrong_ssh_password_is_rejected(lab: Lab, name: str) -> None:
    with pytest.raises(NetmikoAuthenticationException):
        await in_thread(lambda: lab.connect(name, password="wrong-password"))


async def test_reject_credentials_fault_refuses_the_right_password(lab: Lab) -> None:
    set_faults(lab.state, "sw-core", reject_credentials=True)
    with pytest.raises(NetmikoAuthenticationException):
        await in_thread(lambda: lab.connect("sw-core"))


async def test_a_moved_camera_appears_on_its_new_port_in_the_next_mac_table(lab: Lab) -> None:
    conn = await in_thread(lambda: lab.connect("sw-core"))
    try:
        lobby = mac_of(lab.site.device("cam-lobby").mac)

        def lobby_port() -> str:
            rows = parsed(conn, "show mac address-table")
            return next(r["destination_port"][0] for r in rows if mac_of(r["destination_address"]) == lobby)

        assert await in_thread(lobby_port) == "Gi1/0/2"
        move_device(lab.state, "cam-lobby", "sw-core", 11)
        assert await in_thread(lobby_port) == "Gi1/0/11"
        status = await in_thread(lambda: parsed(conn, "show interfaces status"))
        assert {r["port"]: r["name"] for r in status}["Gi1/0/11"] == "cam-lobby"
    finally:
        await in_thread(conn.disconnect)


async def test_a_gone_switch_accepts_tcp_but_never_speaks(lab: Lab) -> None:
    lab.state.gone.add("sw-yard")
    with pytest.raises(NetmikoTimeoutException):
        await in_thread(lambda: lab.connect("sw-yard", conn_timeout=1, banner_timeout=1, auth_timeout=1))


async def test_closing_the_server_ends_open_sessions(lab: Lab) -> None:
    conn = await in_thread(lambda: lab.connect("sw-core"))
    await lab.servers["sw-core"].close()

    def still_talking() -> bool:
        try:
            conn.send_command("show version", read_timeout=3)
        except (OSError, ReadTimeout, EOFError):
            return False
        return True

    assert not await in_thread(still_talking)


async def test_slow_reply_fault_delays_answers_past_a_short_read_timeout(lab: Lab) -> None:
    conn = await in_thread(lambda: lab.connect("sw-yard"))
    set_faults(lab.state, "sw-yard", slow_reply_s=5)
    try:
        conn.write_channel("show system\n")
        with pytest.raises(ReadTimeout):  # the echo comes at once, the answer only after 5 s
            await in_thread(lambda: conn.read_until_pattern("General System Information", read_timeout=1))
    finally:
        await lab.servers["sw-yard"].close()  # ends the session still sleeping on the reply


async def test_exec_request_runs_one_command(lab: Lab) -> None:
    def run() -> str:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # lab host keys are made at start
        switch = lab.switch("sw-core")
        client.connect(
            lab.addresses["sw-core"],
            port=lab.servers["sw-core"].port,
            username=switch.credential.username,
            password=switch.credential.password,
            look_for_keys=False,
            allow_agent=False,
            timeout=5,
        )
        try:
            _, stdout, _ = client.exec_command("show inventory", timeout=5)
            return str(stdout.read().decode())
        finally:
            client.close()

    assert f"SN: {lab.switch('sw-core').serial}" in await in_thread(run)


# ---------------------------------------------------------------- the session without SSH


def _session(site: LabSite, name: str) -> CliSession:
    switch = site.switch(name)
    return CliSession(SPECS[switch.dialect], lambda: (site, switch))


def test_paging_until_terminal_length_0() -> None:
    site = load_site("small")
    session = _session(site, "sw-core")
    session.start()
    first = session.handle("show running-config")  # user mode: not visible
    assert "% Invalid input" in first.text
    paged = session.handle("sh mac address-table")
    assert paged.text.endswith(" --More-- ") and paged.text.count("\r\n") == 23
    assert session.handle("q").text.endswith("sw-core>")
    assert session.handle("terminal length 0").text == "sw-core>"
    whole = session.handle("sh mac address-table")
    assert "--More--" not in whole.text and "Total Mac Addresses" in whole.text


def test_procurve_banner_key_and_logout_question() -> None:
    site = load_site("small")
    session = _session(site, "sw-yard")
    assert session.start().endswith("Press any key to continue") and session.single_key
    assert session.handle("\n").text.endswith("sw-yard# ")
    assert session.handle("no page").text == "sw-yard# "
    assert session.handle("show vlans | include CCTV").text.startswith("  20 ")
    assert session.handle("logout").text == "Do you want to log out [y/n]? "
    assert session.handle("y").close


def test_line_reader_echo_backspace_and_bound() -> None:
    reader = LineReader(max_length=5)
    echoed = [reader.push(c, echo=True, single_key=False) for c in "sh\x7fow"]
    assert "".join(e for e, _ in echoed) == "sh\b \bow"
    assert reader.push("\r", echo=True, single_key=False) == ("\r\n", "sow")
    assert reader.push("\n", echo=True, single_key=False) == ("", None)  # LF of CR LF
    for c in "abcde":
        reader.push(c, echo=False, single_key=False)
    assert reader.push("f", echo=False, single_key=False) == ("\x07", None)
    assert reader.push("\n", echo=False, single_key=False) == ("\r\n", "abcde")


@pytest.mark.parametrize("name", ["sw-01", "sw-02"])
def test_every_templated_command_parses_on_a_generated_48_port_switch(name: str) -> None:
    """The 48-port models and chained uplinks of a generated site, straight through ntc-templates."""
    site = load_site("large-40")
    switch = site.switch(name)
    module: Any = cisco_ios if switch.dialect is Dialect.CISCO_IOS else hp_procurve
    for command in module.TEMPLATES:
        if "<ports>" in command:
            text = module.ARGUMENT_COMMANDS[command.replace(" <ports>", "")](site, switch, "all")
            command = command.replace("<ports>", f"1-{switch.port_count}")
        else:
            text = module.COMMANDS[command](site, switch)
        rows = parse_output(platform=switch.dialect.value, command=command, data=text)
        assert rows, f"{name}: {command!r} parsed to nothing"
        if command in ("show mac address-table", "show mac-address"):
            learned = [r for r in rows if r.get("type", "DYNAMIC") == "DYNAMIC"]
            assert len(learned) == len(site.fdb(name))
        if command in ("show lldp neighbors", "show lldp info remote-device"):
            links = [p for p in range(1, switch.port_count + 1) if site.link_on(name, p)]
            assert len(rows) == len(links) >= 1
