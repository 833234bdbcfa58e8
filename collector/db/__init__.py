"""Storage: SQLModel tables, the async engine, queries and Alembic migrations."""
