"""Bounded reads: never hold more bytes than a limit, compressed and decompressed both.

Shared by every edge that reads from the network: the collector's snapshot upload and the agent's
device transports (ONVIF/HTTP). A gzip bomb or an endless reply stops at the limit while it is
being read, never after it has been read whole. Pure: bytes in, bytes out, standard library only.
"""

from __future__ import annotations

import asyncio
import weakref
import zlib
from collections.abc import AsyncIterable

# Each reply is bounded, but a scan reads from dozens of devices at once: hostile ones all sending
# their limit together would add up (36 hosts x several calls x the limit). So a reply may grow past
# SMALL_REPLY_BYTES only while it holds one of LARGE_READ_SLOTS; the others wait, holding at most
# that much each. Real replies are small (the largest known, an NVR's GetProfiles, is ~600 kB).
SMALL_REPLY_BYTES = 256 * 1024
LARGE_READ_SLOTS = 4
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _large_read_slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(LARGE_READ_SLOTS)
    return slots


_WBITS = {
    "gzip": 16 + zlib.MAX_WBITS,
    "x-gzip": 16 + zlib.MAX_WBITS,
    "deflate": zlib.MAX_WBITS,  # zlib-wrapped, as RFC 9110 says; raw deflate is tried as a fallback
}


class TooLarge(ValueError):
    """More bytes than the limit allows."""

    def __init__(self, limit: int, what: str) -> None:
        super().__init__(f"the {what} exceeds the limit of {limit} bytes")
        self.limit = limit
        self.what = what


class BadEncoding(ValueError):
    """A Content-Encoding we do not undo, or a compressed body that does not decompress."""


def supported(encoding: str | None) -> bool:
    return normal(encoding) == "identity" or normal(encoding) in _WBITS


def normal(encoding: str | None) -> str:
    return (encoding or "identity").strip().lower() or "identity"


class BoundedInflater:
    """Feed compressed chunks, get decompressed bytes; refuses before producing more than ``limit``."""

    def __init__(self, encoding: str | None, limit: int, what: str = "decompressed body") -> None:
        self.encoding = normal(encoding)
        if not supported(self.encoding):
            raise BadEncoding(f"Content-Encoding {self.encoding!r} is not supported")
        self.limit = limit
        self.what = what
        self.produced = 0
        self._raw_deflate_tried = False
        self._inflater = zlib.decompressobj(_WBITS[self.encoding]) if self.encoding != "identity" else None

    def feed(self, chunk: bytes) -> bytes:
        if self._inflater is None:
            out = chunk
        else:
            room = self.limit - self.produced
            try:
                out = self._inflater.decompress(chunk, room + 1)
            except zlib.error as exc:
                if self.encoding == "deflate" and not self._raw_deflate_tried and self.produced == 0:
                    # Some servers send raw deflate (no zlib header) for "deflate": try that once.
                    self._raw_deflate_tried = True
                    self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    return self.feed(chunk)
                raise BadEncoding(f"the {self.encoding} body could not be decompressed: {exc}") from None
            if self._inflater.unconsumed_tail:  # more output is waiting than the room we gave
                raise TooLarge(self.limit, self.what)
        self.produced += len(out)
        if self.produced > self.limit:
            raise TooLarge(self.limit, self.what)
        return out

    def finish(self) -> None:
        """Call after the last chunk: a compressed body must be complete."""
        if self._inflater is not None and not self._inflater.eof:
            raise BadEncoding(f"the {self.encoding} body is truncated")


def inflate(raw: bytes, encoding: str | None, limit: int, what: str = "decompressed body") -> bytes:
    """Decompress a whole body (already read within its own limit) into at most ``limit`` bytes."""
    inflater = BoundedInflater(encoding, limit, what)
    out = inflater.feed(raw)
    inflater.finish()
    return out


async def read_bounded(
    chunks: AsyncIterable[bytes],
    *,
    encoding: str | None,
    raw_limit: int,
    limit: int,
    what: str = "reply",
) -> bytes:
    """Read a streamed body chunk by chunk: at most ``raw_limit`` bytes as sent and ``limit`` bytes
    once decompressed, refused (``TooLarge``) as soon as either is passed. Past SMALL_REPLY_BYTES a
    read waits for one of the process's few large-read slots (see above)."""
    inflater = BoundedInflater(encoding, limit, f"decompressed {what}")
    received = 0
    out = bytearray()
    slots: asyncio.Semaphore | None = None
    try:
        async for chunk in chunks:
            received += len(chunk)
            if received > raw_limit:
                raise TooLarge(raw_limit, what)
            out += inflater.feed(chunk)
            if slots is None and max(received, len(out)) > SMALL_REPLY_BYTES:
                slots = _large_read_slots()
                await slots.acquire()
        inflater.finish()
        return bytes(out)
    finally:
        if slots is not None:
            slots.release()
