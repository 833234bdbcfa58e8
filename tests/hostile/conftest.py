"""Hostile-input tests reuse the collector's fixtures: every DB test runs on SQLite and PostgreSQL."""

from tests.collector.conftest import api, config, db_url, pg_url, pg_vault_key_file  # noqa: F401


def pytest_terminal_summary(terminalreporter):
    from tests.hostile.fuzzing import EXAMPLES_RUN

    if EXAMPLES_RUN:
        terminalreporter.write_sep("-", f"fuzz examples run: {sum(EXAMPLES_RUN.values())}")
        for name, n in sorted(EXAMPLES_RUN.items()):
            terminalreporter.write_line(f"  {name}: {n}")
