"""Downloads of a site's record, the same bytes whether the API or a page serves them.

(Exports in more formats — PDF handover pack, XLSX, CSV — belong here as they arrive; who may
download, and the audit entry, are decided in collector.services.sites.)
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from drivers.schema import canonical_dumps


def snapshot_attachment(slug: str, number: int, document: dict[str, Any]) -> web.Response:
    """A version's snapshot as canonical JSON, as an attachment named after the site and version."""
    return web.Response(
        text=canonical_dumps(document),
        content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{slug}-v{number}.json"'},
    )
