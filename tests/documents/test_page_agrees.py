"""The pages' view of a snapshot (collector/web/record.py) and the handover record show a device, a
port and a channel by the same rules: same order, same names, same ports, uplinks and neighbours."""

from __future__ import annotations

from collector.documents.model import AsBuiltRecord
from collector.web.record import RecordView
from collector.web.record import build_record as build_view
from drivers.schema import Attachment, LldpNeighbor, Role, Snapshot
from tests.documents.conftest import Site, make_record


def assert_agree(view: RecordView, record: AsBuiltRecord) -> None:
    assert [d.id for d in view.devices] == [d.id for d in record.devices]
    assert [(d.name, d.switch, d.port) for d in view.devices] == [
        (d.name, d.switch_name, d.port) for d in record.devices
    ]
    assert [s.id for s in view.switches] == [s.id for s in record.switches]
    for page, pdf in zip(view.switches, record.switches, strict=True):
        assert [
            (p.name, p.uplink, p.neighbor, p.poe_status, p.poe_w, [d.id for d in p.devices], p.unknown_macs)
            for p in page.ports
        ] == [
            (p.name, p.uplink, p.neighbour, p.poe_status, p.poe_w, list(p.device_ids), p.unknown_macs)
            for p in pdf.ports
        ]
    assert [
        (r.id, [(c.channel, c.camera.id if c.camera else None) for c in r.channels]) for r in view.recorders
    ] == [(r.id, [(c.channel, c.camera_id) for c in r.channels]) for r in record.recorders]


def test_page_and_record_agree_on_the_scanned_sites(small: Site, large: Site) -> None:
    for site in (small, large):
        assert_agree(build_view(site.current), site.record)


def _edge_case(snapshot: Snapshot) -> Snapshot:
    """cam-10 and cam-2 on one port; an LLDP neighbour that is another scanned switch (no bridge
    capability announced) on a port the switch did not list."""
    switches = [d for d in snapshot.devices if d.role is Role.SWITCH]
    cameras = [d for d in snapshot.devices if d.role is Role.CAMERA and d.attachment is not None]
    first, second = cameras[0], cameras[1]
    assert first.attachment is not None and second.attachment is not None
    shared: Attachment = second.attachment.model_copy(
        update={"switch_id": first.attachment.switch_id, "port": first.attachment.port}
    )
    renamed = {
        first.id: first.model_copy(
            update={"identity": first.identity.model_copy(update={"hostname": "cam-10"})}
        ),
        second.id: second.model_copy(
            update={
                "identity": second.identity.model_copy(update={"hostname": "cam-2"}),
                "attachment": shared,
            }
        ),
    }
    far = switches[1]
    neighbour = LldpNeighbor(
        switch_id=switches[0].id,
        local_port="Gi9/0/9",
        chassis_id=far.identity.mac or far.id,
        port_id="Gi1/0/1",
    )
    return snapshot.model_copy(
        update={
            "devices": [renamed.get(d.id, d) for d in snapshot.devices],
            "lldp_neighbors": [*snapshot.lldp_neighbors, neighbour],
        }
    )


def test_page_and_record_agree_on_port_order_and_inferred_uplinks(small: Site) -> None:
    snapshot = _edge_case(small.current)
    view, record = build_view(snapshot), make_record(snapshot, None)
    assert_agree(view, record)
    port = next(p for s in view.switches for p in s.ports if len(p.devices) == 2)
    assert [d.label.split()[1] for d in port.devices] == ["cam-2", "cam-10"]
    far = [d for d in snapshot.devices if d.role is Role.SWITCH][1]
    unlisted = next(p for s in view.switches for p in s.ports if p.name.endswith("9/0/9"))
    assert unlisted.uplink  # the neighbour is a scanned switch: an uplink, on the page as in the PDF
    assert unlisted.neighbor == f"{far.identity.mac or far.id} Gi1/0/1"
