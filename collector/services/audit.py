"""The audit log: append entries, and read them back within the reader's scope.

Append-only by construction: this module only inserts and selects, no route updates or deletes,
and the database refuses UPDATE and DELETE on the table (triggers from migration 0002).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.auth import Action, Identity, Role, ensure, scope_clause
from collector.db.models import AuditEvent
from collector.errors import ApiError
from collector.services.context import Ctx


class Kind(StrEnum):
    """Every kind of entry, in one list (the tests produce each one)."""

    SIGNIN_OK = "signin.success"
    SIGNIN_FAILED = "signin.failure"
    SIGNOUT = "signout"
    PASSWORD_CHANGE = "password.change"
    PASSWORD_RESET_ISSUE = "password.reset_issue"
    PASSWORD_RESET_USE = "password.reset_use"
    TOTP_ENABLE = "totp.enable"
    TOTP_DISABLE = "totp.disable"
    DEVICE_REGISTER = "device.register"
    DEVICE_APPROVE = "device.approve"
    DEVICE_REVOKE = "device.revoke"
    TOKEN_CREATE = "token.create"
    TOKEN_REVOKE = "token.revoke"
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_DISABLE = "user.disable"
    USER_ENABLE = "user.enable"
    USER_REMOVE = "user.remove"
    REGION_CREATE = "region.create"
    REGION_REMOVE = "region.remove"
    CUSTOMER_CREATE = "customer.create"
    CUSTOMER_UPDATE = "customer.update"
    CUSTOMER_DISABLE = "customer.disable"
    CUSTOMER_REMOVE = "customer.remove"
    POLICY_UPDATE = "policy.update"
    SITE_READ = "site.read"
    EXPORT = "export.download"
    BASELINE_APPROVE = "baseline.approve"
    AGENT_REVOKE = "agent.revoke"
    ENROL_CODE_ISSUE = "enrol_code.issue"
    SNAPSHOT_PUSH = "snapshot.push"
    VAULT_CREATE = "vault.create"
    VAULT_UPDATE = "vault.update"
    VAULT_REVEAL = "vault.reveal"
    VAULT_HISTORY = "vault.history"  # an earlier value revealed, for recovery
    VAULT_IMPORT = "vault.import"
    VAULT_FETCH = "vault.fetch"  # an agent took its site's credential sets for a scan
    VAULT_GRANT = "vault.grant"  # a customer's admin allowed (or no longer) to reveal its passwords
    VAULT_REWRAP = "vault.rewrap"  # the master key rotated, every data key re-wrapped
    ATTACHMENT_UPLOAD = "record.attachment_upload"
    ATTACHMENT_DOWNLOAD = "record.attachment_download"
    FLOOR_PLAN_CREATE = "record.floor_plan_create"
    PIN_SAVE = "record.pin_save"
    PIN_REMOVE = "record.pin_remove"
    ATTACHMENT_REMOVE = "record.attachment_remove"
    QUOTE_IMPORT = "record.quote_import"
    VISIT_ADD = "record.visit_add"
    ALERT_SUBSCRIBE = "alert.subscribe"  # detail.action: subscribe | unsubscribe
    ALERT_WEBHOOK = "alert.webhook"  # detail.action: create | remove
    ALERT_SCHEDULE = "alert.schedule"  # a site's expected scan interval set or cleared
    SHARE_CREATE = "share.create"
    SHARE_USE = "share.use"  # outcome ok: downloaded; refused: wrong password, used, expired
    FLEET_READ = "fleet.read"  # a customer's fleet report (firmware, clocks, recording, PoE) shown
    SETTINGS_UPDATE = "settings.update"  # the integrator's branding changed
    HANDOVER_JOB = "export.handover_job"  # a handover PDF queued as a job (its download is an export)


def actor_fields(identity: Identity | None) -> dict[str, Any]:
    if identity is None:
        return {"actor": "anonymous", "actor_kind": "anonymous", "actor_user_id": None}
    return {"actor": identity.name, "actor_kind": identity.kind.value, "actor_user_id": identity.user_id}


async def record(
    db: AsyncSession,
    ctx: Ctx | None,
    kind: Kind,
    *,
    target: str | None = None,
    customer_id: int | None = None,
    site_id: int | None = None,
    outcome: str = "ok",
    actor: Identity | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one entry in the caller's transaction: it commits with the change it describes."""
    who = actor if actor is not None else (ctx.identity if ctx is not None else None)
    event = AuditEvent(
        kind=kind.value,
        outcome=outcome,
        client=ctx.client if ctx else None,
        device_id=ctx.device_id if ctx else None,
        target=target[:300] if target else None,
        customer_id=customer_id,
        site_id=site_id,
        detail=detail or {},
        **actor_fields(who),
    )
    if ctx is not None:
        event.at = ctx.now
    db.add(event)
    await db.flush()
    return event


@dataclass(frozen=True)
class AuditFilter:
    kind: str | None = None
    actor: str | None = None
    customer_id: int | None = None
    site_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def _time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(422, "invalid_parameter", f"{name} must be an ISO 8601 time", field=name) from None
    if parsed.tzinfo is None:
        raise ApiError(422, "invalid_parameter", f"{name} needs a time zone (e.g. Z)", field=name)
    return parsed


def _id(value: str | None, name: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        raise ApiError(422, "invalid_parameter", f"{name} must be a number", field=name)
    return int(value)


def parse_filter(query: Mapping[str, str]) -> AuditFilter:
    """The filter of the Audit page and GET /api/v1/audit, from their query parameters."""
    return AuditFilter(
        kind=(query.get("kind") or "").strip()[:50] or None,
        actor=(query.get("actor") or "").strip()[:100] or None,
        customer_id=_id(query.get("customer_id"), "customer_id"),
        site_id=_id(query.get("site_id"), "site_id"),
        since=_time(query.get("since"), "since"),
        until=_time(query.get("until"), "until"),
    )


async def entries(
    db: AsyncSession, ctx: Ctx, flt: AuditFilter, *, limit: int, offset: int
) -> tuple[list[AuditEvent], int]:
    """Entries newest first, within what the reader may see (admins: all; a customer's admin: its own)."""
    ensure(ctx.identity, Action.READ_AUDIT)
    query = select(AuditEvent)
    if ctx.identity.role is not Role.ADMIN:
        query = query.where(scope_clause(ctx.identity, col(AuditEvent.customer_id), None))
    if flt.kind:
        query = query.where(col(AuditEvent.kind).startswith(flt.kind))
    if flt.actor:
        query = query.where(AuditEvent.actor == flt.actor)
    if flt.customer_id is not None:
        query = query.where(AuditEvent.customer_id == flt.customer_id)
    if flt.site_id is not None:
        query = query.where(AuditEvent.site_id == flt.site_id)
    if flt.since is not None:
        query = query.where(col(AuditEvent.at) >= flt.since)
    if flt.until is not None:
        query = query.where(col(AuditEvent.at) < flt.until)
    total = (await db.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await db.exec(query.order_by(col(AuditEvent.id).desc()).limit(limit).offset(offset))
    return list(rows.all()), int(total)
