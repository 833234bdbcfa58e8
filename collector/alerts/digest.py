"""One digest per event, in a technician's words: what the e-mail says and what the webhook carries.

Pure: a ``ChangeReport`` (collector.changes_words.present) or an overdue scan in, a ``Digest`` out.
The e-mail text and the webhook's JSON say the same things; the JSON also keeps the counts and the
device ids for machines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from collector.changes_words import KIND_WORDS, ChangeReport

MAX_ITEMS = 200  # a digest of a site rebuilt from scratch still fits in one mail


@dataclass(frozen=True)
class SiteRef:
    customer: str
    site_id: str  # the slug
    site_name: str | None = None

    @property
    def title(self) -> str:
        return f"{self.site_name} ({self.site_id})" if self.site_name else self.site_id


@dataclass(frozen=True)
class Digest:
    kind: str  # changes | overdue
    subject: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)


def changes_digest(
    site: SiteRef,
    version: int,
    against_kind: str,
    against_version: int,
    report: ChangeReport,
    received_at: datetime,
    link: str | None = None,
) -> Digest:
    """'[asbuilt] Acme / Depot: 2 changes: 1 swapped, 1 re-patched' and one line per change."""
    against = "the approved baseline" if against_kind == "baseline" else "the previous scan"
    subject = f"[asbuilt] {site.customer} / {site.title}: {report.summary()}"
    lines = [
        f"Site {site.title} of {site.customer}: the scan received {received_at:%Y-%m-%d %H:%M} UTC "
        f"(version {version}) differs from {against} (version {against_version}).",
        "",
        report.summary() + ".",
        "",
    ]
    items = report.items[:MAX_ITEMS]
    for item in items:
        lines.append(f"- {KIND_WORDS[item.kind]}: {item.headline}")
        lines += [f"    {d}" for d in item.details]
        lines += [f"    -> {e.text}" for e in item.effects]
    if len(report.items) > len(items):
        lines.append(f"... and {len(report.items) - len(items)} more (see the site's page).")
    if link:
        lines += ["", f"See it: {link}"]
    lines += ["", "You get this because you subscribed to this site's alerts in asbuilt."]
    payload = {
        "event": "site.changed",
        "customer": site.customer,
        "site_id": site.site_id,
        "site_name": site.site_name,
        "version": version,
        "against": {"kind": against_kind, "version": against_version},
        "received_at": received_at.isoformat(),
        "summary": report.summary(),
        "counts": {k: n for k, n in report.counts().items() if n},
        "changes": [
            {
                "kind": item.kind.value,
                "words": KIND_WORDS[item.kind],
                "device_id": item.device_id,
                "old_device_id": item.old_device_id,
                "headline": item.headline,
                "details": list(item.details),
                "effects": [e.text for e in item.effects],
            }
            for item in items
        ],
    }
    return Digest("changes", subject, "\n".join(lines) + "\n", payload)


def overdue_digest(
    site: SiteRef, every_s: int, last_seen: datetime | None, now: datetime, link: str | None = None
) -> Digest:
    """'[asbuilt] Acme / Depot: no scan for 26 h (expected every 24 h)'."""
    expected = _duration(every_s)
    if last_seen is None:
        late = "no scan has arrived yet"
        since = None
    else:
        late = f"no scan for {_duration(int((now - last_seen).total_seconds()))}"
        since = last_seen.isoformat()
    subject = f"[asbuilt] {site.customer} / {site.title}: {late} (expected every {expected})"
    text = [
        f"Site {site.title} of {site.customer}: {late}; a scan is expected every {expected}.",
        f"Last scan seen: {last_seen:%Y-%m-%d %H:%M} UTC." if last_seen else "No scan was ever seen.",
        "The on-site agent may be off, unplugged, or unable to reach the collector.",
    ]
    if link:
        text += ["", f"See it: {link}"]
    payload = {
        "event": "site.scan_overdue",
        "customer": site.customer,
        "site_id": site.site_id,
        "site_name": site.site_name,
        "expected_every_s": every_s,
        "last_seen_at": since,
        "checked_at": now.isoformat(),
    }
    return Digest("overdue", subject, "\n".join(text) + "\n", payload)


def _duration(seconds: int) -> str:
    if seconds >= 2 * 86400 and seconds % 86400 == 0:
        return f"{seconds // 86400} days"
    if seconds >= 3600:
        return f"{round(seconds / 3600)} h"
    if seconds >= 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds} s"
