"""The wiring diagram as Graphviz draws it: parsed back from the SVG, never compared as text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from collector.documents import DiagramError, topology_svg, topology_svg_async, wiring_svg, wiring_svg_async
from collector.documents.diagram import COLOURS, render_svg, svg_id, wiring_dot
from collector.documents.model import Highlight
from tests.documents.conftest import Site, make_record

SVG = "{http://www.w3.org/2000/svg}"


def nodes(svg: bytes) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.get("id", ""): g for g in root.iter(f"{SVG}g") if g.get("class") == "node"}


def strokes(node: ET.Element) -> set[str]:
    return {el.get("stroke", "") for el in node.iter() if el.get("stroke")}


def texts(node: ET.Element) -> str:
    return " ".join(t.text or "" for t in node.iter(f"{SVG}text"))


@pytest.mark.parametrize("site_name", ["small", "large"])
def test_every_camera_recorder_and_switch_has_its_node(
    site_name: str, request: pytest.FixtureRequest
) -> None:
    site: Site = request.getfixturevalue(site_name)
    drawn = nodes(wiring_svg(site.record))
    for device in site.record.devices:
        assert svg_id(device.id) in drawn, f"{device.role} {device.name} is not in the diagram"
        assert device.name in texts(drawn[svg_id(device.id)])


def test_changes_are_coloured_and_explained_by_a_legend(small: Site) -> None:
    drawn = nodes(wiring_svg(small.record))
    rows = {d.name: d for d in small.record.devices}
    for name, kind in (
        ("cam-new", Highlight.ADDED),
        ("cam-gate", Highlight.REPLACED),
        ("cam-office", Highlight.MOVED),
    ):
        node = drawn[svg_id(rows[name].id)]
        assert COLOURS[kind][0] in strokes(node), f"{name} is not drawn as {kind}"
        assert kind.value.upper() in texts(node)
    plain = drawn[svg_id(rows["cam-entrance"].id)]
    assert not strokes(plain) & {border for border, _ in COLOURS.values()}
    assert "legend" in drawn and "REPLACED" in texts(drawn["legend"])
    [missing] = [k for k in drawn if k.startswith("missing-")]
    assert "cam-dock-2" in texts(drawn[missing])


def test_unmanaged_switch_and_uplink_are_drawn(small: Site) -> None:
    svg = wiring_svg(small.record)
    assert "unmanaged switch" in svg.decode()
    edges = [g for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("class") == "edge"]
    assert sum(1 for e in edges if "#24415f" in strokes(e)) == len(small.record.links) == 1


def test_one_switch_alone_and_the_topology_overview(large: Site) -> None:
    sw = large.record.switches[2]
    drawn = nodes(wiring_svg(large.record, switch_id=sw.id, legend=False))
    on_switch = {i for p in sw.ports for i in p.device_ids}
    assert {k for k in drawn if k.startswith("d-")} == {svg_id(i) for i in on_switch} | {svg_id(sw.id)}
    assert "legend" not in drawn
    overview = nodes(topology_svg(large.record))
    assert {k for k in overview if k.startswith("topology-")} == {
        f"topology-{svg_id(s.id)}" for s in large.record.switches
    }
    with pytest.raises(KeyError):
        wiring_dot(large.record, switch_id="mac:00:00:00:00:00:00")


def test_hostile_names_are_text_not_markup(small: Site) -> None:
    cam = next(d for d in small.current.devices if d.identity.hostname == "cam-lobby")
    evil = '<b>"&x</TD></TABLE>>] ; node [label="pwn'
    hostile = cam.model_copy(update={"identity": cam.identity.model_copy(update={"hostname": evil})})
    devices = tuple(hostile if d.id == cam.id else d for d in small.current.devices)
    record = make_record(small.current.model_copy(update={"devices": devices}), small.diff)
    drawn = nodes(wiring_svg(record))
    assert evil.replace(" ", "") in texts(drawn[svg_id(cam.id)]).replace(" ", "").replace("\xa0", "")


def test_dot_failures_are_clear_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DiagramError, match="dot failed"):
        render_svg("digraph { this is not dot ")
    with pytest.raises(DiagramError, match="longer than"):
        render_svg("digraph { a -> b }", timeout_s=1e-6)
    monkeypatch.setattr("shutil.which", lambda name: None)  # a host without Graphviz
    with pytest.raises(DiagramError, match="not installed"):
        render_svg("digraph { a -> b }")


async def test_async_forms_run_dot_off_the_event_loop(small: Site) -> None:
    svg = await wiring_svg_async(small.record)
    assert svg_id(small.record.devices[-1].id) in nodes(svg)
    overview = await topology_svg_async(small.record)
    assert f"topology-{svg_id(small.record.switches[0].id)}" in nodes(overview)
