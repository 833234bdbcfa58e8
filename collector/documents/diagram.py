"""The wiring diagram: the port map drawn with Graphviz, as SVG, for the UI and the handover PDF.

Why Graphviz: ``dot`` lays out layered graphs with ports on record-like tables, which is what a
wiring diagram is (switch → port → device); it is packaged by Debian, renders SVG server-side with
real text metrics (its Pango plugin, so CJK names fit their boxes) and needs no browser. The PyPI
``graphviz`` binding only builds the DOT source (quoting every identifier); we run ``dot`` ourselves
with a timeout, in a thread from async code.

Readable at 200 cameras: each switch is a cluster holding one table of its used ports, and each
port row is wired to the device (or the inferred unmanaged switch) on it, so edges run straight
across instead of crossing. Recorder channels are written on the camera they record ("nvr-01 ch 3")
rather than drawn: 200 more edges would be the hairball. Changes against the baseline colour the
device and carry a word (ADDED, REPLACED, MOVED, CHANGED) so the print stays readable in grey.

Everything user- or device-supplied goes into HTML labels escaped (``html.escape``).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import re
import shutil
import subprocess
from collections.abc import Iterable

import graphviz

from collector.documents.model import (
    AsBuiltRecord,
    ChangeEntry,
    DeviceEntry,
    Highlight,
    PortEntry,
    SwitchEntry,
)

DOT_TIMEOUT_S = 60.0
FONT = "Noto Sans CJK JP, DejaVu Sans, sans-serif"

# (border, fill) per highlight; the legend shows the same.
COLOURS: dict[Highlight, tuple[str, str]] = {
    Highlight.ADDED: ("#1b7f3b", "#dff3e4"),
    Highlight.REPLACED: ("#c25e00", "#fde9d4"),
    Highlight.MOVED: ("#1f5fbf", "#dde8fa"),
    Highlight.CHANGED: ("#7b3fa0", "#efe3f6"),
}
MISSING_COLOUR = "#8a8a8a"
PLAIN = ("#5f6b76", "#ffffff")
ROLE_MARK = {"camera": "CAM", "recorder": "NVR", "switch": "SW", "other": "DEV"}
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


class DiagramError(RuntimeError):
    """dot is missing, failed or took too long."""


def svg_id(device_id: str) -> str:
    """The SVG element id of a device's node ('mac:ac:cc:…' → 'd-mac-ac-cc-…'), for links and tests."""
    return "d-" + _ID_UNSAFE.sub("-", device_id).strip("-")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


# ---------------------------------------------------------------- DOT source (pure)


# Points. A port row is exactly one device box plus the gap between boxes, so the wires run straight.
ROW_PITCH = 36
NODE_GAP = 4
BOX_INNER = ROW_PITCH - NODE_GAP - 2 * 2 - 2  # minus the gap, the cell padding and the border


def wiring_dot(
    record: AsBuiltRecord,
    *,
    switch_id: str | None = None,
    ports: tuple[int, int] | None = None,
    legend: bool = True,
) -> graphviz.Digraph:
    """The whole site, or one switch (optionally only its used ports ``ports[0]:ports[1]``).

    The whole site puts the switches side by side (each cluster one column of ports and one of
    devices), with the LLDP uplinks drawn between port rows; one switch shows uplinks as text.
    """
    dot = graphviz.Digraph("wiring", strict=False)
    dot.attr(
        "graph",
        rankdir="LR",
        fontname=FONT,
        nodesep=f"{NODE_GAP / 72:.3f}",
        ranksep="0.5",
        newrank="true",
        ordering="out",  # devices in port order: the wires do not cross
        bgcolor="white",
        pad="0.2",
        tooltip=f"Wiring diagram: {record.title}",
    )
    dot.attr("node", shape="plaintext", fontname=FONT, fontsize="10", margin="0", height="0.1")
    dot.attr("edge", arrowhead="none", color="#5f6b76", penwidth="1.1")
    switches = [s for s in record.switches if switch_id is None or s.id == switch_id]
    if switch_id is not None and not switches:
        raise KeyError(f"no switch {switch_id!r} in this record")
    devices = {d.id: d for d in record.devices}
    columns: list[tuple[str, list[str]]] = []
    for sw in switches:
        index = record.switches.index(sw)
        columns.append(_switch_cluster(dot, index, sw, devices, ports))
    # Side by side: an invisible edge from each cluster's devices to the next cluster's port table.
    for (_, left_nodes), (right_table, _) in itertools.pairwise(columns):
        if left_nodes:
            dot.edge(left_nodes[0], right_table, style="invis", weight="0")
    if switch_id is None:
        _uplinks(dot, record)
        _recorders_without_switch(dot, record)
        _missing_cluster(dot, record.changes.of_kind("missing") if record.changes else ())
    if legend and record.changes is not None and not record.changes.empty:
        _legend(dot)
    return dot


def _uplinks(dot: graphviz.Digraph, record: AsBuiltRecord) -> None:
    for link in record.links:
        a_port = _port_ref(record, link.a_id, link.a_port)
        if a_port is None:
            continue
        b_port = _port_ref(record, link.b_id, link.b_port or "") if link.b_id is not None else None
        if b_port is None:
            b_port = f"ext_{_ID_UNSAFE.sub('_', link.b_name)}"
            dot.node(b_port, _html(_box([f"<B>{_e(link.b_name)}</B>", "switch, not scanned"], PLAIN, "SW")))
        dot.edge(a_port, b_port, color="#24415f", penwidth="2.4", constraint="false", tooltip="uplink (LLDP)")


def _switch_cluster(
    dot: graphviz.Digraph,
    index: int,
    sw: SwitchEntry,
    devices: dict[str, DeviceEntry],
    ports: tuple[int, int] | None,
) -> tuple[str, list[str]]:
    """Draws one switch's cluster; returns its table node and its device nodes."""
    table_id = f"sw{index}"
    shown = list(enumerate(sw.used_ports))
    if ports is not None:
        shown = shown[ports[0] : ports[1]]
    nodes: list[str] = []
    with dot.subgraph(name=f"cluster_{index}") as c:
        border = COLOURS[sw.highlight][0] if sw.highlight else "#24415f"
        c.attr(label="", style="rounded", color=border, penwidth="1.4", margin="10")
        c.node(table_id, _html(_switch_table(sw, shown, devices)), id=svg_id(sw.id), tooltip=sw.name)
        for p_index, port in shown:
            anchor = f"{table_id}:p{p_index}:e"
            if port.unmanaged:
                um = f"{table_id}_um{p_index}"
                c.node(um, _html(_unmanaged(port)), tooltip="unmanaged switch (inferred)")
                c.edge(anchor, f"{um}:w")
                anchor = f"{um}:e"
            for device_id in port.device_ids:
                d = devices.get(device_id)
                if d is None:
                    continue
                node = f"dev_{svg_id(d.id)}"
                c.node(node, _html(_device_box(d)), id=svg_id(d.id), tooltip=d.change_summary or d.name)
                nodes.append(node)
                colour = COLOURS[d.highlight][0] if d.highlight else None
                c.edge(anchor, f"{node}:w", **({"color": colour, "penwidth": "2"} if colour else {}))
    return table_id, nodes


def _port_ref(record: AsBuiltRecord, switch_id: str, port_name: str) -> str | None:
    for index, sw in enumerate(record.switches):
        if sw.id == switch_id:
            for p_index, port in enumerate(sw.used_ports):
                if port.name == port_name:
                    return f"sw{index}:p{p_index}"
            return f"sw{index}"
    return None


def _switch_table(
    sw: SwitchEntry, shown: list[tuple[int, PortEntry]], devices: dict[str, DeviceEntry]
) -> str:
    fill, font = (COLOURS[sw.highlight][1], "#000000") if sw.highlight else ("#24415f", "#ffffff")
    tag = f'&#160;&#160;<FONT POINT-SIZE="9">{sw.highlight.value.upper()}</FONT>' if sw.highlight else ""
    model = " ".join(p for p in (sw.vendor, sw.model) if p)
    facts = "  ".join(p for p in (sw.ip, _budget(sw)) if p)
    rows = [
        f'<TR><TD COLSPAN="3" BGCOLOR="{fill}" ALIGN="LEFT" BALIGN="LEFT" CELLPADDING="5">'
        f'<FONT COLOR="{font}" POINT-SIZE="13"><B>{_e(sw.name)}</B>{tag}</FONT><BR/>'
        f'<FONT COLOR="{font}" POINT-SIZE="9">{_e(model)}</FONT><BR/>'
        f'<FONT COLOR="{font}" POINT-SIZE="9">{_e(facts)}</FONT></TD></TR>'
    ]
    for p_index, port in shown:
        rows.append(
            f'<TR><TD ALIGN="LEFT" BGCOLOR="#f2f4f6" HEIGHT="{ROW_PITCH}">'
            f"<B>{_e(_short_port(port.name))}</B></TD>"
            f'<TD ALIGN="LEFT">{_e(_port_text(port))}</TD>'
            f'<TD PORT="p{p_index}" ALIGN="LEFT">{_e(_port_far(port))}</TD></TR>'
        )
    table = '<TABLE BORDER="1" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" COLOR="#9aa5b1">'
    return f"{table}{''.join(rows)}</TABLE>"


def _budget(sw: SwitchEntry) -> str | None:
    return f"PoE {sw.poe_used_w or 0:g} / {sw.poe_budget_w:g} W" if sw.poe_budget_w else None


def _short_port(name: str) -> str:
    # Full interface names are long; the table column is narrow (the schedule keeps them whole).
    for long, short in (("TenGigabitEthernet", "Te"), ("GigabitEthernet", "Gi"), ("FastEthernet", "Fa")):
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def _port_text(port: PortEntry) -> str:
    parts = []
    if port.poe_w:
        parts.append(f"{port.poe_w:g} W")
    elif port.poe_status == "delivering":
        parts.append("PoE")
    if port.vlan:
        parts.append(f"VLAN {port.vlan}")
    return " · ".join(parts) or " "


def _port_far(port: PortEntry) -> str:
    """The third column: where an uplink goes, or what is on a port that has no device box."""
    if port.uplink or port.neighbour:
        return f"⇄ {port.neighbour}" if port.neighbour else "⇄ uplink"
    if port.unmanaged:
        return f"{len(port.device_ids) + len(port.unknown_macs)} devices"
    if not port.device_ids and port.unknown_macs:
        return f"unknown {port.unknown_macs[0]}"
    return " "


def _unmanaged(port: PortEntry) -> str:
    extra = [f"unknown {_e(m)}" for m in port.unknown_macs]
    return _box(["<B>unmanaged switch</B>", "(inferred: shared port)", *extra], ("#5f6b76", "#f2f4f6"), "SW")


def _device_box(d: DeviceEntry) -> str:
    colours = COLOURS[d.highlight] if d.highlight else PLAIN
    title = f"<B>{_e(d.name)}</B>"
    if d.highlight:
        title += (
            f'&#160;&#160;<FONT COLOR="{colours[0]}" POINT-SIZE="8"><B>{d.highlight.value.upper()}</B></FONT>'
        )
    if d.channels_text:
        title += f'&#160;&#160;<FONT POINT-SIZE="8">● {_e(d.channels_text)}</FONT>'
    model = " ".join(p for p in (d.vendor, d.model) if p)
    detail = "  ".join(p for p in (model, d.ip) if p)
    return _box([title, f'<FONT POINT-SIZE="8">{_e(detail)}</FONT>'], colours, ROLE_MARK.get(d.role, "DEV"))


def _box(lines: Iterable[str], colours: tuple[str, str], mark: str) -> str:
    border, fill = colours
    body = "<BR/>".join(line for line in lines if line)
    return (
        f'<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" COLOR="{border}" BGCOLOR="{fill}">'
        f'<TR><TD VALIGN="MIDDLE" WIDTH="24"><FONT POINT-SIZE="7" COLOR="{border}"><B>{mark}</B></FONT></TD>'
        f'<TD ALIGN="LEFT" BALIGN="LEFT" HEIGHT="{BOX_INNER}">{body}</TD>'
        f'<TD WIDTH="4"> </TD></TR></TABLE>'
    )


def _html(table: str) -> str:
    return f"<{table}>"


def _recorders_without_switch(dot: graphviz.Digraph, record: AsBuiltRecord) -> None:
    """Recorders (and other devices) not attached to any scanned switch still appear."""
    placed = {i for sw in record.switches for p in sw.ports for i in p.device_ids}
    loose = [d for d in record.devices if d.role != "switch" and d.id not in placed]
    if not loose:
        return
    with dot.subgraph(name="cluster_loose") as c:
        c.attr(label="Not on a scanned switch port", fontsize="11", style="dashed", color="#9aa5b1")
        for d in loose:
            c.node(f"dev_{svg_id(d.id)}", _html(_device_box(d)), id=svg_id(d.id), tooltip=d.name)


def _missing_cluster(dot: graphviz.Digraph, missing: Iterable[ChangeEntry]) -> None:
    missing = list(missing)
    if not missing:
        return
    with dot.subgraph(name="cluster_missing") as c:
        c.attr(label="Missing since the baseline", fontsize="11", style="dashed", color=MISSING_COLOUR)
        for m in missing:
            where = f"was at {m.position}" if m.position else ""
            state = m.state or "missing"
            c.node(
                f"missing_{svg_id(m.device_id)}",
                _html(
                    _box(
                        [f"<B>{_e(m.label)}</B>", _e(where), _e(state.upper())],
                        (MISSING_COLOUR, "#f4f4f4"),
                        "—",
                    )
                ),
                id=f"missing-{svg_id(m.device_id)}",
                tooltip=m.summary,
            )


def _legend(dot: graphviz.Digraph) -> None:
    rows = "".join(
        f'<TR><TD BGCOLOR="{fill}" WIDTH="18"> </TD><TD BORDER="0" ALIGN="LEFT">'
        f'<FONT COLOR="{border}"><B>{h.value.upper()}</B></FONT></TD></TR>'
        for h, (border, fill) in COLOURS.items()
    )
    rows += (
        f'<TR><TD BGCOLOR="#f4f4f4" WIDTH="18"> </TD><TD BORDER="0" ALIGN="LEFT">'
        f'<FONT COLOR="{MISSING_COLOUR}"><B>MISSING</B></FONT></TD></TR>'
    )
    dot.node(
        "legend",
        f'<<TABLE BORDER="1" CELLBORDER="1" CELLSPACING="2" CELLPADDING="3" COLOR="#9aa5b1">'
        f'<TR><TD COLSPAN="2" BORDER="0"><B>Since the baseline</B></TD></TR>{rows}</TABLE>>',
        id="legend",
    )


def topology_dot(record: AsBuiltRecord) -> graphviz.Digraph:
    """The overview: one box per switch (what hangs off it, its PoE budget) and the LLDP links."""
    dot = graphviz.Digraph("topology", strict=False)
    dot.attr("graph", rankdir="LR", fontname=FONT, nodesep="0.15", ranksep="1.2", bgcolor="white", pad="0.2")
    dot.attr("node", shape="plaintext", fontname=FONT, fontsize="10", margin="0")
    dot.attr("edge", arrowhead="none", color="#24415f", penwidth="2", fontname=FONT, fontsize="8")
    devices = {d.id: d for d in record.devices}
    for index, sw in enumerate(record.switches):
        on = [devices[i] for p in sw.ports for i in p.device_ids if i in devices]
        counts = ", ".join(
            f"{n} {role}{'s' if n != 1 else ''}"
            for role in ("camera", "recorder", "other")
            if (n := sum(1 for d in on if d.role == role))
        )
        changed = sum(1 for d in on if d.highlight)
        lines = [
            f"<B>{_e(sw.name)}</B>{'&#160;&#160;' + sw.highlight.value.upper() if sw.highlight else ''}",
            _e(" ".join(p for p in (sw.vendor, sw.model) if p)),
            _e("  ".join(p for p in (sw.ip, _budget(sw)) if p)),
            _e(counts or "nothing attached"),
        ]
        if changed:
            lines.append(f"<B>{changed} changed since the baseline</B>")
        colours = COLOURS[sw.highlight] if sw.highlight else ("#24415f", "#eef2f6")
        dot.node(f"sw{index}", _html(_box(lines, colours, "SW")), id=f"topology-{svg_id(sw.id)}")
    index_of = {sw.id: i for i, sw in enumerate(record.switches)}
    for link in record.links:
        if link.a_id not in index_of:
            continue
        far = (
            f"sw{index_of[link.b_id]}" if link.b_id in index_of else f"ext_{_ID_UNSAFE.sub('_', link.b_name)}"
        )
        if link.b_id not in index_of:
            dot.node(far, _html(_box([f"<B>{_e(link.b_name)}</B>", "not scanned"], PLAIN, "SW")))
        dot.edge(
            f"sw{index_of[link.a_id]}",
            far,
            label=f"{_short_port(link.a_port)} ⇄ {_short_port(link.b_port or '?')}",
        )
    return dot


def topology_svg(record: AsBuiltRecord, *, timeout_s: float = DOT_TIMEOUT_S) -> bytes:
    return render_svg(topology_dot(record).source, timeout_s=timeout_s)


async def topology_svg_async(record: AsBuiltRecord, *, timeout_s: float = DOT_TIMEOUT_S) -> bytes:
    return await asyncio.to_thread(topology_svg, record, timeout_s=timeout_s)


# ---------------------------------------------------------------- rendering (blocking: use the async form)


def render_svg(source: str, *, timeout_s: float = DOT_TIMEOUT_S) -> bytes:
    """Lay out DOT source with Graphviz ``dot`` and return the SVG."""
    dot = shutil.which("dot")
    if dot is None:
        raise DiagramError("Graphviz 'dot' is not installed (Debian package: graphviz)")
    try:
        done = subprocess.run(
            [dot, "-Tsvg"], input=source.encode(), capture_output=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        raise DiagramError(f"dot took longer than {timeout_s:g} s") from None
    if done.returncode != 0:
        raise DiagramError(f"dot failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")
    return done.stdout


def wiring_svg(
    record: AsBuiltRecord,
    *,
    switch_id: str | None = None,
    ports: tuple[int, int] | None = None,
    legend: bool = True,
    timeout_s: float = DOT_TIMEOUT_S,
) -> bytes:
    """The wiring diagram of the whole site (or of one switch, or some of its used ports) as SVG."""
    source = wiring_dot(record, switch_id=switch_id, ports=ports, legend=legend).source
    return render_svg(source, timeout_s=timeout_s)


async def wiring_svg_async(
    record: AsBuiltRecord, *, switch_id: str | None = None, timeout_s: float = DOT_TIMEOUT_S
) -> bytes:
    return await asyncio.to_thread(wiring_svg, record, switch_id=switch_id, timeout_s=timeout_s)
