"""Every table module, imported once so SQLModel.metadata knows them all (migrations, tests)."""

from collector.db import (
    alert_tables,
    deliverable_tables,
    job_tables,
    models,
    record_tables,
    search_tables,
    vault_tables,
)

__all__ = [
    "alert_tables",
    "deliverable_tables",
    "job_tables",
    "models",
    "record_tables",
    "search_tables",
    "vault_tables",
]
