"""Driver ranking from discovery hints, and the CLI dialect chosen from sysObjectID."""

from __future__ import annotations

from agent.identify import cli_driver_for, identify, plan_for, role_hint, vendor_hint
from drivers.base import Candidate, Ports
from drivers.schema import DeviceIdentity, Role, SwitchInfo
from tests.agent.fakes import fake_drivers
from tests.agent.synth import candidate, report

PORTS = Ports(http=8080, snmp=1161, ssh=2222)


def test_wsd_camera_gets_onvif_only() -> None:
    c = candidate(
        "10.0.0.5",
        sources={"wsd", "arp"},
        wsd_endpoint="urn:uuid:1",
        wsd_types=["dn:NetworkVideoTransmitter"],
        open_ports={2222},
    )
    plan = plan_for(c, fake_drivers(), PORTS)
    assert plan.onvif == "onvif" and not plan.onvif_speculative
    assert plan.snmp is None and plan.cli == ()  # an ONVIF device is not asked for SNMP or SSH logins
    assert plan.role_hint is Role.CAMERA


def test_host_silent_to_wsd_with_web_port_gets_a_speculative_onvif_attempt() -> None:
    c = candidate("10.0.0.6", sources={"arp", "tcp"}, open_ports={8080})
    plan = plan_for(c, fake_drivers(), PORTS)
    assert plan.onvif == "onvif" and plan.onvif_speculative
    assert plan.snmp == "snmp"
    assert plan.cli == ()  # no SSH port


def test_host_without_web_port_and_without_wsd_gets_no_onvif() -> None:
    plan = plan_for(candidate("10.0.0.7", sources={"arp"}), fake_drivers(), PORTS)
    assert plan.onvif is None and plan.snmp == "snmp"


def test_ssh_host_is_ranked_for_cli_dialects_best_first() -> None:
    plan = plan_for(candidate("10.0.0.2", sources={"tcp"}, open_ports={2222}), fake_drivers(), PORTS)
    assert plan.cli == ("cli.cisco_ios", "cli.hp_procurve")
    assert plan.drivers == ("snmp", "cli.cisco_ios", "cli.hp_procurve")


def test_sys_object_id_picks_the_dialect_over_scores() -> None:
    plan = plan_for(candidate("10.0.0.3", sources={"tcp"}, open_ports={2222}), fake_drivers(), PORTS)
    hp = report(
        "snmp", "10.0.0.3", role="switch", switch=SwitchInfo(sys_object_id="1.3.6.1.4.1.11.2.3.7.11.181")
    )
    assert cli_driver_for(plan, hp, fake_drivers()) == "cli.hp_procurve"
    cisco = report(
        "snmp", "10.0.0.3", role="switch", switch=SwitchInfo(sys_object_id=".1.3.6.1.4.1.9.1.1208")
    )
    assert cli_driver_for(plan, cisco, fake_drivers()) == "cli.cisco_ios"
    by_vendor = report(
        "snmp",
        "10.0.0.3",
        role="switch",
        identity=DeviceIdentity(vendor="Aruba"),
        switch=SwitchInfo(sys_object_id="1.3.6.1.4.1.99999.1"),
    )
    assert cli_driver_for(plan, by_vendor, fake_drivers()) == "cli.hp_procurve"
    assert cli_driver_for(plan, None, fake_drivers()) == "cli.cisco_ios"  # no SNMP: best score


def test_role_hint_tells_recorders_from_cameras() -> None:
    nvr = candidate(
        "10.0.0.9", wsd_endpoint="urn:uuid:9", wsd_scopes=["onvif://www.onvif.org/type/NetworkVideoStorage"]
    )
    assert role_hint(nvr) is Role.RECORDER
    assert role_hint(candidate("10.0.0.8", wsd_types=["dn:NetworkVideoTransmitter"])) is Role.CAMERA
    assert role_hint(candidate("10.0.0.8", sources={"arp"})) is None


def test_vendor_hint_from_oui() -> None:
    assert vendor_hint(candidate("10.0.0.8", mac="ac:cc:8e:01:02:03")) == "AXIS"
    assert vendor_hint(candidate("10.0.0.8", mac="02:00:00:01:02:03")) is None


def test_identify_orders_by_address_and_reports_each_plan() -> None:
    seen: list[str] = []
    plans = identify(
        [candidate("10.0.0.10"), candidate("10.0.0.9"), candidate("10.0.0.100")],
        PORTS,
        fake_drivers(),
        on_plan=lambda p: seen.append(p.ip),
    )
    assert [p.ip for p in plans] == ["10.0.0.9", "10.0.0.10", "10.0.0.100"] == seen


def test_a_driver_whose_score_raises_just_does_not_fit() -> None:
    class Broken(fake_drivers()["onvif"]):  # type: ignore[misc]
        name = "onvif"

        @classmethod
        def score(cls, candidate: Candidate) -> int:
            raise RuntimeError("bug")

    drivers = {**fake_drivers(), "onvif": Broken}
    plan = plan_for(candidate("10.0.0.5", sources={"wsd"}, wsd_endpoint="urn:uuid:1"), drivers, PORTS)
    assert plan.scores["onvif"] == 0 and plan.onvif is None
