"""Hostile-input tests reuse the collector's fixtures: every DB test runs on SQLite and PostgreSQL."""

from tests.collector.conftest import api, config, db_url, pg_url  # noqa: F401
