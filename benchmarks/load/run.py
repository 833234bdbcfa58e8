"""Load test: 20 users (Locust) against one collector process on the seeded 10,000-site database.

Starts `asbuilt collector serve` on 127.0.0.1 (a free port) against the database seeded by
benchmarks/load/seed.py, runs Locust headless for a bounded time (first 1 user, then N users),
samples the collector's resident memory every second, and prints p50/p95/p99 per page.

Usage: .venv/bin/python benchmarks/load/run.py [--db asb_load_scale] [--users 20] [--seconds 60]
       [--think 0.1,0.5] [--ramp 2] [--drop]  (drop the load-test database afterwards)
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PAGES = ("sites list", "search", "site page", "diff page")
SIGN_IN_S = 15


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"collector exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/login", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("collector did not start")


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.samples: list[int] = []
        self.times: list[float] = []
        self.cpus: list[float] = []
        self.stop = threading.Event()

    def cpu_at(self, moment: float) -> float:
        """CPU seconds used by the first sample at or after ``moment``."""
        return next((c for c, t in zip(self.cpus, self.times, strict=True) if t >= moment), self.cpus[-1])

    def peak_between(self, start: float, end: float) -> int:
        return max((r for r, t in zip(self.samples, self.times, strict=True) if start <= t <= end), default=0)

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the collector process has used so far."""
        times = self.proc.cpu_times()
        return float(times.user + times.system)

    def run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                self.samples.append(self.proc.memory_info().rss)
                self.times.append(time.monotonic())
                self.cpus.append(self.cpu_s())
            except psutil.Error:
                return


def locust(
    url: str, users: int, seconds: int, prefix: Path, env: dict[str, str], ramp: float = 0
) -> dict[str, list[str]]:
    """``ramp``: users started per second (0: all at once); the figures then count from the moment
    the last one started (--reset-stats), so the sign-in ramp is not in them."""
    cmd = [
        str(BIN / "locust"), "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
        "-u", str(users), "-r", str(ramp or users), "-t", f"{seconds}s", "--host", url, "--csv", str(prefix),
        "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5",
    ]  # fmt: skip
    if ramp:
        cmd.append("--reset-stats")
    subprocess.run(cmd, env=env, timeout=seconds + 60, check=False, stdout=subprocess.DEVNULL)
    with open(f"{prefix}_stats.csv") as fh:
        return {row["Name"]: row for row in csv.DictReader(fh)}  # type: ignore[misc]


def table(title: str, rows: list[list[str]]) -> None:
    header = ["page", "requests", "failures", "p50 ms", "p95 ms", "p99 ms", "req/s"]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    print(f"\n{title}")
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(
            " | ".join(
                str(x).rjust(w) if i else str(x).ljust(w)
                for i, (x, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def rows_of(stats: dict[str, dict[str, str]]) -> list[list[str]]:
    out = []
    for name in PAGES:
        s = stats.get(name)
        if s is None:
            continue
        out.append([name, s["Request Count"], s["Failure Count"], s["50%"], s["95%"], s["99%"],
                    f"{float(s['Requests/s']):.1f}"])  # fmt: skip
    return out


def cpu_line(cpu_s: float, stats: dict[str, dict[str, str]]) -> str:
    """The collector's CPU per counted request (sign-ins in the count only without a ramp): what
    bounds pages/s on a busy machine."""
    total = stats.get("Aggregated")
    count = int(total["Request Count"]) if total else 0
    per = f"{cpu_s * 1000 / count:.1f} ms per request" if count else "no requests"
    return f"collector CPU {cpu_s:.1f} s for the {count} requests counted: {per}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="asb_load_scale")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--single-seconds", type=int, default=20)
    parser.add_argument(
        "--ramp", type=float, default=2.0,
        help="users started per second; the figures count after the last started (0: all at once, "
        "their 20 sign-ins in one second in the figures)",
    )  # fmt: skip
    parser.add_argument(
        "--think", default="0.1,0.5", help="seconds between one user's pages, min,max (default: a stress)"
    )
    parser.add_argument("--drop", action="store_true", help="drop the load-test database at the end")
    args = parser.parse_args()
    if not ((args.db.startswith("asb_") and args.db.endswith("_load")) or args.db.startswith("asb_load")):
        parser.error("the load test's database name must be asb_load... or asb_..._load (its own)")
    args.seconds = min(args.seconds, 170)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    low, high = (float(x) for x in args.think.split(","))
    env = {**os.environ, "ASB_LOAD_SITES": "10000", "ASB_LOAD_THINK": f"{low},{high}"}
    with tempfile.TemporaryDirectory(prefix="asb-load-") as tmp:
        db_url = f"postgresql+asyncpg://root@127.0.0.1:5432/{args.db}"
        serve = [str(BIN / "asbuilt"), "collector", "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--data-dir", tmp, "--database-url", db_url]  # fmt: skip
        collector_env = {**os.environ, "ASBUILT_API_RATE_PER_S": "100000", "ASBUILT_API_BURST": "100000"}
        log = open(Path(tempfile.gettempdir()) / "asb-load-collector.log", "w")  # noqa: SIM115  closed in finally
        proc = subprocess.Popen(serve, env=collector_env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            wait_up(url, proc)
            sampler = RssSampler(proc.pid)
            sampler.start()
            cpu0 = sampler.cpu_s()
            # One user: a page's latency alone, one page after another (0.1-0.5 s apart).
            single = locust(
                url, 1, args.single_seconds, Path(tmp) / "one", {**env, "ASB_LOAD_THINK": "0.1,0.5"}
            )
            cpu1, t1 = sampler.cpu_s(), time.monotonic()
            many = locust(url, args.users, args.seconds, Path(tmp) / "many", env, args.ramp)
            cpu2, t2 = sampler.cpu_s(), time.monotonic()
            sampler.stop.set()
            rss = sampler.samples
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    table(f"1 user, {args.single_seconds} s", rows_of(single))
    print(cpu_line(cpu1 - cpu0, single))
    table(
        f"{args.users} users ({args.ramp:g}/s started), {args.seconds} s, {low:g}-{high:g} s between pages "
        "(10,000 sites x 100 versions on PostgreSQL)",
        rows_of(many),
    )
    started = t1 + (args.users / args.ramp if args.ramp else 0)
    print(cpu_line(cpu2 - (sampler.cpu_at(started) if args.ramp else cpu1), many))
    if rss:
        print(f"\ncollector RSS: start {rss[0] / 2**20:.0f} MiB, peak {max(rss) / 2**20:.0f} MiB, "
              f"end {rss[-1] / 2**20:.0f} MiB")  # fmt: skip
        # The users sign in at once (argon2id, 64 MiB per hash in each of the default thread pool's
        # threads); the pages alone are the peak after the first SIGN_IN_S seconds.
        pages = sampler.peak_between(t1 + SIGN_IN_S, t2)
        print(f"collector RSS peak while {args.users} users read pages (after their first {SIGN_IN_S} s): "
              f"{pages / 2**20:.0f} MiB")  # fmt: skip
    if args.drop:
        seed = str(Path(__file__).with_name("seed.py"))
        subprocess.run([sys.executable, seed, "--db", args.db, "--drop-only"], check=True)


if __name__ == "__main__":
    main()
