"""Markers a developer can select by (`pytest -m "not browser"`, `-m postgres`), set in one place.

- e2e: everything under tests/e2e (the simulated site scanned end to end);
- postgres: a test that talks to the PostgreSQL server (a `postgresql` parameter, or the pg_url or
  pg_database fixture);
- browser: a test module that drives Chromium (its file name says browser, or it is marked);
- netns: tests that build network namespaces (marked where they are written).
CI runs all of them.

With pytest-xdist (`pytest -n 2 --dist loadgroup`, as `make unit` runs them), tests that bind
shared resources (the simulated site's fixed loopback ranges 127.2x.y.z, fixed ports, multicast
for WS-Discovery 3702 and mDNS 5353, network namespaces) are one xdist group: they run one after
another on one worker while the rest share the other. `lab_bound` below recognises such a module
by its text, so a new test that uses the lab joins the group without a list to keep.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
SHARED_RESOURCES = re.compile(
    r"127\.[26]\d\.|LabProcess|\blab_site\b|start_lab|netns|\b3702\b|\b5353\b|PORT = \d{4}|port = \d{4}"
)
SHARED_DIRS = ("e2e", "lab")  # every test module there scans or runs the simulated site
TEST_IMPORTS = re.compile(r"^\s*(?:from|import) (tests(?:\.\w+)+)", re.MULTILINE)


@functools.cache
def lab_bound(path: Path) -> bool:
    """A module that uses the lab's fixed addresses, fixed ports, multicast or namespaces.

    A test module under e2e/ or lab/ always does; a helper there (a collector process on a free port,
    say) only when its own text says so, or the text of a helper it imports."""
    if path.name.startswith("test_") and any(TESTS / d in path.parents for d in SHARED_DIRS):
        return True
    return _uses_lab(path, frozenset())


def _uses_lab(path: Path, seen: frozenset[Path]) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return True
    if SHARED_RESOURCES.search(text):
        return True
    # ... or one that imports a test helper that does (tests/agent/labproc.py, say); helpers may
    # import each other, so each path is followed once.
    seen = seen | {path}
    helpers = {TESTS.parent.joinpath(*m.split(".")).with_suffix(".py") for m in TEST_IMPORTS.findall(text)}
    return any(h not in seen and h.is_file() and _uses_lab(h, seen) for h in helpers)


def pytest_itemcollected(item: pytest.Item) -> None:
    # As each test is collected, before any collection_modifyitems hook: pytest-xdist reads the
    # xdist_group marks in its own one (it suffixes each node id with "@group").
    if lab_bound(Path(str(item.path))):
        item.add_marker(pytest.mark.xdist_group("lab"))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Under `--dist loadgroup`, refuse to run when the lab group was not applied: the lab tests would
    then run on both workers at once and fail on each other's addresses ("Address already in use").
    (pytest 9 ignores the node id xdist 3.8 rewrites; pyproject.toml keeps pytest below 9.)"""
    if not getattr(session.config.option, "loadgroup", False):  # set in xdist workers only
        return
    ungrouped = [i.nodeid for i in session.items if lab_bound(Path(str(i.path))) and "@lab" not in i.nodeid]
    if ungrouped:
        raise pytest.UsageError(f"pytest-xdist did not put {len(ungrouped)} lab tests in their group, "
                                f"e.g. {ungrouped[0]}: check the pytest / pytest-xdist versions")  # fmt: skip


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.path))
        if TESTS / "e2e" in path.parents:
            item.add_marker(pytest.mark.e2e)
        if "browser" in path.stem:
            item.add_marker(pytest.mark.browser)
        callspec = getattr(item, "callspec", None)
        params = callspec.params.values() if callspec is not None else ()
        uses_pg = {"pg_url", "pg_database"} & set(getattr(item, "fixturenames", ()))
        if uses_pg or any(value == "postgresql" for value in params):
            item.add_marker(pytest.mark.postgres)
