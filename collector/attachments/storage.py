"""Where attachment bytes live: a small interface, and the filesystem store in the data directory.

Content-addressed: a blob's name is its SHA-256, so the same content is stored once, and a name
never points at other bytes. ``FilesystemStore`` fans out as ``root/ab/cd/<sha256>`` (two levels of
256 directories keep each directory small at millions of files); files 0600, directories 0700.

An S3-compatible store is a drop-in ``BlobStore``: ``put`` uploads the staged file (multipart) under
the key ``ab/cd/<sha256>`` and deletes the staged file; ``exists`` is a HEAD; ``chunks`` streams the
object body; ``local_path`` returns None (views then stream ``chunks`` instead of sending a file).
Staging stays on local disk either way: sniffing, cleaning and the antivirus need a real file.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from collector.attachments.intake import FILE_MODE, StagedFile, private_dir

_SHA256 = re.compile(r"[0-9a-f]{64}")
CHUNK = 256 * 1024


class BlobStore(Protocol):
    """The storage interface every backend implements (filesystem here; S3-compatible as an option)."""

    staging_dir: Path  # local, private: where uploads are streamed before they are committed

    async def put(self, staged: StagedFile) -> bool:
        """Commit a staged file under its digest (consuming it); False when that content was there."""
        ...

    async def exists(self, sha256: str) -> bool: ...

    def chunks(self, sha256: str) -> AsyncIterator[bytes]:
        """The blob's bytes, streamed (for a view that has already checked permissions)."""
        ...

    def local_path(self, sha256: str) -> Path | None:
        """A file path a view may send (sendfile), or None for a remote store."""
        ...

    async def delete(self, sha256: str) -> None: ...


class BlobNotFound(LookupError):
    pass


def check_digest(sha256: str) -> str:
    """A digest as a blob name: 64 lowercase hex characters (it becomes a path; nothing else may)."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256[:80]!r}")
    return sha256


class FilesystemStore:
    """Blobs under ``root`` (normally ``data_dir/attachments``), staging in ``root/.staging``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging_dir = root / ".staging"

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> FilesystemStore:
        return cls(data_dir / "attachments")

    def path_of(self, sha256: str) -> Path:
        check_digest(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def put(self, staged: StagedFile) -> bool:
        return await asyncio.to_thread(self._put, staged)

    def _put(self, staged: StagedFile) -> bool:
        target = self.path_of(staged.sha256)
        if target.exists():  # same content stored once; the staged copy goes
            staged.discard()
            return False
        private_dir(self.root)
        private_dir(target.parent.parent)
        private_dir(target.parent)
        os.chmod(staged.path, FILE_MODE)
        os.replace(staged.path, target)  # atomic: readers see the whole file or none
        _fsync_dir(target.parent)
        return True

    async def exists(self, sha256: str) -> bool:
        return await asyncio.to_thread(self.path_of(sha256).is_file)

    async def chunks(self, sha256: str) -> AsyncIterator[bytes]:
        path = self.path_of(sha256)
        try:
            f = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError as exc:
            raise BlobNotFound(sha256) from exc
        try:
            while chunk := await asyncio.to_thread(f.read, CHUNK):
                yield chunk
        finally:
            f.close()

    def local_path(self, sha256: str) -> Path | None:
        return self.path_of(sha256)

    async def delete(self, sha256: str) -> None:
        await asyncio.to_thread(self.path_of(sha256).unlink, missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
