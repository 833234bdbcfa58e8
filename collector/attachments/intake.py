"""Streaming an upload to a private temp file: hashed and size-limited while reading.

The whole file is never in memory: each chunk is hashed, written and dropped. A file over the limit
is refused mid-stream and its temp file removed, so nothing of it stays behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from collector.attachments.errors import too_large

HEAD_BYTES = 64 * 1024  # what type sniffing looks at
STALE_STAGING_S = 6 * 3600.0  # older than any upload takes
FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) as 0700 whatever the umask; return it."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def new_private_file(directory: Path, suffix: str = ".part") -> tuple[Path, int]:
    """A fresh file in ``directory``, 0600 whatever the umask, opened for writing."""
    path = directory / f"{secrets.token_hex(12)}{suffix}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return path, fd


@dataclass(frozen=True)
class StagedFile:
    """An upload on disk, not yet committed: its path, size, digest and first bytes."""

    path: Path
    size: int
    sha256: str
    head: bytes

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


async def receive(chunks: AsyncIterator[bytes], *, staging_dir: Path, max_bytes: int) -> StagedFile:
    """Write ``chunks`` to a new private file in ``staging_dir``; refuse past ``max_bytes``."""
    private_dir(staging_dir)
    path, fd = new_private_file(staging_dir)
    digest = hashlib.sha256()
    size = 0
    head = bytearray()
    try:
        async for chunk in chunks:
            if not chunk:
                continue
            size += len(chunk)
            if size > max_bytes:
                raise too_large(max_bytes)
            digest.update(chunk)
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
            await asyncio.to_thread(_write_all, fd, chunk)
        await asyncio.to_thread(os.fsync, fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    return StagedFile(path=path, size=size, sha256=digest.hexdigest(), head=bytes(head))


def reserve(staging_dir: Path, suffix: str) -> Path:
    """An empty private file for this process to write into (Pillow, pdftoppm): 0600 from the start."""
    path, fd = new_private_file(private_dir(staging_dir), suffix)
    os.close(fd)
    return path


def staged(path: Path) -> StagedFile:
    """A file this process made in the staging directory, hashed and made private, ready to commit."""
    os.chmod(path, FILE_MODE)
    digest = hashlib.sha256()
    size = 0
    head = b""
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            head = head or chunk[:HEAD_BYTES]
            digest.update(chunk)
            size += len(chunk)
        os.fsync(f.fileno())
    return StagedFile(path=path, size=size, sha256=digest.hexdigest(), head=head)


def sweep_staging(staging_dir: Path, older_than_s: float = STALE_STAGING_S, now: float | None = None) -> int:
    """Remove staged files a crash mid-upload left behind (any store's staging); returns how many."""
    if not staging_dir.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - older_than_s
    removed = 0
    for path in staging_dir.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
