"""Port-map correlation: edge ports vs uplinks (Netdisco sanity_macs) and the SuzieQ-style invariants."""

from __future__ import annotations

from agent.correlate import Correlation, correlate, source_host
from drivers.schema import Device, PoeStatus, Role
from tests.agent.synth import CORE_ID, CORE_MAC, YARD_ID, SmallSite, camera, core_port, lldp, mac_entry


def assert_invariants(result: Correlation) -> None:
    """No device bound to an uplink; every bound port exists on its switch; one edge port per MAC."""
    switches = {d.id: d for d in result.devices if d.role is Role.SWITCH}
    for b in result.port_bindings:
        assert b.port not in result.uplinks[b.switch_id], f"{b.mac} bound to uplink {b.switch_id} {b.port}"
        sw = switches[b.switch_id].switch
        assert sw is not None and b.port in {p.name for p in sw.ports}, (
            f"{b.port} not a port of {b.switch_id}"
        )
    macs = [b.mac for b in result.port_bindings]
    assert len(macs) == len(set(macs)), "a MAC has more than one edge port"
    for d in result.devices:
        if d.attachment is not None:
            assert d.attachment.port not in result.uplinks[d.attachment.switch_id]
        if d.switch is not None:
            flagged = {p.name for p in d.switch.ports if p.is_uplink}
            assert flagged == set(result.uplinks[d.id])


def placed(result: Correlation) -> dict[str | None, tuple[str, str]]:
    return {
        d.identity.mac: (d.attachment.switch_id, d.attachment.port) for d in result.devices if d.attachment
    }


def test_small_site_every_camera_on_its_edge_port() -> None:
    site = SmallSite()
    result = correlate(site.devices, site.mac_table, site.lldp)
    assert_invariants(result)
    assert result.uplinks[CORE_ID] == {core_port(24)}
    assert result.uplinks[YARD_ID] == {"24"}
    assert placed(result) == {
        site.A: (CORE_ID, core_port(1)),
        site.B: (CORE_ID, core_port(2)),
        site.NVR: (CORE_ID, core_port(20)),
        site.C: (YARD_ID, "1"),
        site.D: (YARD_ID, "10"),
        site.E: (YARD_ID, "10"),
    }
    assert not result.problems


def test_uplink_found_by_lldp_alone() -> None:
    site = SmallSite(switch_macs_in_fdb=False, with_lldp=True)
    result = correlate(site.devices, site.mac_table, site.lldp)
    assert_invariants(result)
    assert result.uplinks[CORE_ID] == {core_port(24)} and result.uplinks[YARD_ID] == {"24"}
    assert placed(result)[site.C] == (YARD_ID, "1")


def test_uplink_found_by_switch_mac_alone() -> None:
    site = SmallSite(switch_macs_in_fdb=True, with_lldp=False)
    result = correlate(site.devices, site.mac_table, site.lldp)
    assert_invariants(result)
    assert result.uplinks[CORE_ID] == {core_port(24)} and result.uplinks[YARD_ID] == {"24"}
    assert placed(result)[site.A] == (CORE_ID, core_port(1))


def test_unmanaged_poe_switch_port_is_an_edge_port_for_all_its_cameras() -> None:
    site = SmallSite()
    result = correlate(site.devices, site.mac_table, site.lldp)
    on_10 = sorted(b.mac for b in result.port_bindings if (b.switch_id, b.port) == (YARD_ID, "10"))
    assert on_10 == sorted([site.D, site.E])
    assert "10" not in result.uplinks[YARD_ID]
    yard = next(d for d in result.devices if d.id == YARD_ID)
    assert yard.switch is not None
    assert not next(p for p in yard.switch.ports if p.name == "10").is_uplink


def test_mac_seen_on_two_switches_without_any_uplink_evidence_goes_to_the_nearer_port() -> None:
    # Neither LLDP nor switch MACs: core:24 looks like an unmanaged switch with many MACs; the camera
    # also seen alone on yard:1 must get yard:1, and still only one port.
    site = SmallSite(switch_macs_in_fdb=False, with_lldp=False)
    result = correlate(site.devices, site.mac_table, site.lldp)
    bindings = [b for b in result.port_bindings if b.mac == site.C]
    assert [(b.switch_id, b.port) for b in bindings] == [(YARD_ID, "1")]
    macs = [b.mac for b in result.port_bindings]
    assert len(macs) == len(set(macs))


def test_poe_and_vlan_reach_the_attachment() -> None:
    site = SmallSite()
    result = correlate(site.devices, site.mac_table, site.lldp)
    a = next(d for d in result.devices if d.identity.mac == site.A).attachment
    assert a is not None
    assert (a.poe_status, a.poe_class, a.poe_power_w, a.vlan, a.switch_name) == (
        PoeStatus.DELIVERING, 3, 6.1, 20, "sw-core",
    )  # fmt: skip
    binding = next(b for b in result.port_bindings if b.mac == site.A)
    assert "poe" in binding.evidence and binding.ip == "10.77.0.21" and binding.device_id == f"mac:{site.A}"


def test_phone_with_bridge_capability_does_not_make_an_uplink() -> None:
    site = SmallSite()
    phone = "00:04:f2:00:00:01"
    table = [*site.mac_table, mac_entry(CORE_ID, core_port(5), phone)]
    neighbors = [*site.lldp, lldp(CORE_ID, core_port(5), phone, caps=("bridge", "telephone"))]
    result = correlate(site.devices, table, neighbors)
    assert core_port(5) not in result.uplinks[CORE_ID]
    binding = next(b for b in result.port_bindings if b.mac == phone)
    assert binding.port == core_port(5) and binding.device_id is None and "lldp" in binding.evidence


def test_unscanned_switch_seen_by_lldp_hides_its_macs_from_edge_binding() -> None:
    site = SmallSite()
    other_switch = "00:11:22:33:44:55"
    hidden_cam = "ac:cc:8e:00:00:77"
    table = [
        *site.mac_table,
        mac_entry(CORE_ID, core_port(12), hidden_cam),
        mac_entry(CORE_ID, core_port(12), other_switch),
    ]
    neighbors = [*site.lldp, lldp(CORE_ID, core_port(12), other_switch, caps=("bridge",))]
    devices = [*site.devices, camera(hidden_cam, "10.77.0.90")]
    result = correlate(devices, table, neighbors)
    assert_invariants(result)
    assert core_port(12) in result.uplinks[CORE_ID]
    assert not any(b.mac == hidden_cam for b in result.port_bindings)


def test_port_missing_from_the_port_list_is_not_bound_and_is_reported() -> None:
    site = SmallSite()
    stray = "ac:cc:8e:00:00:66"
    table = [*site.mac_table, mac_entry(CORE_ID, "Port-channel1", stray)]
    result = correlate(site.devices, table, site.lldp)
    assert_invariants(result)
    assert not any(b.mac == stray for b in result.port_bindings)
    assert [p.target for p in result.problems] == [CORE_ID]
    assert "Port-channel1" in result.problems[0].message


def test_own_mac_on_own_switch_is_ignored() -> None:
    site = SmallSite()
    result = correlate(site.devices, site.mac_table, site.lldp)
    assert not any(b.mac == CORE_MAC for b in result.port_bindings)


def test_recorder_channels_point_at_cameras_by_address() -> None:
    site = SmallSite()
    result = correlate(site.devices, site.mac_table, site.lldp)
    nvr: Device = next(d for d in result.devices if d.role is Role.RECORDER)
    assert nvr.recorder is not None
    ids = [c.camera_id for c in nvr.recorder.channels]
    assert ids == [f"mac:{site.A}", f"mac:{site.B}", None]  # 10.77.0.99 is no camera of the site


def test_source_host_forms() -> None:
    assert source_host("rtsp://10.0.0.5:554/x") == "10.0.0.5"
    assert source_host("10.0.0.5:554") == "10.0.0.5"
    assert source_host(" 10.0.0.5 ") == "10.0.0.5"
    assert source_host("camera-5.local") is None
    assert source_host("http://[fe80::1]:80/") == "fe80::1"


def test_correlation_is_independent_of_input_order() -> None:
    site = SmallSite()
    a = correlate(site.devices, site.mac_table, site.lldp)
    b = correlate(list(reversed(site.devices)), list(reversed(site.mac_table)), list(reversed(site.lldp)))
    assert a.port_bindings == b.port_bindings
    assert sorted(a.devices, key=lambda d: d.id) == sorted(b.devices, key=lambda d: d.id)
