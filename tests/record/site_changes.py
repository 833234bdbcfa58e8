"""A small site as a scan sees it, and the changes technicians make to it, applied as a real site
reports them: the switch ports follow the cables (link, PoE, description), the recorder's channels
follow the cameras they record."""

from __future__ import annotations

from drivers.schema import (
    ConfigText,
    Device,
    PoeStatus,
    RecorderChannel,
    RecorderInfo,
    Role,
    Snapshot,
    SwitchPort,
)
from tests.collector.factory import (
    SW_CORE,
    SW_YARD,
    camera,
    device,
    edit,
    poe_port,
    port_name,
    snapshot,
    switch,
)

CORE_PORTS = {1: "cam-entrance", 2: "cam-lobby", 4: "cam-office", 11: None, 12: None, 20: "nvr-main"}
YARD_PORTS = {1: "cam-gate", 3: "cam-parking", 5: "cam-dock-2", 6: None}


def _port(n: int, alias: str | None) -> SwitchPort:
    if alias is None:
        return edit(poe_port(n, status=PoeStatus.SEARCHING), alias=None, speed_mbps=None)
    return poe_port(n, alias=alias)


def site() -> Snapshot:
    """sw-core and sw-yard reporting every port; six cameras; an NVR recording each camera."""
    cams = [
        camera("cam-entrance", "ac:cc:8e:5a:01:01", "10.77.0.21", switch_id=SW_CORE, switch_name="sw-core",
               port=1, vendor="AXIS", model="P3245-LVE", firmware="10.12.114"),
        camera("cam-lobby", "ac:cc:8e:5a:01:02", "10.77.0.22", switch_id=SW_CORE, switch_name="sw-core",
               port=2, vendor="AXIS", model="M3106-L Mk II", firmware="10.12.114"),
        camera("cam-office", "ac:cc:8e:5a:01:04", "10.77.0.24", switch_id=SW_CORE, switch_name="sw-core",
               port=4, vendor="AXIS", model="M3106-L Mk II", firmware="10.12.114"),
        camera("cam-gate", "c0:56:e3:44:20:01", "10.77.0.61", port=1, firmware="V5.7.3 build 220112"),
        camera("cam-parking", "ac:cc:8e:5a:02:01", "10.77.0.71", port=3, vendor="AXIS", model="Q1798-LE"),
        camera("cam-dock-2", "c0:56:e3:44:20:05", "10.77.0.65", port=5),
    ]  # fmt: skip
    nvr = camera(
        "nvr-main", "c0:56:e3:44:90:01", "10.77.0.11", switch_id=SW_CORE, switch_name="sw-core", port=20,
        role=Role.RECORDER, model="DS-7616NI-I2/16P",
    )  # fmt: skip
    channels = tuple(
        RecorderChannel(channel=n, name=c.identity.hostname, source_id=f"src-{n}",
                        source_address=c.network.ip, camera_id=c.id, recording_days=30)
        for n, c in enumerate(cams, start=1)
    )  # fmt: skip
    nvr = edit(nvr, recorder=RecorderInfo(channel_count=16, channels=channels))
    core = switch(
        "sw-core", "00:1b:54:c2:10:00", "10.77.0.2", ports=[_port(n, a) for n, a in CORE_PORTS.items()]
    )
    yard = switch("sw-yard", "94:18:82:7a:20:00", "10.77.0.3", vendor="Aruba", model="2530-24G-PoEP",
                  ports=[_port(n, a) for n, a in YARD_PORTS.items()])  # fmt: skip
    return _with_config(snapshot([core, yard, nvr, *cams]))


def _with_config(snap: Snapshot) -> Snapshot:
    """sw-core's running configuration, with a description line per used port (as IOS writes it)."""
    core = next(d for d in snap.devices if d.id == SW_CORE)
    assert core.switch is not None
    lines = ["Building configuration...", "!", "hostname sw-core", "!"]
    for p in core.switch.ports:
        lines += (
            [f"interface {p.name}"]
            + ([f" description {p.alias}"] if p.alias else [])
            + [" power inline auto", "!"]
        )
    text = "\n".join([*lines, "end", ""])
    config = ConfigText(device_id=SW_CORE, kind="running-config", text=text, source="cli.cisco_ios")
    return snap.model_copy(update={"configs": (config,)})


def _replace(snap: Snapshot, *devices: Device, drop: tuple[str, ...] = ()) -> Snapshot:
    ids = {d.id for d in devices} | set(drop)
    kept = [d for d in snap.devices if d.id not in ids]
    return snap.model_copy(update={"devices": (*kept, *devices)})


def _set_port(snap: Snapshot, switch_id: str, n: int, alias: str | None) -> Snapshot:
    sw = next(d for d in snap.devices if d.id == switch_id)
    assert sw.switch is not None
    ports = tuple(_port(n, alias) if p.name == port_name(n) else p for p in sw.switch.ports)
    return _with_config(_replace(snap, edit(sw, switch__ports=ports)))


def _channels(snap: Snapshot, change: dict[str, RecorderChannel | None]) -> Snapshot:
    """Replace the recorder channels recording the given camera ids (None: the channel goes)."""
    nvr = device(snap, "nvr-main")
    assert nvr.recorder is not None
    out = []
    for ch in nvr.recorder.channels:
        if ch.camera_id in change:
            new = change[ch.camera_id]
            if new is not None:
                out.append(new)
        else:
            out.append(ch)
    return _replace(snap, edit(nvr, recorder__channels=tuple(out)))


def _channel_of(snap: Snapshot, camera_id: str) -> RecorderChannel:
    nvr = device(snap, "nvr-main")
    assert nvr.recorder is not None
    return next(c for c in nvr.recorder.channels if c.camera_id == camera_id)


def _where(cam: Device) -> tuple[str, int]:
    assert cam.attachment is not None
    return cam.attachment.switch_id, int(cam.attachment.port.rsplit("/", 1)[1])


def repatch(snap: Snapshot, hostname: str, new_port: int) -> Snapshot:
    """The cable moves to another port of the same switch: old port freed, new port taken."""
    cam = device(snap, hostname)
    switch_id, old = _where(cam)
    assert cam.attachment is not None
    moved = edit(cam, attachment=cam.attachment.model_copy(update={"port": port_name(new_port)}))
    snap = _replace(snap, moved)
    snap = _set_port(snap, switch_id, old, None)
    return _set_port(snap, switch_id, new_port, hostname)


def move_to(snap: Snapshot, hostname: str, switch_id: str, new_port: int) -> Snapshot:
    """The cable goes to a port of another switch."""
    cam = device(snap, hostname)
    old_switch, old = _where(cam)
    assert cam.attachment is not None
    name = device(snap, "sw-core" if switch_id == SW_CORE else "sw-yard").identity.hostname
    moved_to = cam.attachment.model_copy(
        update={"switch_id": switch_id, "switch_name": name, "port": port_name(new_port)}
    )
    snap = _replace(snap, edit(cam, attachment=moved_to))
    snap = _set_port(snap, old_switch, old, None)
    return _set_port(snap, switch_id, new_port, hostname)


def swap(snap: Snapshot, hostname: str, mac: str, serial: str, firmware: str | None = None) -> Snapshot:
    """Another unit of the same model on the same port, same IP and name; the NVR records the new unit."""
    cam = device(snap, hostname)
    assert cam.attachment is not None
    new = camera(hostname, mac, cam.network.ip or "", switch_id=cam.attachment.switch_id,
                 switch_name=cam.attachment.switch_name or "", port=_where(cam)[1],
                 vendor=cam.identity.vendor or "", model=cam.identity.model or "",
                 serial=serial, firmware=firmware or cam.identity.firmware or "")  # fmt: skip
    channel = _channel_of(snap, cam.id)
    snap = _replace(snap, new, drop=(cam.id,))
    return _channels(snap, {cam.id: channel.model_copy(update={"camera_id": new.id})})


def unplug(snap: Snapshot, hostname: str) -> Snapshot:
    """The camera is taken down: its port goes dark; the NVR channel stays, recording nothing."""
    cam = device(snap, hostname)
    switch_id, n = _where(cam)
    channel = _channel_of(snap, cam.id)
    snap = _replace(snap, drop=(cam.id,))
    snap = _set_port(snap, switch_id, n, None)
    return _channels(snap, {cam.id: channel.model_copy(update={"camera_id": None})})


def plug_in(snap: Snapshot, hostname: str, mac: str, ip: str, switch_id: str, port: int) -> Snapshot:
    switch_name = "sw-core" if switch_id == SW_CORE else "sw-yard"
    cam = camera(hostname, mac, ip, switch_id=switch_id, switch_name=switch_name, port=port,
                 vendor="AXIS", model="M3106-L Mk II")  # fmt: skip
    snap = _replace(snap, cam)
    return _set_port(snap, switch_id, port, hostname)


def reconfigure(snap: Snapshot, hostname: str, **changes: object) -> Snapshot:
    return _replace(snap, edit(device(snap, hostname), **changes))


__all__ = ["SW_CORE", "SW_YARD", "move_to", "plug_in", "reconfigure", "repatch", "site", "swap", "unplug"]
