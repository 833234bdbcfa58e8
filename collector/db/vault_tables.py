"""The vault's tables: wrapped data keys, sealed entries and their earlier values.

Only ciphertext is stored: ``sealed`` columns hold AES-GCM output (collector/vault/crypto.py) and
``wrapped_key`` a data key sealed by a master key the database never sees. Usernames, labels and
bindings stay in clear — they are how a person finds an entry and how a scan uses it.
"""

# No `from __future__ import annotations`: SQLModel reads the annotations at class creation.

from datetime import datetime
from typing import Any

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from collector.db.types import JsonDocument, UTCDateTime, utcnow


class VaultDataKey(SQLModel, table=True):
    """One organisation's data key, wrapped by the master key named in ``master_key_id``."""

    __tablename__ = "vault_data_key"

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=32, unique=True, description="Bound into the wrapping as associated data")
    organization_id: int = Field(foreign_key="organization.id", index=True)
    master_key_id: str = Field(max_length=100, index=True)
    wrapped_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    rewrapped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class VaultEntry(SQLModel, table=True):
    """A secret of a site, or of one device of it (``device_id`` = the snapshot's device identity)."""

    __tablename__ = "vault_entry"
    __table_args__ = (UniqueConstraint("site_id", "device_id", "label"),)

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=32, unique=True, description="Bound into the sealing as associated data")
    site_id: int = Field(foreign_key="site.id", index=True)
    device_id: str | None = Field(default=None, max_length=200, index=True)
    label: str = Field(max_length=200, description="What it is: 'recorder admin', 'switch enable', ...")
    kind: str = Field(max_length=20, description="login | snmp_community | enable | wifi | other")
    username: str | None = Field(default=None, max_length=200)
    # The credential's clear settings (drivers, vendors, targets, SNMPv3 user and protocols): how a
    # scan may use it, in the agent's credential-file terms. The secret fields are only in `sealed`.
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonDocument, nullable=False))
    notes: str | None = Field(default=None, max_length=2000)
    data_key_id: int = Field(foreign_key="vault_data_key.id")
    # JSON of the secret fields ({"password": ..., "enable_secret": ...}), sealed as one value.
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    secret_fields: str = Field(max_length=200, description="Comma-separated names of the sealed fields")
    version: int = Field(default=1, description="Every change adds one; a stale edit is refused")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str = Field(max_length=200)
    flag: str | None = Field(default=None, max_length=200, description="e.g. the device was replaced")


class VaultHistory(SQLModel, table=True):
    """An earlier value of an entry, still sealed, kept for recovery (the newest N per entry)."""

    __tablename__ = "vault_history"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="vault_entry.id", index=True)
    version: int
    username: str | None = Field(default=None, max_length=200)
    data_key_id: int = Field(foreign_key="vault_data_key.id")
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    replaced_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    replaced_by: str = Field(max_length=200)
