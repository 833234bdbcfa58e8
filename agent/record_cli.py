"""`asbuilt record`: turn an odd device into a test — record its ONVIF replies as a fixture folder.

Runs the same reading the scan does (drivers.onvif.collect.read_device) against one live device,
with every reply body written in the fixture layout (drivers/onvif/replay.py), then anonymises the
folder (drivers.onvif.anonymise: addresses, MACs, serial, names, URI user info), replays it to write
`expected.json`, and says where to put it: a folder under tests/fixtures/onvif/ is a new test case.
Only addresses the user names are contacted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

import typer

from agent.credentials import CredentialBook, CredentialFileError, load_credentials_file
from drivers.base import Credential

EXIT_OK, EXIT_USAGE, EXIT_FAILED = 0, 2, 4


def record(
    host: str = typer.Argument(..., help="Address of the device to record (IPv4)"),
    out: Path = typer.Option(
        ..., "--out", help="Fixture folder to create, e.g. tests/fixtures/onvif/<vendor_model_fw>"
    ),
    creds: Path | None = typer.Option(None, "--creds", help="Credential file (as for `asbuilt scan`)"),
    port: int = typer.Option(80, "--port", help="HTTP port of the device's ONVIF service"),
    timeout: float = typer.Option(5.0, "--timeout", help="Seconds per call"),
) -> None:
    """Record one ONVIF device's replies as an anonymised fixture folder (plus expected.json).

    Exit codes: 0 written; 2 usage error (bad address, folder exists, bad credential file);
    4 the device could not be read with any credential.
    """
    import ipaddress

    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        typer.echo(f"error: {host!r} is not an IPv4 address", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    if out.exists():
        typer.echo(f"error: {out} exists; choose a new folder", err=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        book = CredentialBook(load_credentials_file(creds) if creds else [])
    except CredentialFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    candidates: list[Credential | None] = [
        *book.candidates("onvif", ip=host, protocol="onvif")[: book.max_failures]
    ] or [None]
    read = asyncio.run(_read_live(host, port, timeout, candidates))
    if isinstance(read, str):
        typer.echo(f"error: {read}", err=True)
        raise typer.Exit(EXIT_FAILED)
    scratch, password, agent_time = read
    _anonymise(scratch, host, password, agent_time)
    report = asyncio.run(_replay(scratch, agent_time))
    (scratch / "expected.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(scratch), out)
    typer.echo(
        f"recorded {len(list(out.glob('*.xml')))} replies to {out} (anonymised; check before committing)"
    )


async def _read_live(
    host: str, port: int, call_timeout_s: float, candidates: list[Credential | None]
) -> tuple[Path, str | None, dt.datetime] | str:
    """Read the device with each credential in turn, recording every reply; the scratch folder of
    the read that worked, or why none did."""
    from drivers.errors import AuthError, DriverError
    from drivers.onvif.collect import read_device
    from drivers.onvif.transport import LiveSession

    last = "no credential"
    for credential in candidates:
        scratch = Path(tempfile.mkdtemp(prefix="asb-record-"))
        user = credential.username if credential else None
        password = credential.password.get_secret_value() if credential else None
        session = LiveSession(host, port, user, password, call_timeout_s, record_to=scratch)
        agent_time = dt.datetime.now(dt.UTC)
        try:
            await read_device(session)
        except AuthError as exc:
            last = f"login refused with {credential.name if credential else 'no credential'!r}: {exc}"
            shutil.rmtree(scratch, ignore_errors=True)
            continue
        except DriverError as exc:
            shutil.rmtree(scratch, ignore_errors=True)
            return f"{host}: {exc}"
        finally:
            await session.close()
        return scratch, password, agent_time
    return f"{host}: {last}"


def _anonymise(scratch: Path, host: str, password: str | None, agent_time: dt.datetime) -> None:
    from drivers.onvif.anonymise import anonymise_folder

    if password:  # a body must never keep the password (some firmware echoes it)
        for path in scratch.glob("*.xml"):
            path.write_text(path.read_text(errors="replace").replace(password, "<removed>"))
    anonymise_folder(scratch, host)
    meta = {"ip": "192.0.2.10", "agent_time": agent_time.isoformat(), "source": "asbuilt record"}
    (scratch / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


async def _replay(scratch: Path, agent_time: dt.datetime) -> dict[str, object]:
    from drivers.onvif.collect import read_device
    from drivers.onvif.replay import ReplaySession

    replay = ReplaySession(scratch)
    try:
        report = await read_device(replay, now=lambda: agent_time)
    finally:
        await replay.close()
    return report.model_dump(mode="json")
