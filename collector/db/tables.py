"""Every table module, imported once so SQLModel.metadata knows them all (migrations, tests)."""

from collector.db import job_tables, models, record_tables, search_tables, vault_tables

__all__ = ["job_tables", "models", "record_tables", "search_tables", "vault_tables"]
