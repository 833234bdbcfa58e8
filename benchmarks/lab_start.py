"""How long the simulated site takes to come up and go down, and what the lab process costs.

    .venv/bin/python benchmarks/lab_start.py [--sites small,large] [--modes loopback,netns]

Each run is a fresh child process (so its peak RSS is the lab's alone): build the network, start
every simulator, measure, stop everything. Namespace mode needs root and is skipped otherwise.
Loopback runs use 127.23.x.y. Prints a table; figures go in the README, not in assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            continue
    return count


async def _measure(site_name: str, mode: str) -> dict[str, object]:
    import psutil

    from lab.runner import LabRunner
    from lab.site import load_site

    site = load_site(site_name)
    runner = LabRunner(site, mode=mode, lab_id=f"b{os.getpid() % 100000}", loopback_base=23)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    await runner.start()
    up_s = time.perf_counter() - t0
    status = runner.status()
    services = sum(1 for d in status.devices for s in d.services.values() if s.up)
    failed = sum(1 for d in status.devices for s in d.services.values() if not s.up)
    rss_mb = psutil.Process().memory_info().rss / 2**20
    sockets, threads = _sockets(), psutil.Process().num_threads()
    t1 = time.perf_counter()
    await runner.stop()
    down_s = time.perf_counter() - t1
    return {
        "site": site_name,
        "mode": mode,
        "hosts": len(status.devices),
        "services_up": services,
        "services_failed": failed,
        "network_s": runner.timings.get("network", 0.0),
        "up_s": round(up_s, 2),
        "down_s": round(down_s, 2),
        "rss_mb": round(rss_mb, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "sockets": sockets,
        "threads": threads,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", default="small,large")
    parser.add_argument("--modes", default="loopback,netns")
    parser.add_argument("--child", nargs=2, metavar=("SITE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_measure(*args.child))))
        return

    from rich.console import Console
    from rich.table import Table

    rows = []
    for mode in args.modes.split(","):
        if mode == "netns" and os.geteuid() != 0:
            print("netns mode skipped: needs root", file=sys.stderr)
            continue
        for site in args.sites.split(","):
            out = subprocess.run(
                [sys.executable, __file__, "--child", site, mode], capture_output=True, text=True, timeout=900
            )
            if out.returncode != 0:
                print(f"{site}/{mode} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
                continue
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    table = Table(title="Lab start-up and tear-down (one process, all simulators)")
    columns = list(rows[0]) if rows else []
    for column in columns:
        table.add_column(column, justify="left" if column in ("site", "mode") else "right")
    for row in rows:
        table.add_row(*(str(row[c]) for c in columns))
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
