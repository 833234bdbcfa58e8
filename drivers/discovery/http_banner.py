"""The HTTP Server header of a host's web port: a vendor hint read before any login.

Many cameras and recorders name their web server after their maker ("App-webs/" on Hikvision,
"Webs" on Dahua, "axis" on Axis). One bounded HEAD request reads it: the connect, the request and
the reply head share one short timeout, and at most HEAD_LIMIT bytes are read, so a silent,
slow or flooding port costs one probe timeout and a few KiB, never a call budget. The parser is
pure (tests feed it recorded heads).
"""

from __future__ import annotations

import asyncio
import contextlib

from drivers.normalize import clean_text

HEAD_LIMIT = 4096  # bytes of reply head read at most
MAX_SERVER_CHARS = 120


def parse_server_header(head: bytes) -> str | None:
    """The Server header of an HTTP reply head, cleaned of control characters; None when absent."""
    if not head.startswith(b"HTTP/"):
        return None
    for raw in head.split(b"\r\n\r\n", 1)[0].split(b"\n")[1:]:
        name, sep, value = raw.partition(b":")
        if sep and name.strip().lower() == b"server":
            text = clean_text(value.decode("latin-1").strip())[:MAX_SERVER_CHARS]
            return text or None
    return None


async def server_header(ip: str, port: int = 80, timeout_s: float = 0.5) -> str | None:
    """HEAD / on ip:port and the Server header of the reply; None on any failure (never raises)."""
    host = f"[{ip}]" if ":" in ip else ip
    request = f"HEAD / HTTP/1.0\r\nHost: {host}\r\nUser-Agent: asbuilt\r\nConnection: close\r\n\r\n"
    writer = None
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(ip, port, limit=HEAD_LIMIT)
            writer.write(request.encode("ascii"))
            await writer.drain()
            head = b""
            while len(head) < HEAD_LIMIT and b"\r\n\r\n" not in head:
                chunk = await reader.read(HEAD_LIMIT - len(head))
                if not chunk:
                    break
                head += chunk
    except (OSError, TimeoutError, ValueError, UnicodeError):
        return None
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 0.2)
    return parse_server_header(head)
