"""The aiohttp edges over real sockets: a multipart upload streamed into the store, and a download
with headers that stop a browser from sniffing or running the file."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

from collector.attachments.errors import UploadRefused
from collector.attachments.http import blob_response, read_upload
from collector.attachments.storage import FilesystemStore
from collector.attachments.upload import UploadPolicy
from tests.record.files import GPS_IFD, files_under, jpeg_with_gps

MiB = 1024 * 1024
CSRF = "token-of-this-session"


class RemoteLikeStore(FilesystemStore):
    """The filesystem store without local paths, as an S3 store is: downloads must stream."""

    def local_path(self, sha256: str) -> Path | None:
        return None


def app_for(store: FilesystemStore, policy: UploadPolicy) -> web.Application:
    async def csrf_first(fields: dict[str, str]) -> None:
        if fields.get("csrf") != CSRF:
            raise web.HTTPForbidden(text="CSRF token missing or wrong")

    async def upload(request: web.Request) -> web.Response:
        try:
            form = await read_upload(request, store, policy=policy, before_file=csrf_first)
        except UploadRefused as refused:
            return web.json_response(
                {"code": refused.code, "message": refused.message}, status=refused.status
            )
        s = form.stored
        return web.json_response(
            {"sha256": s.sha256, "media_type": s.media_type, "fields": form.fields}, status=201
        )

    async def download(request: web.Request) -> web.StreamResponse:
        return blob_response(
            store, request.match_info["sha"], media_type=request.query["type"], original_name="IMG 1.jpg",
            inline=True,
        )  # fmt: skip

    app = web.Application()
    app.router.add_post("/upload", upload)
    app.router.add_get("/blob/{sha}", download)
    return app


@pytest.fixture(params=["filesystem", "remote-like"])
async def client(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[TestClient, FilesystemStore]]:
    kind = FilesystemStore if request.param == "filesystem" else RemoteLikeStore
    store = kind.in_data_dir(tmp_path)
    async with TestClient(TestServer(app_for(store, UploadPolicy(max_bytes=1 * MiB)), host="127.0.0.1")) as c:
        yield c, store


def form(
    data: bytes, name: str, content_type: str, kind: str = "photo", csrf: str = CSRF
) -> aiohttp.FormData:
    f = aiohttp.FormData()
    f.add_field("csrf", csrf)
    f.add_field("kind", kind)
    f.add_field("caption", "gate, pole 2")
    f.add_field("file", data, filename=name, content_type=content_type)
    return f


async def test_a_phone_photo_goes_up_and_comes_back_without_its_location(client):
    c, _ = client
    resp = await c.post("/upload", data=form(jpeg_with_gps(), "IMG_0001.JPG", "image/jpeg"))
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["fields"] == {"csrf": CSRF, "kind": "photo", "caption": "gate, pole 2"}
    got = await c.get(f"/blob/{body['sha256']}", params={"type": body["media_type"]})
    assert got.status == 200
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Type"] == "image/jpeg" and got.headers["Content-Disposition"].startswith(
        "inline"
    )
    with Image.open(io.BytesIO(await got.read())) as image:
        assert not image.getexif().get_ifd(GPS_IFD) and image.size == (64, 48)


async def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(client):
    c, store = client
    resp = await c.post("/upload", data=form(b"a" * (2 * MiB), "big.txt", "text/plain", kind="other"))
    assert resp.status == 413 and (await resp.json())["code"] == "too_large"
    assert files_under(store.root) == []


async def test_an_html_file_called_photo_jpg_is_refused(client):
    c, store = client
    resp = await c.post(
        "/upload", data=form(b"<html><script>alert(1)</script></html>", "photo.jpg", "image/jpeg")
    )
    assert resp.status == 415 and "HTML" in (await resp.json())["message"]
    assert files_under(store.root) == []


async def test_an_unknown_kind_and_a_form_without_a_file_are_refused(client):
    c, _ = client
    resp = await c.post("/upload", data=form(jpeg_with_gps(), "a.jpg", "image/jpeg", kind="selfie"))
    assert resp.status == 422 and "kind must be one of" in (await resp.json())["message"]
    empty = aiohttp.FormData()
    empty.add_field("csrf", CSRF)
    empty.add_field("kind", "photo")
    empty.add_field("other", b"x", filename="x.bin")
    resp = await c.post("/upload", data=empty)
    assert resp.status == 422 and (await resp.json())["code"] == "no_file"


async def test_a_forged_upload_is_stopped_before_its_file_is_read(client):
    c, store = client
    resp = await c.post("/upload", data=form(jpeg_with_gps(), "a.jpg", "image/jpeg", csrf="forged"))
    assert resp.status == 403 and "CSRF" in await resp.text()
    assert files_under(store.root) == []
