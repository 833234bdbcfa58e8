"""aiohttp edges of the attachment store, for views that have already checked permissions.

``read_upload`` walks a multipart form (``request.multipart()``: streamed, so the app's
client_max_size does not apply and ``UploadPolicy.max_bytes`` is the limit) and stores its file part;
``blob_response`` sends a stored file with headers that stop a browser from sniffing or running it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.abc import AbstractStreamWriter

from collector.attachments.errors import UploadRefused
from collector.attachments.storage import BlobStore
from collector.attachments.upload import (
    AttachmentKind,
    StoredFile,
    UploadPolicy,
    download_headers,
    store_upload,
)

CHUNK = 64 * 1024
MAX_FIELD_CHARS = 4000  # the small text fields beside the file (kind, caption, device)
MAX_PARTS = 20


@dataclass(frozen=True)
class UploadForm:
    stored: StoredFile
    fields: dict[str, str]  # the other form fields, in order, each bounded


async def part_chunks(part: BodyPartReader, size: int = CHUNK) -> AsyncIterator[bytes]:
    """A multipart part's body as it arrives (transfer encodings undone), ``size`` bytes at a time."""
    while chunk := await part.read_chunk(size):
        yield part.decode(chunk)


async def read_upload(
    request: web.Request,
    store: BlobStore,
    *,
    policy: UploadPolicy,
    file_field: str = "file",
    before_file: Callable[[dict[str, str]], Awaitable[None]] | None = None,
) -> UploadForm:
    """Store the form's file part; fields sent before it (put ``csrf`` and ``kind`` first) decide.

    ``before_file`` sees those fields before a byte of the file is read: check the CSRF token there
    (``request.post()`` would buffer the whole file) and raise to stop. Raises ``UploadRefused`` (with
    its status) for a missing file, too many parts, oversized fields.
    """
    reader = await request.multipart()
    fields: dict[str, str] = {}
    stored: StoredFile | None = None
    for _ in range(MAX_PARTS):
        part = await reader.next()
        if part is None:
            break
        if isinstance(part, MultipartReader):
            raise UploadRefused(422, "bad_form", "nested multipart forms are not accepted")
        if part.name == file_field and part.filename is not None and stored is None:
            if before_file is not None:
                await before_file(fields)
            kind = _kind(fields.get("kind"))
            stored = await store_upload(
                store, part_chunks(part), filename=part.filename,
                declared_type=part.headers.get("Content-Type"), kind=kind, policy=policy,
            )  # fmt: skip
            continue
        raw = await part.read_chunk(MAX_FIELD_CHARS + 1)
        if len(raw) > MAX_FIELD_CHARS or await part.read_chunk(1):
            raise UploadRefused(413, "field_too_large", f"form field {part.name!r} is too long")
        fields[part.name or ""] = raw.decode("utf-8", "replace")
    else:
        raise UploadRefused(422, "bad_form", f"a form may have at most {MAX_PARTS} parts")
    if stored is None:
        raise UploadRefused(422, "no_file", f"the form has no file in its {file_field!r} field")
    return UploadForm(stored, fields)


def _kind(value: str | None) -> AttachmentKind:
    try:
        return AttachmentKind(value or AttachmentKind.OTHER.value)
    except ValueError:
        kinds = ", ".join(k.value for k in AttachmentKind)
        raise UploadRefused(422, "bad_kind", f"kind must be one of: {kinds}") from None


def blob_response(
    store: BlobStore, sha256: str, *, media_type: str, original_name: str, inline: bool
) -> web.StreamResponse:
    """The stored file as a response (sendfile from disk; streamed from a remote store)."""
    headers = download_headers(media_type, original_name, inline=inline)
    path = store.local_path(sha256)
    if path is not None:
        return web.FileResponse(path, headers=headers)
    return _Streamed(store, sha256, headers)


class _Streamed(web.StreamResponse):
    """For a store without local files (S3): the body copied through as it is read."""

    def __init__(self, store: BlobStore, sha256: str, headers: dict[str, str]) -> None:
        super().__init__(headers=headers)
        self._store = store
        self._sha256 = sha256

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        writer = await super().prepare(request)
        async for chunk in self._store.chunks(self._sha256):
            await self.write(chunk)
        await self.write_eof()
        return writer
