"""Pausing the cyclic garbage collector around CPU-bound steps that allocate and keep many objects.

Parsing, validating, hashing or diffing a large snapshot creates some 10^5 objects that all stay
alive: the collector's generational passes find nothing to free and cost more than half the time
(a full pass also walks every parsed snapshot the process caches). ``gc_paused`` is used around
such steps only, never across an ``await``, so other requests' garbage is collected as usual.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _GcPause:
    """Counted, so overlapping parses in worker threads switch the collector back on only when
    the last one ends, and only if it was on when the first one began."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._reenable = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._reenable = gc.isenabled()
                gc.disable()
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0 and self._reenable:
                    gc.enable()


gc_paused = _GcPause()
