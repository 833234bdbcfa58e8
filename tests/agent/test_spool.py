"""The spool keeps every snapshot until the collector confirms it, through crashes."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

from agent.spool import Spool
from drivers import schema as s


def snapshot(n: int) -> s.Snapshot:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    return s.Snapshot(
        site=s.SiteRef(site_id="depot"),
        scan=s.ScanInfo(agent_version="t", started_at=now, finished_at=now),
        devices=(s.Device(role="camera", identity=s.DeviceIdentity(mac=f"ac:cc:8e:00:00:{n:02x}")),),
    )


def test_put_is_durable_ordered_and_deduplicated(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    first = spool.put(snapshot(1))
    time.sleep(0.002)
    second = spool.put(snapshot(2))
    again = spool.put(snapshot(1))
    assert again.path == first.path
    assert [i.content_hash for i in spool.pending()] == [first.content_hash, second.content_hash]
    assert spool.depth() == 2
    restored = s.Snapshot.model_validate_json(gzip.decompress(first.body()))
    assert restored.content_hash() == snapshot(1).content_hash()
    assert first.content_hash == snapshot(1).content_hash()


def test_ack_and_reject(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    a, b = spool.put(snapshot(1)), spool.put(snapshot(2))
    spool.ack(a)
    kept = spool.reject(b, "HTTP 422: devices.0.identity.mac: not a MAC address")
    assert spool.depth() == 0
    assert kept.exists() and kept.with_name(kept.name + ".reason.txt").read_text().startswith("HTTP 422")
    assert spool.rejected() == [kept]


def test_a_writer_killed_mid_write_leaves_only_whole_snapshots(tmp_path: Path) -> None:
    """kill -9 a process that spools snapshots as fast as it can; every file left must be complete."""
    writer = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_spool import snapshot
        from agent.spool import Spool
        spool = Spool(__import__('pathlib').Path({str(tmp_path)!r}))
        print('ready', flush=True)
        n = 0
        while n < 100000:
            spool.put(snapshot(n % 250))
            n += 1
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, cwd=os.getcwd())
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(0.4)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    spool = Spool(tmp_path)  # re-open: removes temporary files of the interrupted write
    items = spool.pending()
    assert items, "the writer should have spooled something before it was killed"
    for item in items:
        snap = s.Snapshot.model_validate_json(gzip.decompress(item.body()))
        assert snap.content_hash() == item.content_hash
    assert not list(spool.pending_dir.glob(".*.tmp"))


def test_snapshots_are_sealed_at_rest_and_open_only_with_the_spools_key(tmp_path: Path) -> None:
    import stat

    import pytest

    from agent.spool import KEY_FILE, SpoolKeyError

    old_umask = os.umask(0)
    try:
        spool = Spool(tmp_path / "spool")
    finally:
        os.umask(old_umask)
    item = spool.put(snapshot(7))
    on_disk = item.path.read_bytes()
    assert b"ac:cc:8e:00:00:07" not in on_disk and b"depot" not in on_disk
    with pytest.raises(OSError):
        gzip.decompress(on_disk)  # not even a gzip stream: the whole file is ciphertext
    assert gzip.decompress(item.body()) == snapshot(7).canonical_json().encode()
    key = tmp_path / "spool" / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    stranger = Spool(tmp_path / "spool", key=os.urandom(32))  # a copy of the files without the key
    with pytest.raises(SpoolKeyError):
        stranger.pending()[0].body()
    again = Spool(tmp_path / "spool")  # the same account re-opens it with its key file
    assert again.pending()[0].body() == item.body()
    spool.ack(item)
    assert not list((tmp_path / "spool" / "pending").iterdir())  # confirmed: nothing of it is left
