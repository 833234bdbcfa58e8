"""The handover pack: the as-built record as HTML (Jinja2), then PDF (WeasyPrint).

Why WeasyPrint: it turns HTML and CSS Paged Media into PDF on Pango (Debian's text stack, so CJK
and other non-Latin scripts shape correctly with the Noto CJK font), with page counters, named
landscape pages, target-counter() for the table of contents and PDF bookmarks from the headings,
and it draws our SVG diagram as vectors. No browser process is needed.

Documents never fetch: the URL fetcher refuses everything but data: URIs, so a hostile name or
photo reference in the record cannot make the collector read a file or call a URL.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from collector.documents.branding import Branding
from collector.documents.diagram import COLOURS, DOT_TIMEOUT_S, topology_svg, wiring_svg
from collector.documents.model import AsBuiltRecord, ChannelEntry, RecorderEntry, SealedCredential

TEMPLATES = Path(__file__).with_name("templates")
PORTS_PER_DIAGRAM_PAGE = 20  # at most, per switch diagram page: keeps the text at about 8 pt


class DocumentFetchRefused(ValueError):
    """The document asked for a resource that is not embedded (only data: URIs are allowed)."""


def _when(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class UnusedChannels:
    """A run of recorder channels with no camera, printed as one row."""

    first: int
    last: int
    retention_days: int | None


def channel_rows(recorder: RecorderEntry) -> list[ChannelEntry | UnusedChannels]:
    """The channels, with each run of unused ones (same retention) folded into one row."""
    rows: list[ChannelEntry | UnusedChannels] = []
    for ch in recorder.channels:
        if ch.camera_id or ch.source_address:
            rows.append(ch)
            continue
        last = rows[-1] if rows else None
        if (
            isinstance(last, UnusedChannels)
            and last.last == ch.channel - 1
            and last.retention_days == ch.retention_days
        ):
            rows[-1] = UnusedChannels(last.first, ch.channel, ch.retention_days)
        else:
            rows.append(UnusedChannels(ch.channel, ch.channel, ch.retention_days))
    return rows


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.globals["channel_rows"] = channel_rows
    env.filters["dash"] = lambda v: "—" if v is None or v == "" else v
    env.filters["watts"] = lambda v: "—" if not v else f"{v:g} W"
    return env


_ENV = _environment()


# The box a diagram may fill on an A4 portrait page (below its caption), in mm.
DIAGRAM_BOX_MM = (182.0, 232.0)
_SVG_SIZE = re.compile(rb'<svg[^>]*?width="([\d.]+)pt"[^>]*?height="([\d.]+)pt"')


def _figure(title: str, svg: bytes) -> dict[str, str]:
    """An SVG as an embedded image scaled to fill the page box (up or down, aspect kept)."""
    width_mm, height_mm = DIAGRAM_BOX_MM
    if (size := _SVG_SIZE.search(svg)) is not None:
        w_pt, h_pt = float(size.group(1)), float(size.group(2))
        # Never blow a small drawing up past 1.6x: its 10 pt text would turn into headlines.
        scale = min(width_mm / (w_pt * 0.3528), height_mm / (h_pt * 0.3528), 1.6)
        width_mm, height_mm = w_pt * 0.3528 * scale, h_pt * 0.3528 * scale
    return {
        "title": title,
        "svg": "data:image/svg+xml;base64," + base64.b64encode(svg).decode(),
        "width_mm": f"{width_mm:.1f}",
        "height_mm": f"{height_mm:.1f}",
    }


def diagram_pages(record: AsBuiltRecord, *, timeout_s: float = DOT_TIMEOUT_S) -> list[dict[str, str]]:
    """The diagram as the PDF shows it: the switch overview, then each switch in pages of ports."""
    pages = []
    if record.switches:
        pages.append(_figure("Switches and uplinks", topology_svg(record, timeout_s=timeout_s)))
    for sw in record.switches:
        used = len(sw.used_ports)
        parts = max(1, -(-used // PORTS_PER_DIAGRAM_PAGE))
        size = -(-used // parts) if used else 1
        for start in range(0, max(used, 1), size):
            stop = min(start + size, used)
            part = f" (ports in use {start + 1}–{stop} of {used})" if parts > 1 else ""
            svg = wiring_svg(record, switch_id=sw.id, ports=(start, stop), legend=False, timeout_s=timeout_s)
            pages.append(_figure(f"{sw.name}{part}", svg))
    return pages


def handover_html(
    record: AsBuiltRecord,
    *,
    branding: Branding | None = None,
    credentials: Sequence[SealedCredential] | None = None,
    diagrams: list[dict[str, str]] | None = None,
) -> str:
    """The handover pack as one HTML document (print CSS inside)."""
    context: dict[str, Any] = {
        "r": record,
        "b": branding or Branding(),
        "credentials": list(credentials or ()),
        "diagrams": diagrams if diagrams is not None else diagram_pages(record),
        "colours": {h.value: c for h, c in COLOURS.items()},
        "counts": record.role_counts(),
    }
    return _ENV.get_template("handover.html").render(context)


def _fetch_embedded_only(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
    if not url.startswith("data:"):
        raise DocumentFetchRefused(f"documents only embed data: URIs, not {url[:80]!r}")
    from weasyprint import default_url_fetcher

    return dict(default_url_fetcher(url, timeout=timeout))


def handover_pdf(
    record: AsBuiltRecord,
    *,
    branding: Branding | None = None,
    credentials: Sequence[SealedCredential] | None = None,
    timeout_s: float = DOT_TIMEOUT_S,
) -> bytes:
    """The handover pack as PDF bytes. Blocking (layout takes seconds on a large site)."""
    from weasyprint import HTML  # imported here: loading Pango costs ~0.3 s, only when a PDF is made

    html = handover_html(
        record,
        branding=branding,
        credentials=credentials,
        diagrams=diagram_pages(record, timeout_s=timeout_s),
    )
    document = HTML(string=html, base_url="data:,", url_fetcher=_fetch_embedded_only)
    pdf = document.write_pdf()
    assert pdf is not None  # write_pdf() without a target returns the bytes
    return pdf


async def handover_pdf_async(
    record: AsBuiltRecord,
    *,
    branding: Branding | None = None,
    credentials: Sequence[SealedCredential] | None = None,
) -> bytes:
    return await asyncio.to_thread(handover_pdf, record, branding=branding, credentials=credentials)
