"""Small server-side SVG bar charts for the fleet page (no JavaScript; every label escaped).

One horizontal bar per item, made of coloured segments, with its label on the left and a text
value on the right; it scales to its container through the viewBox, so a phone shows it whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from collector.fleet.reports import (
    ClockReport,
    ClockState,
    FirmwareReport,
    PoeReport,
    PoeState,
    RecordingReport,
)

TONES = {"ok": "#3b7d4f", "warn": "#c27a00", "bad": "#b3261e", "muted": "#9aa5b1", "rest": "#e3e8ee"}
WIDTH, LABEL_W, VALUE_W, ROW_H, BAR_H = 440, 160, 92, 24, 14
LABEL_CHARS = 22
MAX_BARS = 25


@dataclass(frozen=True)
class Bar:
    label: str
    segments: tuple[tuple[float, str], ...]  # (value, tone)
    text: str  # shown right of the bar


def bar_chart(title: str, bars: Sequence[Bar], scale: float | None = None) -> str:
    shown = list(bars[:MAX_BARS])
    top = scale if scale else max((sum(v for v, _ in b.segments) for b in shown), default=0.0) or 1.0
    height = 28 + ROW_H * max(1, len(shown)) + (18 if len(bars) > MAX_BARS else 0)
    span = WIDTH - LABEL_W - VALUE_W
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" class="chart" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="16" font-size="13" font-weight="bold" fill="#1f2933">{escape(title)}</text>',
    ]
    if not shown:
        out.append('<text x="0" y="44" font-size="13" fill="#52606d">Nothing to show.</text>')
    for i, bar in enumerate(shown):
        y = 28 + i * ROW_H
        label = bar.label if len(bar.label) <= LABEL_CHARS else bar.label[: LABEL_CHARS - 1] + "…"
        out.append(f'<text x="0" y="{y + 13}" font-size="12" fill="#1f2933">{escape(label)}</text>')
        out.append(f'<rect x="{LABEL_W}" y="{y}" width="{span}" height="{BAR_H}" fill="{TONES["rest"]}"/>')
        x = float(LABEL_W)
        for value, tone in bar.segments:
            w = max(0.0, min(span - (x - LABEL_W), span * value / top))
            if w > 0:
                out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR_H}" '
                           f'fill="{TONES.get(tone, TONES["muted"])}"/>')  # fmt: skip
                x += w
        out.append(f'<text x="{WIDTH - VALUE_W + 8}" y="{y + 13}" font-size="12" fill="#1f2933">'
                   f"{escape(bar.text)}</text>")  # fmt: skip
    if len(bars) > MAX_BARS:
        out.append(f'<text x="0" y="{height - 4}" font-size="12" fill="#52606d">'
                   f"… and {len(bars) - MAX_BARS} more in the table</text>")  # fmt: skip
    out.append("</svg>")
    return "".join(out)


def firmware_chart(report: FirmwareReport) -> str:
    bars = [
        Bar(
            f"{m.vendor} {m.model}",
            ((m.devices - m.outdated, "ok"), (m.outdated, "bad")),
            f"{m.outdated}/{m.devices} old",
        )
        for m in report.models
    ]
    return bar_chart("Per model: current (green), older firmware (red)", bars)


def clock_chart(report: ClockReport) -> str:
    tone = {ClockState.OK: "ok", ClockState.SKEWED: "warn", ClockState.BAD: "bad"}
    rows = [r for r in report.rows if r.offset_s is not None and r.state is not ClockState.OK]
    bars = [Bar(f"{r.device} · {r.site}", ((min(abs(r.offset_s or 0.0), 3600.0), tone[r.state]),),
                _seconds(r.offset_s or 0.0)) for r in rows]  # fmt: skip
    return bar_chart("Clocks more than 5 s off (bars stop at 1 h)", bars)


def recording_chart(report: RecordingReport) -> str:
    per_site: dict[str, int] = {s: 0 for s in report.compared}
    for row in report.rows:
        per_site[row.site] = per_site.get(row.site, 0) + 1
    bars = [
        Bar(site, ((count, "warn" if count else "ok"),), f"{count} drifted")
        for site, count in per_site.items()
    ]
    return bar_chart("Recording settings unlike the baseline", bars)


def poe_chart(report: PoeReport) -> str:
    tone = {PoeState.OK: "ok", PoeState.HIGH: "warn", PoeState.OVER: "bad", PoeState.UNKNOWN: "muted"}
    bars = [
        Bar(
            f"{r.switch} ({r.site})",
            ((min(r.percent or 0.0, 100.0), tone[r.state]),),
            f"{r.used_w:g}/{r.budget_w:g} W" if r.budget_w else f"{r.used_w:g} W",
        )
        for r in report.rows
    ]
    return bar_chart("PoE drawn of each switch's budget", bars, scale=100.0)


def _seconds(value: float) -> str:
    sign = "+" if value >= 0 else "−"
    v = abs(value)
    if v >= 3600:
        return f"{sign}{v / 3600:.1f} h"
    if v >= 60:
        return f"{sign}{v / 60:.1f} min"
    return f"{sign}{v:.1f} s"
