"""Shared fixtures for the lab tests: the small site, a root check, and a lab runner that always stops.

Addresses: loopback labs here use base 23 (127.23.0.0/16, reserved for the lab-runner tests);
namespace labs use ids `t<pid>…`, so their namespaces are `asb-t<pid>…-*` and are removed even
when a test fails.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from lab.netns import LabNames, delete_namespaces
from lab.runner import LabRunner, Mode
from lab.site import LabSite, load_site

LOOPBACK_BASE = 23
requires_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="namespace mode needs root (CAP_NET_ADMIN); CI runs as root"
)
_ids = itertools.count(1)


def new_lab_id() -> str:
    """Unique per test process and call, dash-free, at most 16 characters."""
    return f"t{os.getpid() % 100000}x{next(_ids)}"


@pytest.fixture
def small_site() -> LabSite:
    return load_site("small")


RunLab = Callable[..., AbstractAsyncContextManager[LabRunner]]


@pytest.fixture
def run_lab() -> RunLab:
    """`async with run_lab(site, "netns") as runner:` — started lab, stopped and cleaned up after."""

    @asynccontextmanager
    async def run(site: LabSite, mode: Mode, **kwargs: object) -> AsyncIterator[LabRunner]:
        lab_id = str(kwargs.pop("lab_id", new_lab_id()))
        runner = LabRunner(site, mode=mode, lab_id=lab_id, loopback_base=LOOPBACK_BASE, **kwargs)  # type: ignore[arg-type]
        try:
            await runner.start()
            yield runner
        finally:
            await runner.stop()
            if mode == "netns":
                delete_namespaces(LabNames(lab_id).prefix)

    return run
