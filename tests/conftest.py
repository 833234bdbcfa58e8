"""Markers a developer can select by (`pytest -m "not browser"`, `-m postgres`), set in one place.

- e2e: everything under tests/e2e (the simulated site scanned end to end);
- postgres: a test that talks to the PostgreSQL server (a `postgresql` parameter, or the pg_url or
  pg_database fixture);
- browser: a test module that drives Chromium (its file name says browser, or it is marked);
- netns: tests that build network namespaces (marked where they are written).
CI runs all of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).parent


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
