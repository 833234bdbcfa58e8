"""Collector settings: defaults, then environment (ASBUILT_*), then explicit overrides (CLI flags)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from collector.db.session import sqlite_url
from collector.throttle import Network, parse_networks

MiB = 1024 * 1024
ENV_PREFIX = "ASBUILT_"
ADMIN_TOKEN_FILENAME = "admin-token"


class CollectorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(default=Path("collector-data"), description="SQLite file, admin token, uploads")
    database_url: str | None = Field(
        default=None, description="postgresql+asyncpg://… ; default: SQLite (WAL) in data_dir"
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_upload_bytes: int = Field(default=16 * MiB, ge=1024, description="Largest request body, as sent")
    # The largest real site (contract maxima in drivers/schema.py) fits in well under 32 MiB of JSON.
    max_snapshot_bytes: int = Field(default=32 * MiB, ge=1024, description="Largest snapshot after gunzip")
    admin_token: SecretStr | None = Field(default=None, description="Bearer token of the administrator")
    admin_token_file: Path | None = Field(default=None, description="File holding the admin token")
    enrolment_code_ttl_s: int = Field(default=7 * 24 * 3600, ge=60)
    removed_after_scans: int = Field(
        default=3, ge=1, description="Absent scans before 'missing' means removed"
    )
    migrate_on_start: bool = True
    trusted_proxies: str = Field(
        default="", description="Comma-separated proxy addresses/networks whose X-Forwarded-For is believed"
    )
    session_idle_timeout_s: int = Field(default=4 * 3600, ge=60, description="Signed out after this idle")
    session_max_age_s: int = Field(default=12 * 3600, ge=300, description="Signed out after this, always")
    password_reset_ttl_s: int = Field(default=24 * 3600, ge=300, description="One-time reset links expire")
    public_url: str | None = Field(default=None, description="https://… the collector's public base URL")
    api_rate_per_s: float = Field(default=20.0, gt=0, description="API requests per second per caller")
    api_burst: int = Field(default=200, ge=1, description="API requests a caller may send at once")
    vault_keys: SecretStr | None = Field(
        default=None, description="The vault's master keyring itself (for containers / secret managers)"
    )
    vault_key_file: Path | None = Field(
        default=None, description="The vault's master keyring file (default: data_dir/vault.keys)"
    )
    run_jobs: bool = Field(
        default=True,
        description="Run queued jobs (PDFs, alerts, retention) in this process; false on a web-only "
        "instance, with `asbuilt collector jobs worker` running them in another",
    )
    job_heartbeat_s: float = Field(default=5.0, gt=0, description="PostgreSQL job workers' heartbeat")
    job_stalled_after_s: float = Field(
        default=20.0, gt=0, description="A job worker silent this long is gone; its jobs run again"
    )
    # Change alerts (collector/alerts/): e-mail through an SMTP relay with STARTTLS, verified.
    smtp_host: str | None = Field(default=None, description="SMTP relay for alert e-mail (unset: no e-mail)")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = Field(default=True, description="Upgrade with STARTTLS (refused if it cannot)")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = Field(default="asbuilt@localhost", description="From: of alert e-mail")
    smtp_ca_file: Path | None = Field(default=None, description="CA bundle for the relay's certificate")
    smtp_timeout_s: float = Field(default=20.0, gt=0)
    webhook_timeout_s: float = Field(default=10.0, gt=0, description="One webhook POST, connect to reply")
    alert_overdue_check_s: float = Field(
        default=300.0, gt=0, description="How often the overdue-scan check is queued"
    )

    retention_identical_after_days: int = Field(
        default=90, ge=1, description="Versions that changed nothing are removed once unseen this long"
    )
    retention_requests_after_days: int = Field(
        default=30, ge=1, description="Records of pushes (seen again, replays) are kept this long"
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        parse_networks(value)  # a typo in the proxy list is an error at start, not a silent hole
        return value

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> CollectorConfig:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None and raw != "":
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)

    @property
    def trusted_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def db_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)

    def resolve_admin_token(self) -> str:
        """The admin token: given directly, else read from its file, else created once in data_dir."""
        if self.admin_token is not None:
            return self.admin_token.get_secret_value()
        path = self.admin_token_file or self.data_dir / ADMIN_TOKEN_FILENAME
        if path.exists():
            token = path.read_text().strip()
            if token:
                return token
        path.parent.mkdir(parents=True, exist_ok=True)
        token = "asb_admin_" + secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(token + "\n")
        return token
