"""Where one page's time goes: the collector app in this process, one signed-in browser, one page at
a time against the database seeded by benchmarks/load/seed.py.

For each page (sites list, search, site page, diff page) it requests ``--repeat`` random sites one
after another over a real socket on 127.0.0.1 and prints the median and p95 wall time and the CPU
time of this process per request (the HTTP client runs here too; it is small beside the server).
With ``--profile`` it also prints the functions with the most CPU time per page (cProfile).

Usage: .venv/bin/python benchmarks/load/profile_pages.py [--db asb_load_scale] [--repeat 30]
       [--profile] [--top 25] [--pages "site page,diff page"]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from collector.app import create_app
from collector.config import CollectorConfig

CSRF = re.compile(r'name="csrf" value="([^"]*)"')
USER, PASSWORD = "load-admin", "load-test-password-1"
SITES = 10_000


# --breakdown: wall time inside these steps per request (sync steps: CPU; async ones include waits).
STEPS = (
    ("collector.web.guard", "signed_in"),
    ("collector.web.pages.sites", "site_service.find_site"),
    ("collector.web.pages.sites", "lookups.site_overview"),
    ("collector.web.pages.sites", "search_service.search"),
    ("collector.web.pages.sites", "load_snapshot"),
    ("collector.web.changes", "stored_diff"),
    ("collector.services.diffs", "diff_snapshots"),
    ("collector.web.pages.sites", "build_record"),
    ("collector.web.render", "aiohttp_jinja2.render_template"),
)
SPENT: dict[str, float] = {}


def instrument() -> None:
    import functools
    import importlib
    import inspect

    for module_name, dotted in STEPS:
        owner = importlib.import_module(module_name)
        *path, attr = dotted.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, attr)
        label = dotted.rsplit(".", 1)[-1]

        def wrap(fn, label=label):  # type: ignore[no-untyped-def]
            if inspect.iscoroutinefunction(fn):

                @functools.wraps(fn)
                async def timed_async(*a, **k):  # type: ignore[no-untyped-def]
                    t0 = time.perf_counter()
                    try:
                        return await fn(*a, **k)
                    finally:
                        SPENT[label] = SPENT.get(label, 0.0) + time.perf_counter() - t0

                return timed_async

            @functools.wraps(fn)
            def timed(*a, **k):  # type: ignore[no-untyped-def]
                t0 = time.perf_counter()
                try:
                    return fn(*a, **k)
                finally:
                    SPENT[label] = SPENT.get(label, 0.0) + time.perf_counter() - t0

            return timed

        setattr(owner, attr, wrap(original))


def paths(page: str) -> str:
    site = f"site-{random.randrange(SITES):05d}"
    return {
        "sites list": "/",
        "search": f"/?q=Customer+{random.randrange(SITES // 10):05d}",
        "site page": f"/sites/{site}",
        "diff page": f"/sites/{site}/diff",
    }[page]


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="asb-profile-") as tmp:
        config = CollectorConfig.from_env(
            data_dir=Path(tmp), database_url=f"postgresql+asyncpg://root@127.0.0.1:5432/{args.db}"
        )
        server = TestServer(create_app(config), host="127.0.0.1")
        await server.start_server()
        try:
            jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1 (an address, not a name)
            async with aiohttp.ClientSession(base_url=str(server.make_url("/")), cookie_jar=jar) as client:
                form = await (await client.get("/login")).text()
                match = CSRF.search(form)
                assert match, form[:300]
                data = {"csrf": match.group(1), "name": USER, "password": PASSWORD, "next": "/"}
                async with client.post("/login", data=data, allow_redirects=False) as r:
                    assert r.status == 303, r.status
                for page in args.pages:
                    await one_page(client, page, args)
        finally:
            await server.close()


async def one_page(client: aiohttp.ClientSession, page: str, args: argparse.Namespace) -> None:
    for _ in range(3):  # warm: templates compiled, connections open
        async with client.get(paths(page)) as r:
            await r.read()
    walls, cpus = [], []
    SPENT.clear()
    profiler = cProfile.Profile() if args.profile else None
    for _ in range(args.repeat):
        path = paths(page)
        t0, c0 = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        async with client.get(path) as r:
            body = await r.read()
        if profiler:
            profiler.disable()
        walls.append((time.perf_counter() - t0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
        assert r.status == 200, (path, r.status, body[:300])
    walls.sort()
    p95 = walls[min(len(walls) - 1, int(len(walls) * 0.95))]
    print(
        f"{page:<11} wall median {statistics.median(walls):6.1f} ms  p95 {p95:6.1f} ms  "
        f"CPU median {statistics.median(cpus):6.1f} ms  ({args.repeat} requests, {len(body):,} bytes)",
        flush=True,
    )
    if SPENT:
        print(
            "   "
            + "  ".join(f"{k} {v * 1000 / args.repeat:.1f}" for k, v in SPENT.items())
            + "  (ms/request)"
        )
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="asb_load_scale")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--breakdown", action="store_true", help="time inside the main steps")
    parser.add_argument("--pages", default="sites list,search,site page,diff page")
    args = parser.parse_args()
    args.repeat = max(1, min(args.repeat, 500))
    args.pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    random.seed(13)
    if args.breakdown:
        instrument()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    asyncio.run(run(args))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
