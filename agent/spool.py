"""The on-disk spool: every snapshot is written here, durably, before any push is tried.

A snapshot leaves the spool only when the collector has confirmed it. Writes are atomic (temporary
file, fsync, rename, fsync of the directory), so a kill -9 or a power cut leaves either the whole
file or none of it; stray temporary files from an interrupted write are removed on open.
The file name is the content hash, so spooling the same snapshot twice keeps one copy.
A snapshot the collector refuses for good (4xx) moves to `rejected/` with the reason: never lost.
One that keeps failing on the collector's side (a 500 for this snapshot while others go through)
is held aside there too after `HOLD_AFTER` failed deliveries, so a poisoned item never blocks the
ones queued behind it. Both are "held aside" in `asbuilt agent status`.

Encrypted at rest: each file is the gzip bytes sealed with AES-256-GCM (``cryptography``) under a
key kept in ``spool.key`` beside the queue, created once, readable by the agent's account only
(the systemd unit's user), with the content hash as associated data. A copy of the spool directory
(a backup, a laptop's disk image) holds no readable customer data without that account's key, and a
confirmed snapshot is deleted at once. Files without the header (an older agent's) are read as they are.
"""

from __future__ import annotations

import gzip
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from drivers.schema import Snapshot

SUFFIX = ".json.gz"
KEY_FILE = "spool.key"
SEALED = b"ASBSPOOL1"  # then a 12-byte nonce, then the AES-GCM ciphertext of the gzip bytes
NONCE_BYTES = 12
FAILURES = ".failures"  # beside a pending item: how many deliveries of it the collector failed
HOLD_AFTER = 3


class SpoolKeyError(Exception):
    """A spooled file that does not open with this spool's key (another agent's, or damaged)."""


@dataclass(frozen=True)
class SpoolItem:
    path: Path
    content_hash: str
    spooled_at: float
    opener: Callable[[bytes, str], bytes]

    def body(self) -> bytes:
        """The gzip-compressed canonical JSON, exactly as it is pushed."""
        return self.opener(self.path.read_bytes(), self.content_hash)


def load_or_create_key(path: Path) -> bytes:
    """The spool's key: 32 random bytes, created once, owner-only whatever the umask."""
    if path.exists():
        key = path.read_bytes()
        if len(key) == 32:
            return key
        raise SpoolKeyError(f"{path} is not a spool key (expected 32 bytes); move it away to start a new one")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, AESGCM.generate_key(bit_length=256))
        os.fsync(fd)
    finally:
        os.close(fd)
    return path.read_bytes()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # owner only, whatever the umask
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class Spool:
    """A directory of snapshots waiting for the collector: pending/ and rejected/."""

    def __init__(self, root: Path, key: bytes | None = None) -> None:
        self.root = Path(root)
        self.pending_dir = self.root / "pending"
        self.rejected_dir = self.root / "rejected"
        for d in (self.root, self.pending_dir, self.rejected_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
            d.chmod(0o700)  # snapshots describe a customer's network: owner only, whatever the umask
        for stray in self.pending_dir.glob(".*.tmp"):  # left by a write that was killed midway
            stray.unlink(missing_ok=True)
        self._aead = AESGCM(key if key is not None else load_or_create_key(self.root / KEY_FILE))

    def _seal(self, body: bytes, content_hash: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return SEALED + nonce + self._aead.encrypt(nonce, body, content_hash.encode())

    def _open(self, data: bytes, content_hash: str) -> bytes:
        if not data.startswith(SEALED):
            return data  # written before the spool was encrypted
        nonce = data[len(SEALED) : len(SEALED) + NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, data[len(SEALED) + NONCE_BYTES :], content_hash.encode())
        except InvalidTag:
            raise SpoolKeyError(
                f"a spooled snapshot ({content_hash[:16]}) does not open with this spool's key"
            ) from None

    def put(self, snapshot: Snapshot) -> SpoolItem:
        """Write the snapshot durably; returns the spooled item (the same one if already spooled)."""
        content_hash = snapshot.content_hash()
        path = self.pending_dir / f"{int(time.time() * 1000):015d}-{content_hash}{SUFFIX}"
        existing = next(self.pending_dir.glob(f"*-{content_hash}{SUFFIX}"), None)
        if existing is not None:
            return self._item(existing)
        # mtime=0 keeps the gzip bytes a pure function of the content
        body = gzip.compress(snapshot.canonical_json().encode(), compresslevel=6, mtime=0)
        _write_atomic(path, self._seal(body, content_hash))
        return self._item(path)

    def pending(self) -> list[SpoolItem]:
        """Waiting snapshots, oldest first (pushed in the order they were taken)."""
        return [self._item(p) for p in sorted(self.pending_dir.glob(f"*{SUFFIX}"))]

    def depth(self) -> int:
        return sum(1 for _ in self.pending_dir.glob(f"*{SUFFIX}"))

    def ack(self, item: SpoolItem) -> None:
        """The collector has it: forget it."""
        item.path.unlink(missing_ok=True)
        self._failures_path(item).unlink(missing_ok=True)
        _fsync_dir(self.pending_dir)

    def reject(self, item: SpoolItem, reason: str) -> Path:
        """The collector refused it for good: keep it aside with the reason, for a human to look at."""
        target = self.rejected_dir / item.path.name
        os.replace(item.path, target)
        _write_atomic(target.with_name(target.name + ".reason.txt"), reason.encode())
        self._failures_path(item).unlink(missing_ok=True)
        _fsync_dir(self.pending_dir)
        return target

    def rejected(self) -> list[Path]:
        return sorted(self.rejected_dir.glob(f"*{SUFFIX}"))

    def held(self) -> list[tuple[Path, str]]:
        """Items held aside (refused, or failing again and again), with the reason for each."""
        out = []
        for path in self.rejected():
            note = path.with_name(path.name + ".reason.txt")
            out.append((path, note.read_text(errors="replace").strip() if note.exists() else ""))
        return out

    def note_failure(self, item: SpoolItem) -> int:
        """One more delivery of ``item`` failed on the collector's side; returns how many so far."""
        path = self._failures_path(item)
        try:
            count = int(path.read_text().strip() or 0) + 1
        except (FileNotFoundError, ValueError):
            count = 1
        _write_atomic(path, str(count).encode())
        return count

    def _failures_path(self, item: SpoolItem) -> Path:
        return item.path.with_name(item.path.name + FAILURES)

    def _item(self, path: Path) -> SpoolItem:
        stamp, _, rest = path.name.partition("-")
        content_hash = rest.removesuffix(SUFFIX)
        return SpoolItem(
            path=path, content_hash=content_hash, spooled_at=int(stamp) / 1000, opener=self._open
        )
