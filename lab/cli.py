"""`asbuilt lab …`: start, inspect, change and stop the simulated site.

asbuilt lab up [--site small] [--netns|--loopback] [--loopback-base 23] [--state-dir D] [--foreground]
asbuilt lab status | down | truth [--json]
asbuilt lab change move cam-office --to sw-core:12
asbuilt lab change swap cam-gate | firmware cam-lobby 10.12.200 | remove cam-dock-2
asbuilt lab change setting cam-parking --profile profile_1 --bitrate 8192
asbuilt lab change add --like cam-office --name cam-new --port sw-core:14
asbuilt lab change fault cam-stairs reject_credentials [--value false]
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from lab.control import (
    LabControlError,
    StateDir,
    default_lab_id,
    default_state_dir,
    request,
    serve,
    start_daemon,
    stop_lab,
)
from lab.netns import is_root
from lab.runner import Mode

lab_app = typer.Typer(
    no_args_is_help=True, help="Run the simulated customer site (cameras, recorders, switches)."
)
change_app = typer.Typer(no_args_is_help=True, help="Change the running lab, as happens on a real site.")
lab_app.add_typer(change_app, name="change")
console = Console()

SiteOpt = typer.Option(
    "small", "--site", help="Site name (lab/sites/NAME.yaml, large, large-N) or a YAML path"
)
StateDirOpt = typer.Option(
    None, "--state-dir", help="Default: /run/asbuilt-lab/SITE (root), ~/.asbuilt/lab/SITE"
)


def _state_dir(site: str, state_dir: Path | None) -> Path:
    return state_dir or default_state_dir(site)


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


# ---------------------------------------------------------------- output


def device_table(status: dict[str, Any]) -> Table:
    loopback = status["mode"] == "loopback"
    table = Table(
        title=f"{status['title'] or status['site']} ({status['mode']} mode, lab {status['lab_id']})"
    )
    for column in ("name", "role", "vendor", "model", "IP", "MAC", "switch/port", "services"):
        table.add_column(column)
    for d in status["devices"]:
        ip = f"{d['ip']} → {d['address']}" if loopback else d["ip"]
        services = " ".join(
            (f"[green]{name}[/green]" if s["up"] else f"[red]{name}✗[/red]")
            for name, s in d["services"].items()
        )
        table.add_row(
            d["name"], d["role"], d["vendor"], d["model"], ip, d["mac"], d["uplink"] or "", services
        )
    return table


def scanner_hint(status: dict[str, Any], subnet: str | None = None) -> str:
    ports = status["ports"]
    if status["mode"] == "netns":
        net = subnet or "the site subnet"
        return (
            f"Scan it from the scanner namespace ({status['scanner_ip']}):\n"
            f"  ip netns exec {status['scanner_netns']} asbuilt scan {net}"
        )
    first = status["devices"][0]["address"] if status["devices"] else status["scanner_ip"]
    base = ".".join(first.split(".")[:2])
    scope = ".".join(first.split(".")[:3]) + ".0/24"
    return (
        f"Devices answer on {base}.0.0/16 (site addresses mapped 10.x.y.z → {base}.y.z); "
        f"ports: HTTP/ONVIF {ports['http']}, SNMP {ports['snmp']}/udp, SSH {ports['ssh']}, "
        f"WS-Discovery {ports['wsd']}/udp (unicast probes). Scanner address: {status['scanner_ip']}\n"
        "Scan it with (a credential file in the format of `asbuilt scan --help`):\n"
        f"  asbuilt scan {scope} --ports http={ports['http']},snmp={ports['snmp']},ssh={ports['ssh']} "
        "--creds creds.yaml"
    )


def _errors(status: dict[str, Any]) -> list[str]:
    return [
        f"{d['name']} {name}: {s['error']}"
        for d in status["devices"]
        for name, s in d["services"].items()
        if s.get("error")
    ]


def _show(status: dict[str, Any], subnet: str | None = None) -> None:
    console.print(device_table(status))
    errors = _errors(status)
    if errors:
        unique = sorted({e.split(": ", 1)[1] for e in errors})
        console.print(f"[yellow]{len(errors)} simulator(s) not running:[/yellow]")
        for reason in unique:
            console.print(f"  - {reason}")
    console.print(scanner_hint(status, subnet))


# ---------------------------------------------------------------- commands


@lab_app.command()
def up(
    site: str = SiteOpt,
    netns: bool | None = typer.Option(None, "--netns/--loopback", help="Default: namespaces as root"),
    loopback_base: int = typer.Option(23, min=1, max=254, help="Second octet of 127.B.x.y in loopback mode"),
    state_dir: Path | None = StateDirOpt,
    lab_id: str | None = typer.Option(None, help="Short id in namespace names asb-ID-… (default: from site)"),
    ports: str | None = typer.Option(None, help="standard (80/161/22) or unprivileged (8080/1161/2222)"),
    foreground: bool = typer.Option(False, help="Run in this terminal until Ctrl-C"),
) -> None:
    """Start the lab (in the background unless --foreground) and print its devices."""
    use_netns = is_root() if netns is None else netns
    if use_netns and not is_root():
        raise _fail("namespace mode needs root; use --loopback")
    mode: Mode = "netns" if use_netns else "loopback"
    if ports not in (None, "standard", "unprivileged"):
        raise _fail("--ports must be standard or unprivileged")
    directory = _state_dir(site, state_dir)
    ident = lab_id or default_lab_id(site)
    from lab.site import load_site

    subnet = load_site(site).subnet
    if foreground:

        def ready(info: dict[str, Any]) -> None:
            _show(info["status"], subnet)
            console.print("Running; Ctrl-C stops it.")

        asyncio.run(serve(site, mode, ident, directory, loopback_base, ports, on_ready=ready))
        return
    try:
        info = start_daemon(site, mode, ident, directory, loopback_base, ports)
    except LabControlError as exc:
        raise _fail(str(exc)) from None
    _show(info["status"], subnet)
    console.print(f"Lab running as pid {info['pid']}; state in {directory}. Stop it with `asbuilt lab down`.")


@lab_app.command()
def status(
    site: str = SiteOpt, state_dir: Path | None = StateDirOpt, as_json: bool = typer.Option(False, "--json")
) -> None:
    """Show the running lab: devices, addresses, which simulators are up."""
    answer = _request(site, state_dir, {"op": "status"})
    if as_json:
        typer.echo(json.dumps(answer["status"], indent=2))
    else:
        _show(answer["status"])


@lab_app.command()
def down(
    site: str = SiteOpt,
    state_dir: Path | None = StateDirOpt,
    lab_id: str | None = typer.Option(None, help="Also remove namespaces of this lab id"),
) -> None:
    """Stop the lab and remove its namespaces (idempotent, also after a crash)."""
    directory = _state_dir(site, state_dir)
    info = StateDir(directory).read_info() or {}
    console.print(stop_lab(directory, lab_id or info.get("lab_id") or default_lab_id(site)))


@lab_app.command()
def truth(
    site: str = SiteOpt, state_dir: Path | None = StateDirOpt, as_json: bool = typer.Option(False, "--json")
) -> None:
    """What a correct scan must find: of the running lab if one runs, else of the site file."""
    from lab.truth import GroundTruth, ground_truth

    directory = _state_dir(site, state_dir)
    if StateDir(directory).socket.exists():
        data = _request(site, state_dir, {"op": "truth"})["truth"]
        result = GroundTruth.model_validate(data)
    else:
        from lab.site import load_site

        result = ground_truth(load_site(site))
    if as_json:
        typer.echo(result.to_json())
        return
    table = Table(title=f"Ground truth of {result.site}")
    for column in (
        "name",
        "role",
        "vendor",
        "model",
        "serial",
        "firmware",
        "IP",
        "MAC",
        "switch",
        "port",
        "PoE",
    ):
        table.add_column(column)
    for d in result.devices:
        poe = (
            f"{d.poe_status.value} c{d.poe_class} {d.power_w} W"
            if d.poe_class is not None
            else d.poe_status.value
        )
        port = d.port + (f" via {d.via}" if d.via else "")
        table.add_row(
            d.name, d.role, d.vendor, d.model, d.serial, d.firmware, d.ip, d.mac, d.switch, port, poe
        )
    console.print(table)


def _request(site: str, state_dir: Path | None, payload: dict[str, Any]) -> dict[str, Any]:
    try:
        answer = request(_state_dir(site, state_dir), payload)
    except LabControlError as exc:
        raise _fail(str(exc)) from None
    if not answer.get("ok"):
        raise _fail(str(answer.get("error")))
    return answer


# ---------------------------------------------------------------- changes


def _change(site: str, state_dir: Path | None, kind: str, **args: Any) -> None:
    answer = _request(site, state_dir, {"op": "change", "kind": kind, "args": args})
    summary = {k: v for k, v in answer.get("summary", {}).items() if v}
    detail = ", ".join(f"{k}: {' '.join(v)}" for k, v in summary.items())
    console.print(
        f"applied {kind} (generation {answer.get('generation')})" + (f"; {detail}" if detail else "")
    )


@change_app.command("add")
def change_add(
    like: str = typer.Option(..., help="Existing device to copy (vendor, model, credentials)"),
    name: str = typer.Option(..., help="Name of the new device"),
    port: str = typer.Option(..., help="SWITCH:PORT, or an unmanaged switch name"),
    ip: str | None = typer.Option(None, help="Default: the lowest free address"),
    mac: str | None = typer.Option(None, help="Default: a free MAC with the same vendor prefix"),
    site: str = SiteOpt,
    state_dir: Path | None = StateDirOpt,
) -> None:
    """Install a new device."""
    _change(site, state_dir, "add", like=like, name=name, port=port, ip=ip, mac=mac)


@change_app.command("remove")
def change_remove(name: str, site: str = SiteOpt, state_dir: Path | None = StateDirOpt) -> None:
    """Take a device away."""
    _change(site, state_dir, "remove", name=name)


@change_app.command("swap")
def change_swap(
    name: str,
    mac: str | None = typer.Option(None),
    serial: str | None = typer.Option(None),
    site: str = SiteOpt,
    state_dir: Path | None = StateDirOpt,
) -> None:
    """Replace a device by another unit (new serial and MAC) on the same port and IP."""
    _change(site, state_dir, "swap", name=name, mac=mac, serial=serial)


@change_app.command("move")
def change_move(
    name: str,
    to: str = typer.Option(..., "--to", help="SWITCH:PORT, or an unmanaged switch name"),
    site: str = SiteOpt,
    state_dir: Path | None = StateDirOpt,
) -> None:
    """Re-plug a device into another port."""
    _change(site, state_dir, "move", name=name, to=to)


@change_app.command("firmware")
def change_firmware(
    name: str, version: str, site: str = SiteOpt, state_dir: Path | None = StateDirOpt
) -> None:
    """Upgrade (or downgrade) a device's firmware."""
    _change(site, state_dir, "firmware", name=name, version=version)


@change_app.command("ip")
def change_ip(name: str, ip: str, site: str = SiteOpt, state_dir: Path | None = StateDirOpt) -> None:
    """Give a device another IP address."""
    _change(site, state_dir, "ip", name=name, ip=ip)


@change_app.command("setting")
def change_setting(
    name: str,
    profile: str = typer.Option(..., help="Stream profile token, e.g. profile_1"),
    bitrate: int | None = typer.Option(None, help="Bitrate, kbit/s"),
    fps: float | None = typer.Option(None, help="Frame rate"),
    resolution: str | None = typer.Option(None, help="WIDTHxHEIGHT"),
    encoding: str | None = typer.Option(None, help="H264, H265 or JPEG"),
    gov: int | None = typer.Option(None, help="GOP length"),
    site: str = SiteOpt,
    state_dir: Path | None = StateDirOpt,
) -> None:
    """Change a stream profile's encoder settings."""
    width = height = None
    if resolution:
        w, _, h = resolution.lower().partition("x")
        if not (w.isdigit() and h.isdigit()):
            raise _fail(f"resolution {resolution!r} is not WIDTHxHEIGHT")
        width, height = int(w), int(h)
    settings = {
        "bitrate_kbps": bitrate,
        "frame_rate": fps,
        "width": width,
        "height": height,
        "encoding": encoding,
        "gov_length": gov,
    }
    _change(site, state_dir, "setting", name=name, profile=profile, **settings)


@change_app.command("fault")
def change_fault(
    name: str,
    fault: str,
    value: str = typer.Option("true", help="true/false, or a number for clock_offset_s / slow_reply_s"),
    site: str = SiteOpt,
    state_dir: Path | None = StateDirOpt,
) -> None:
    """Make a device misbehave (or stop misbehaving with --value false)."""
    _change(site, state_dir, "fault", name=name, fault=fault, value=value)
