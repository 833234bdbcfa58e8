"""The lab as a background process: its state directory, its control socket, and how to stop it.

State directory (default /run/asbuilt-lab/<site> as root, ~/.asbuilt/lab/<site> otherwise):
    lab.json      what runs: lab id, mode, pid, phase (starting/running/failed) and the full status
                  (address map, ports, services per device); rewritten after every change
    lab.pid       the daemon's pid
    control.sock  unix socket: one JSON request per line, one JSON answer per line
    lab.log       the daemon's output

Requests: {"op": "status"} | {"op": "truth"} | {"op": "change", "kind": K, "args": {...}} | {"op": "stop"}.
Answers: {"ok": true, ...} or {"ok": false, "error": "..."}.
`stop_lab` works after a crash too: it kills the recorded pid only if that process is still our
daemon, then deletes the lab's namespaces by prefix.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.changes import ChangeError, apply_change
from lab.host import PortPlan
from lab.netns import LabNames, delete_namespaces, is_root
from lab.runner import LabRunner, Mode
from lab.site import load_site
from lab.truth import ground_truth

DAEMON_MODULE = "lab.control"
MAX_REQUEST = 64 * 1024
REQUEST_TIMEOUT_S = 120.0


class LabControlError(RuntimeError):
    """The lab is not running, or it refused a request; the message says which."""


def site_label(site: str) -> str:
    """Folder name for a site given by name or path."""
    return Path(site).stem if "/" in site or site.endswith((".yaml", ".yml")) else site


def default_state_dir(site: str) -> Path:
    base = Path("/run/asbuilt-lab") if is_root() else Path.home() / ".asbuilt" / "lab"
    return base / site_label(site)


def port_plan(ports: str | None) -> PortPlan | None:
    """`standard` (80/161/22), `unprivileged` (8080/1161/2222), or None: standard as root."""
    if ports is None:
        return None
    if ports not in ("standard", "unprivileged"):
        raise ValueError(f"ports must be standard or unprivileged, not {ports!r}")
    return PortPlan.standard() if ports == "standard" else PortPlan.unprivileged()


def default_lab_id(site: str) -> str:
    """A short dash-free id from the site name: `small` -> `small`, `large-200` -> `large200`."""
    cleaned = "".join(ch for ch in site_label(site).lower() if ch.isalnum())
    return (cleaned or "lab")[:12]


@dataclass(frozen=True)
class StateDir:
    path: Path

    @property
    def info(self) -> Path:
        return self.path / "lab.json"

    @property
    def pid(self) -> Path:
        return self.path / "lab.pid"

    @property
    def socket(self) -> Path:
        return self.path / "control.sock"

    @property
    def log(self) -> Path:
        return self.path / "lab.log"

    def read_info(self) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self.info.read_text())
            return data
        except (OSError, ValueError):
            return None

    def write_info(self, info: dict[str, Any]) -> None:
        tmp = self.info.with_suffix(".tmp")
        tmp.write_text(json.dumps(info, indent=2))
        tmp.replace(self.info)

    def read_pid(self) -> int | None:
        try:
            return int(self.pid.read_text().strip())
        except (OSError, ValueError):
            return None


def is_lab_process(pid: int) -> bool:
    """True only if `pid` is alive and is a lab daemon (guards against a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return DAEMON_MODULE.encode() in cmdline and b"serve" in cmdline


# ---------------------------------------------------------------- the daemon side


async def serve(
    site: str,
    mode: Mode,
    lab_id: str,
    state_dir: Path,
    loopback_base: int = 23,
    ports: str | None = None,
    on_ready: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Run the lab until a stop request or SIGTERM/SIGINT; keeps lab.json current."""
    sd = StateDir(state_dir)
    sd.path.mkdir(parents=True, exist_ok=True)
    sd.pid.write_text(str(os.getpid()))
    base_info: dict[str, Any] = {"site": site, "mode": mode, "lab_id": lab_id, "pid": os.getpid()}
    sd.write_info({**base_info, "phase": "starting"})
    plan = port_plan(ports)
    runner = LabRunner(load_site(site), mode=mode, lab_id=lab_id, loopback_base=loopback_base, ports=plan)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def publish() -> dict[str, Any]:
        info = {**base_info, "phase": "running", "status": runner.status().model_dump(mode="json")}
        sd.write_info(info)
        return info

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 10)
            answer = await _answer(runner, json.loads(line[:MAX_REQUEST] or b"{}"), stop)
            if answer.get("ok") and answer.get("changed"):
                publish()
        except Exception as exc:  # a bad request must not stop the lab
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        writer.write(json.dumps(answer).encode() + b"\n")
        with contextlib.suppress(Exception):
            await writer.drain()
            writer.close()

    server = None
    try:
        await runner.start()
        with contextlib.suppress(FileNotFoundError):
            sd.socket.unlink()
        server = await asyncio.start_unix_server(handle, path=str(sd.socket), limit=MAX_REQUEST)
        info = publish()
        if on_ready is not None:
            on_ready(info)
        await stop.wait()
    except BaseException as exc:
        sd.write_info({**base_info, "phase": "failed", "error": f"{type(exc).__name__}: {exc}"})
        raise
    finally:
        if server is not None:
            server.close()
        await runner.stop()
        for path in (sd.socket, sd.pid):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        info = sd.read_info() or base_info
        if info.get("phase") != "failed":
            sd.write_info({**base_info, "phase": "stopped"})


async def _answer(runner: LabRunner, request: dict[str, Any], stop: asyncio.Event) -> dict[str, Any]:
    op = request.get("op")
    if op == "status":
        return {"ok": True, "status": runner.status().model_dump(mode="json")}
    if op == "truth":
        truth = await asyncio.to_thread(ground_truth, runner.state.site)
        return {"ok": True, "truth": truth.model_dump(mode="json")}
    if op == "stop":
        stop.set()
        return {"ok": True}
    if op == "change":
        try:
            new = apply_change(runner.state.site, str(request.get("kind")), dict(request.get("args") or {}))
        except ChangeError as exc:
            return {"ok": False, "error": str(exc)}
        summary = await runner.apply(new)
        return {"ok": True, "changed": True, "summary": summary, "generation": runner.state.generation}
    return {"ok": False, "error": f"unknown request {op!r}"}


# ---------------------------------------------------------------- the client side


async def request_async(
    state_dir: Path, payload: dict[str, Any], wait_s: float = REQUEST_TIMEOUT_S
) -> dict[str, Any]:
    sd = StateDir(state_dir)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_unix_connection(str(sd.socket), limit=1 << 24), 5
        )
    except (OSError, TimeoutError) as exc:
        raise LabControlError(f"no lab is running with state dir {state_dir} ({exc})") from None
    try:
        writer.write(json.dumps(payload).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), wait_s)
    finally:
        writer.close()
    if not line:
        raise LabControlError("the lab closed the control connection without an answer")
    answer: dict[str, Any] = json.loads(line)
    return answer


def request(state_dir: Path, payload: dict[str, Any], wait_s: float = REQUEST_TIMEOUT_S) -> dict[str, Any]:
    return asyncio.run(request_async(state_dir, payload, wait_s))


def start_daemon(
    site: str,
    mode: Mode,
    lab_id: str,
    state_dir: Path,
    loopback_base: int = 23,
    ports: str | None = None,
    wait_s: float = 180.0,
) -> dict[str, Any]:
    """Start the lab in its own session and wait until it runs (or says why it failed)."""
    sd = StateDir(state_dir)
    pid = sd.read_pid()
    if pid is not None and is_lab_process(pid):
        raise LabControlError(
            f"a lab is already running from {state_dir} (pid {pid}); `asbuilt lab down` first"
        )
    sd.path.mkdir(parents=True, exist_ok=True)
    cleanup_stale(sd, lab_id)
    argv = [sys.executable, "-m", DAEMON_MODULE, "serve", "--site", site, "--mode", mode]
    argv += ["--lab-id", lab_id, "--state-dir", str(state_dir), "--loopback-base", str(loopback_base)]
    argv += ["--ports", ports] if ports else []
    with sd.log.open("ab") as log:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True
        )
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        info = sd.read_info()
        if info and info.get("pid") == proc.pid and info.get("phase") in ("running", "failed"):
            if info["phase"] == "failed":
                proc.wait(10)
                raise LabControlError(f"the lab failed to start: {info.get('error')} (log: {sd.log})")
            return info
        if proc.poll() is not None:
            raise LabControlError(
                f"the lab exited with code {proc.returncode} while starting (log: {sd.log})"
            )
        time.sleep(0.1)
    proc.terminate()
    raise LabControlError(f"the lab did not come up within {wait_s:.0f} s (log: {sd.log})")


def cleanup_stale(sd: StateDir, lab_id: str | None) -> list[str]:
    """Remove what a crashed lab left: its namespaces (by prefix) and its socket/pid files."""
    removed: list[str] = []
    info = sd.read_info() or {}
    ids = {i for i in (lab_id, info.get("lab_id")) if i}
    if is_root():
        for i in ids:
            removed += delete_namespaces(LabNames(i).prefix)
    for path in (sd.socket, sd.pid):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return removed


def stop_lab(state_dir: Path, lab_id: str | None = None, wait_s: float = 20.0) -> str:
    """Stop the lab of this state dir: polite stop request, then SIGTERM, then SIGKILL; then clean up.

    Idempotent: with nothing running it only removes leftovers."""
    sd = StateDir(state_dir)
    pid = sd.read_pid()
    if pid is None:
        info = sd.read_info() or {}
        pid = info.get("pid") if info.get("phase") in ("starting", "running") else None
    said = "no lab was running"
    if pid is not None and is_lab_process(pid):
        with contextlib.suppress(LabControlError, OSError, ValueError, TimeoutError):
            request(state_dir, {"op": "stop"}, wait_s=5)
        if not _wait_gone(pid, wait_s / 2):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not _wait_gone(pid, wait_s / 2):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                _wait_gone(pid, 5)
        said = f"stopped the lab (pid {pid})"
    leftovers = cleanup_stale(sd, lab_id)
    if leftovers:
        said += f"; removed {len(leftovers)} leftover namespaces"
    return said


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not is_lab_process(pid):
            return True
        time.sleep(0.05)
    return not is_lab_process(pid)


# ---------------------------------------------------------------- daemon entry point


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.control")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="run the lab in the foreground (used by `asbuilt lab up`)")
    run.add_argument("--site", required=True)
    run.add_argument("--mode", choices=["netns", "loopback"], required=True)
    run.add_argument("--lab-id", required=True)
    run.add_argument("--state-dir", required=True, type=Path)
    run.add_argument("--loopback-base", type=int, default=23)
    run.add_argument("--ports", choices=["standard", "unprivileged"], default=None)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.site, args.mode, args.lab_id, args.state_dir, args.loopback_base, args.ports))


if __name__ == "__main__":
    main()
