"""Issue #14, class 1 end to end: a real collector process takes every hostile upload we know and
stays under a memory ceiling, answering each with a 4xx and staying up for the next good push.

Before the fix, the 64 KB gzip of 21 M empty device objects drove the collector to 22.8 GiB and a
4 KB variant to 3 GiB. The figure printed here is the kernel's high-water mark (VmHWM) of the
collector process: the most it ever held, not a sample.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from tests.collector.factory import depot
from tests.e2e.collectorproc import CollectorProcess
from tests.hostile.memory import peak_rss_mib, rss_mib
from tests.hostile.uploads import hostile_uploads

CEILING_MIB = 400  # a safety property, not a speed target: real snapshots peak far below it


def _push(url: str, token: str, body: bytes, encoding: str | None) -> int:
    req = urllib.request.Request(url + "/api/v1/snapshots", data=body, method="POST")
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json")
    if encoding:
        req.add_header("Content-Encoding", encoding)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        exc.read()
        return int(exc.code)


def test_the_collector_survives_every_hostile_upload_under_its_ceiling(tmp_path: Path):
    site = "depot-hostile"
    with CollectorProcess(tmp_path / "collector") as collector:
        assert collector.proc is not None
        pid = collector.proc.pid
        token_file = tmp_path / "token"
        collector.enrol(site, token_file)
        token = token_file.read_text().strip()
        assert _push(collector.url, token, depot(site_id=site).canonical_json().encode(), None) == 201
        idle = rss_mib(pid)
        rows = []
        for name, body, encoding in hostile_uploads(site):
            status = _push(collector.url, token, body, encoding)
            rows.append((name, len(body), status, peak_rss_mib(pid)))
            assert 400 <= status < 500, (name, status)
            assert collector.proc.poll() is None, f"collector died on {name}"
        later = depot(site_id=site, started_at=depot(site_id=site).scan.started_at.replace(hour=9))
        assert _push(collector.url, token, later.canonical_json().encode(), None) in (200, 201)
        peak = peak_rss_mib(pid)
    print(f"\ncollector idle {idle:.0f} MiB; high-water mark after each hostile upload:")
    for name, size, status, high in rows:
        print(f"  {name:<48} {size:>10} B  HTTP {status}  peak {high:6.0f} MiB")
    print(f"collector peak {peak:.0f} MiB (ceiling {CEILING_MIB} MiB)")
    assert peak < CEILING_MIB
