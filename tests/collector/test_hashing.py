"""The collector's fast content hash must equal the contract's definition, Snapshot.content_hash()."""

from __future__ import annotations

from datetime import UTC, datetime

from collector.hashing import content_hash, fingerprint, volatile_exclude
from drivers.schema import LldpNeighbor, MacEntry, PortBinding, Snapshot
from tests.collector.factory import depot, edit, large_site, problem, with_devices


def test_fast_hash_equals_the_contract_hash():
    base = depot()
    sw = "mac:00:1b:54:c2:10:00"
    cam = "ac:cc:8e:5a:01:01"
    rich = with_devices(
        base,
        edit(base.devices[0], onvif=None, uptime_s=None),
        mac_table=(MacEntry(switch_id=sw, port="Gi1/0/1", mac=cam, vlan=20, source="snmp:q-bridge"),),
        lldp_neighbors=(
            LldpNeighbor(switch_id=sw, local_port="Gi1/0/24", chassis_id="94:18:82:7a:20:00", port_id="24"),
        ),
        port_bindings=(PortBinding(switch_id=sw, port="Gi1/0/1", mac=cam, evidence=("fdb", "arp")),),
        problems=(problem("10.77.0.99"),),
    )
    for snap in (base, rich, large_site(120), Snapshot.model_validate(rich.model_dump())):
        assert content_hash(snap) == snap.content_hash()


def test_floats_orjson_would_write_otherwise_take_the_exact_path():
    # json.dumps writes 1e-05 and 2e+16; orjson writes 0.00001 and 2e16: such a snapshot is re-sorted
    # by json.dumps, and the hash still equals the definition's.
    base = depot()
    cam = next(d for d in base.devices if d.onvif is not None and d.onvif.profiles)
    switch = next(d for d in base.devices if d.switch is not None)
    profile = cam.onvif.profiles[0]
    tiny = edit(profile, video_encoder=edit(profile.video_encoder, quality=1e-05, frame_rate=2.5e-7))
    odd = with_devices(
        base,
        edit(cam, onvif__profiles=(tiny, *cam.onvif.profiles[1:])),
        edit(switch, switch__poe_budget_w=2e16),
    )
    assert content_hash(odd) == odd.content_hash() != base.content_hash()
    assert content_hash(base) == base.content_hash()


def test_volatile_fields_do_not_move_the_fast_hash():
    base = depot()
    gate = base.devices[5]
    noisy = with_devices(
        base,
        edit(
            gate, uptime_s=1, onvif__device_time=datetime(2030, 1, 1, tzinfo=UTC), attachment__poe_power_w=1.0
        ),
        problems=(),
    )
    assert content_hash(noisy) == content_hash(base)
    assert content_hash(with_devices(base, edit(gate, identity__firmware="other"))) != content_hash(base)


def test_exclude_tree_reaches_nested_records():
    tree = volatile_exclude(Snapshot)
    assert tree["devices"]["__all__"]["switch"]["ports"]["__all__"]["poe"] == {"power_w": True}
    assert tree["problems"] == {"__all__": {"message": True}}


def test_fingerprint_follows_significant_content_only():
    base = large_site(30)
    shuffled = Snapshot.model_validate({**base.model_dump(), "devices": base.model_dump()["devices"][::-1]})
    noisy = with_devices(base, edit(base.devices[3], uptime_s=12345))
    changed = with_devices(base, edit(base.devices[3], identity__firmware="V9.9"))
    assert fingerprint(shuffled) == fingerprint(noisy) == fingerprint(base)
    assert fingerprint(changed) != fingerprint(base)
