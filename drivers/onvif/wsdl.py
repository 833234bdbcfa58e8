"""Each WSDL parsed once per process, in a thread, and shared by every device session.

onvif-zeep-async keeps parsed WSDL documents in a process-wide cache, but fills it without a lock:
when a scan starts, every camera collected at once misses the cache and parses the same files
itself (about 2 s of CPU for the four WSDLs we use, per camera). On a loaded 2-core agent the first
cameras then time out before they send a byte. Here the first session that needs a service starts
one parse; the others await the same result, outside their call timeouts.

The parse runs on its own thread and event loop, so its result outlives the loop that asked for it
(tests and repeated `asyncio.run` scans share it), and cancelling a waiter never cancels the parse.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Iterable
from pathlib import Path

from drivers.onvif.lib import SERVICES, WSDL_DIR, cached_document

# The services the driver calls (drivers/onvif/collect.py): devicemgmt, media, recording, search.
DRIVER_SERVICES = ("devicemgmt", "media", "recording", "search")

_lock = threading.Lock()
_parses: dict[str, concurrent.futures.Future[None]] = {}


def wsdl_path(service: str) -> str:
    """The WSDL file of an onvif-zeep-async service name; the key of the library's document cache."""
    return str(Path(WSDL_DIR) / SERVICES[service]["wsdl"])


async def ensure_parsed(service: str) -> None:
    """Return once the service's WSDL is in the library's cache, parsing it if nobody has yet.

    Local files only: the wait is CPU time on this machine, not the device's, so it is not bounded
    by a device timeout. A failed parse is retried by the next caller.
    """
    await asyncio.wrap_future(_parse_once(wsdl_path(service)))


async def warm_up(services: Iterable[str] = DRIVER_SERVICES) -> None:
    """Parse the WSDLs ahead of the first device, e.g. while discovery is still listening."""
    await asyncio.gather(*(ensure_parsed(s) for s in services))


def _parse_once(path: str) -> concurrent.futures.Future[None]:
    with _lock:
        parse = _parses.get(path)
        if parse is None or (parse.done() and parse.exception() is not None):
            parse = concurrent.futures.Future()
            parse.set_running_or_notify_cancel()  # a running future cannot be cancelled by a waiter
            _parses[path] = parse
            threading.Thread(
                target=_parse, args=(path, parse), name=f"onvif-wsdl-{Path(path).stem}", daemon=True
            ).start()
        return parse


def _parse(path: str, done: concurrent.futures.Future[None]) -> None:
    try:
        asyncio.run(cached_document(path))  # the library's own loader fills the library's cache
    except BaseException as exc:  # handed to every waiter
        done.set_exception(exc)
    else:
        done.set_result(None)
