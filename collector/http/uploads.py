"""Receiving a site-record upload, for the API and the pages alike: who may is decided before a
byte of the file is stored, the file is streamed into the blob store, refusals become API errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from collector.attachments.errors import UploadRefused
from collector.attachments.http import UploadForm, read_upload
from collector.errors import ApiError
from collector.keys import attachment_store_key, sessions_key, upload_policy_key
from collector.services import record as record_service
from collector.services.context import Ctx


async def receive_upload(
    request: web.Request,
    c: Ctx,
    slug: str,
    *,
    before_file: Callable[[dict[str, str]], Awaitable[None]] | None = None,
) -> UploadForm:
    """The form's file stored (content-addressed, cleaned); ``before_file`` checks e.g. the CSRF token."""
    async with request.app[sessions_key]() as db:
        await record_service.may_upload(db, c, slug)  # 403 / 404 before anything is read
    if not request.content_type.startswith("multipart/form-data"):
        raise ApiError(415, "not_multipart", "send the file as multipart/form-data (field 'file')")
    try:
        return await read_upload(
            request, request.app[attachment_store_key], policy=request.app[upload_policy_key],
            before_file=before_file,
        )  # fmt: skip
    except UploadRefused as exc:
        raise ApiError(exc.status, exc.code, exc.message, field="file") from None
