"""Deliverables benchmark: wall time and peak RSS per artefact, for the small and the 200-camera site.

    .venv/bin/python benchmarks/handover.py                  # recorded real scans (tests/documents/fixtures)
    .venv/bin/python benchmarks/handover.py --scan           # scan the simulated site afresh first
    .venv/bin/python benchmarks/handover.py --repeat 3 --out /tmp/handover

Input is a real scan of the simulated site (lab/) as installed and after a batch of changes, so
the record carries a diff against the baseline. Each artefact is made in a fresh child process, so
its peak RSS is its own (imports included); wall and CPU time (dot's included) are medians of
--repeat runs, measured inside the child around the call only (the machine is shared: CPU time
is the steadier figure). Prints a table; figures go in the README.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

ARTEFACTS = ("record", "diagram", "pdf", "xlsx", "csv", "json", "fleet")


def _branding():  # type: ignore[no-untyped-def]
    """An integrator's branding with a logo, as an admin sets it on the Branding page."""
    import base64
    import io

    from PIL import Image, ImageDraw

    from collector.documents import Branding

    logo = Image.new("RGB", (360, 120), (10, 92, 54))
    ImageDraw.Draw(logo).rectangle((20, 20, 100, 100), fill=(212, 160, 23))
    out = io.BytesIO()
    logo.save(out, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    return Branding(integrator_name="Kansai Bōhan 関西防犯", contact="Osaka · 06-1234-5678",
                    logo_data_uri=uri, primary_colour="#0a5c36", accent_colour="#d4a017")  # fmt: skip


def _plan(current):  # type: ignore[no-untyped-def]
    """A floor plan as a technician uploads one (a drawn PNG), with the first 40 cameras pinned."""
    import base64
    import io

    from PIL import Image, ImageDraw

    from collector.documents.model import FloorPlan, FloorPlanPin, SiteRecordExtras

    image = Image.new("RGB", (1600, 1000), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for x0, y0, x1, y1 in ((40, 40, 760, 480), (800, 40, 1560, 480), (40, 520, 1560, 960)):
        draw.rectangle((x0, y0, x1, y1), outline=(60, 60, 60), width=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    cams = [d for d in current.devices if d.role.value == "camera"][:40]
    pins = tuple(
        FloorPlanPin(device_id=d.id, x=0.05 + 0.9 * (i % 10) / 9, y=0.1 + 0.8 * (i // 10) / 3)
        for i, d in enumerate(cams)
    )
    return SiteRecordExtras(
        floor_plans=(FloorPlan(title="Building 1, ground floor", image_url=uri, pins=pins),)
    )


def _fleet(baseline, current):  # type: ignore[no-untyped-def]
    """The four fleet reports over the site (latest + baseline) and their XLSX."""
    from collector.fleet.reports import FleetSite, build_fleet
    from collector.fleet.tables import fleet_xlsx

    site = FleetSite(current.site.site_id, None, 2, current, 1, baseline)
    return fleet_xlsx(build_fleet("Meridian", 1, [site], datetime.now(UTC)))


def _record(baseline_path: str, current_path: str):  # type: ignore[no-untyped-def]
    from collector.diff import diff_snapshots
    from collector.documents import BaselineInfo, SiteInfo, build_record
    from drivers.schema import Snapshot

    baseline = Snapshot.model_validate_json(Path(baseline_path).read_text())
    current = Snapshot.model_validate_json(Path(current_path).read_text())
    diff = diff_snapshots(baseline, current)
    site = SiteInfo(
        customer="株式会社メリディアン物流", site_id=current.site.site_id, site_name="北デポ", version=2
    )
    approved = BaselineInfo(version=1, approved_by="Kenji Sato", approved_at=current.scan.started_at)
    now = datetime.now(UTC)
    extras = _plan(current)
    return (
        current,
        lambda: build_record(current, site, generated_at=now, baseline=approved, diff=diff, extras=extras),
        baseline,
    )


def _child(artefact: str, baseline_path: str, current_path: str, out: str | None, conn) -> None:  # type: ignore[no-untyped-def]
    from collector.documents import devices_csv, export_json, handover_pdf, record_xlsx, wiring_svg

    snapshot, build, baseline = _record(baseline_path, current_path)
    record = build()
    make = {
        "record": lambda: build().model_dump_json().encode(),
        "diagram": lambda: wiring_svg(record),
        "pdf": lambda: handover_pdf(record, branding=_branding()),
        "xlsx": lambda: record_xlsx(record),
        "csv": lambda: devices_csv(record),
        "json": lambda: export_json(record, snapshot),
        "fleet": lambda: _fleet(baseline, snapshot),
    }[artefact]
    started, cpu_before = time.perf_counter(), time.process_time()
    data = make()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    if out:
        suffix = {"diagram": "svg", "record": "record.json", "fleet": "fleet.xlsx"}.get(artefact, artefact)
        Path(out, f"handover-{snapshot.site.site_id}.{suffix}").write_bytes(data)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    dot = resource.getrusage(resource.RUSAGE_CHILDREN)  # Graphviz runs as a subprocess
    conn.send((seconds, cpu + dot.ru_utime + dot.ru_stime, peak, len(data)))


def measure(artefact: str, paths: tuple[str, str], out: str | None) -> tuple[float, float, float, int]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_child, args=(artefact, *paths, out, child))
    proc.start()
    if not parent.poll(600):
        proc.terminate()
        raise RuntimeError(f"{artefact} took longer than 10 minutes")
    result = parent.recv()
    proc.join(30)
    return result  # type: ignore[no-any-return]


def inputs(site: str, scan: bool, work: Path) -> tuple[str, str]:
    from tests.documents.record_fixtures import scan_site
    from tests.documents.snapshots import load_fixture

    pair = scan_site(site) if scan else (load_fixture(site, "baseline"), load_fixture(site, "current"))
    paths = []
    for when, snapshot in zip(("baseline", "current"), pair, strict=True):
        path = work / f"{site}-{when}.json"
        path.write_text(snapshot.canonical_json())
        paths.append(str(path))
    return paths[0], paths[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sites", default="small,large", help="comma-separated: small, large")
    parser.add_argument("--repeat", type=int, default=3, help="runs per artefact (median reported)")
    parser.add_argument("--scan", action="store_true", help="scan the simulated site instead of the fixtures")
    parser.add_argument("--out", help="directory to write the artefacts to")
    parser.add_argument(
        "--artefacts", default=",".join(ARTEFACTS), help="comma-separated, of: " + ", ".join(ARTEFACTS)
    )
    args = parser.parse_args()
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    table = Table(
        title=f"asbuilt deliverables (median of {args.repeat} runs; seconds, MiB peak RSS of the child, KiB)"
    )
    for column in ("site", "devices", "artefact", "wall", "CPU", "peak RSS", "size"):
        table.add_column(column, justify="left" if column in ("site", "artefact") else "right")
    with tempfile.TemporaryDirectory(prefix="asbuilt-bench-") as tmp:
        for site in (s.strip() for s in args.sites.split(",") if s.strip()):
            paths = inputs(site, args.scan, Path(tmp))
            devices = Path(paths[1]).read_text().count('"role":')
            for artefact in (a.strip() for a in args.artefacts.split(",") if a.strip() in ARTEFACTS):
                runs = [measure(artefact, paths, args.out) for _ in range(max(1, args.repeat))]
                table.add_row(
                    site,
                    str(devices),
                    artefact,
                    f"{statistics.median(r[0] for r in runs):.2f}",
                    f"{statistics.median(r[1] for r in runs):.2f}",
                    f"{statistics.median(r[2] for r in runs):.0f}",
                    f"{runs[0][3] / 1024:.0f}",
                )
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
