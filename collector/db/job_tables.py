"""The embedded job queue's table (SQLite). On PostgreSQL, procrastinate keeps its own tables."""

# No `from __future__ import annotations`: SQLModel reads the annotations at class creation.

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from collector.db.types import JsonDocument, UTCDateTime, utcnow


class LocalJob(SQLModel, table=True):
    __tablename__ = "local_job"
    __table_args__ = (Index("ix_local_job_due", "status", "run_after"),)

    id: int | None = Field(default=None, primary_key=True)
    task: str = Field(max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonDocument, nullable=False))
    dedupe_key: str | None = Field(default=None, max_length=200, index=True)
    status: str = Field(default="todo", max_length=10, description="todo | doing | done | failed")
    attempts: int = 0
    run_after: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=2000)
