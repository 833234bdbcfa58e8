"""The vault as callers see it: scoped like its site, every reveal and change audited.

Storage and crypto live in ``collector.vault``; this layer decides (``permits``, through ``find_site``
and ``ensure``), audits, and turns storage errors into API errors. A value leaves this module only
from ``reveal``/``reveal_earlier`` (one field of one entry, after the audit entry is written in the
same transaction) and ``agent_credentials`` (the agent's own site, for a scan held in memory).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.auth import Action, IdentityKind, Role, ensure
from collector.db.models import Customer, Site, User
from collector.db.vault_tables import VaultEntry, VaultHistory
from collector.errors import ApiError, not_found
from collector.services import audit
from collector.services.context import Ctx
from collector.services.sites import find_site
from collector.vault import store
from collector.vault.crypto import VaultCryptoError
from collector.vault.keyring import KeyringError
from collector.vault.store import SECRET_FIELDS, EntryDraft, StaleEdit, VaultError, VaultKeys
from drivers.base import Credential

MAX_IMPORT_BYTES = 1_000_000
MAX_IMPORT_ENTRIES = 2_000


def _refused(exc: Exception) -> ApiError:
    if isinstance(exc, StaleEdit):
        return ApiError(409, "stale_edit", str(exc))
    if isinstance(exc, KeyringError | VaultCryptoError):
        # An operator problem (keyring missing, wrong key): the message names no value.
        return ApiError(503, "vault_unavailable", f"the vault cannot open its keys: {exc}")
    field, _, message = str(exc).partition(": ")
    return ApiError(422, "invalid_vault_entry", str(exc), field=field if message else None)


async def site_entries(db: AsyncSession, ctx: Ctx, slug: str) -> tuple[Site, Customer, list[VaultEntry]]:
    """A site's entries, values masked (a read of the site's record: audited as one)."""
    site, customer = await find_site(db, ctx, slug, Action.READ_VAULT, view="vault")
    assert site.id is not None
    return site, customer, await store.site_entries(db, site.id)


async def _entry(
    db: AsyncSession, ctx: Ctx, slug: str, entry_id: int, action: Action
) -> tuple[Site, Customer, VaultEntry]:
    site, customer = await find_site(db, ctx, slug, action)
    entry = await db.get(VaultEntry, entry_id)
    if entry is None or entry.site_id != site.id:
        raise not_found(f"vault entry {entry_id} of site {slug!r}")
    return site, customer, entry


async def get_entry(
    db: AsyncSession, ctx: Ctx, slug: str, entry_id: int
) -> tuple[Site, Customer, VaultEntry]:
    return await _entry(db, ctx, slug, entry_id, Action.READ_VAULT)


async def save_entry(
    db: AsyncSession,
    ctx: Ctx,
    keys: VaultKeys,
    slug: str,
    draft: EntryDraft,
    *,
    entry_id: int | None = None,
    expected_version: int | None = None,
) -> VaultEntry:
    """Create (``entry_id`` None) or change an entry; a change needs the version it was made from."""
    if entry_id is None:
        site, customer = await find_site(db, ctx, slug, Action.EDIT_VAULT)
        entry = None
    else:
        site, customer, entry = await _entry(db, ctx, slug, entry_id, Action.EDIT_VAULT)
        if expected_version is None:
            raise ApiError(
                428, "version_required", "a change names the version it was made from", field="version"
            )
    if entry is None and await _label_taken(db, site, draft):
        raise ApiError(409, "duplicate_label", f"{draft.label!r} already exists here", field="label")
    try:
        saved = await store.put_entry(
            db,
            keys,
            site=site,
            draft=draft,
            actor=ctx.identity.name,
            entry=entry,
            expected_version=expected_version,
            now=ctx.now,
        )
    except (VaultError, KeyringError, VaultCryptoError) as exc:
        raise _refused(exc) from None
    kind = audit.Kind.VAULT_CREATE if entry is None else audit.Kind.VAULT_UPDATE
    await audit.record(
        db,
        ctx,
        kind,
        target=f"site {site.slug} vault {saved.label!r}",
        customer_id=customer.id,
        site_id=site.id,
        detail={
            "entry": saved.id,
            "version": saved.version,
            "changed": sorted((draft.secrets or {}).keys()),
            "device": saved.device_id,
        },
    )
    return saved


async def _label_taken(db: AsyncSession, site: Site, draft: EntryDraft) -> bool:
    query = select(VaultEntry.id).where(
        VaultEntry.site_id == site.id, VaultEntry.label == draft.label.strip()
    )
    query = query.where(
        col(VaultEntry.device_id).is_(None)
        if draft.device_id is None
        else VaultEntry.device_id == draft.device_id
    )
    return (await db.exec(query)).first() is not None


async def reveal(db: AsyncSession, ctx: Ctx, keys: VaultKeys, slug: str, entry_id: int, field: str) -> str:
    """One value in clear; the audit entry (who, what, when, client, registered device) comes first."""
    site, customer, entry = await _entry(db, ctx, slug, entry_id, Action.REVEAL_SECRET)
    try:
        value = await store.reveal(db, keys, entry, field)
    except (VaultError, KeyringError, VaultCryptoError) as exc:
        raise _refused(exc) from None
    await _audit_reveal(db, ctx, site, customer, entry, field)
    return value


async def _audit_reveal(
    db: AsyncSession, ctx: Ctx, site: Site, customer: Customer, entry: VaultEntry, field: str, **extra: Any
) -> None:
    detail = {"entry": entry.id, "field": field, "version": entry.version, "device": entry.device_id}
    await audit.record(
        db,
        ctx,
        audit.Kind.VAULT_REVEAL,
        target=f"site {site.slug} vault {entry.label!r} {field}",
        customer_id=customer.id,
        site_id=site.id,
        detail={**detail, **extra},
    )


async def history(
    db: AsyncSession, ctx: Ctx, slug: str, entry_id: int
) -> tuple[VaultEntry, list[VaultHistory]]:
    _, _, entry = await _entry(db, ctx, slug, entry_id, Action.READ_VAULT_HISTORY)
    assert entry.id is not None
    return entry, await store.history(db, entry.id)


async def reveal_earlier(
    db: AsyncSession, ctx: Ctx, keys: VaultKeys, slug: str, entry_id: int, version: int, field: str
) -> str:
    site, customer, entry = await _entry(db, ctx, slug, entry_id, Action.READ_VAULT_HISTORY)
    assert entry.id is not None
    earlier = next((h for h in await store.history(db, entry.id) if h.version == version), None)
    if earlier is None:
        raise not_found(f"version {version} of vault entry {entry_id}")
    try:
        value = await store.reveal_earlier(db, keys, entry, earlier, field)
    except (VaultError, KeyringError, VaultCryptoError) as exc:
        raise _refused(exc) from None
    await audit.record(
        db,
        ctx,
        audit.Kind.VAULT_HISTORY,
        target=f"site {site.slug} vault {entry.label!r} {field} v{version}",
        customer_id=customer.id,
        site_id=site.id,
        detail={"entry": entry.id, "field": field, "version": version},
    )
    return value


async def agent_credentials(db: AsyncSession, ctx: Ctx, keys: VaultKeys) -> list[dict[str, Any]]:
    """The agent's own site's credential sets (the agent's credential-file format), for one scan."""
    ensure(ctx.identity, Action.FETCH_CREDENTIALS)
    site_id = ctx.identity.site_id
    if ctx.identity.kind is not IdentityKind.AGENT or site_id is None:
        raise not_found("credentials")
    site = await db.get(Site, site_id)
    if site is None:
        raise not_found("credentials")
    try:
        sets = await store.scan_credentials(db, keys, site_id)
    except (KeyringError, VaultCryptoError) as exc:
        raise _refused(exc) from None
    await audit.record(
        db,
        ctx,
        audit.Kind.VAULT_FETCH,
        target=f"site {site.slug} scan credentials",
        customer_id=site.customer_id,
        site_id=site_id,
        detail={"sets": len(sets), "agent": ctx.identity.agent_id},
    )
    return sets


# ---------------------------------------------------------------- import


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def drafts_from_yaml(text: str) -> list[EntryDraft]:
    """The agent's credentials YAML (``credentials: [{name, username, password, drivers, ...}]``)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ApiError(422, "invalid_import", "the file is not valid YAML", field="file") from None
    items = data.get("credentials") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ApiError(422, "invalid_import", "expected a `credentials:` list", field="file")
    return [_draft_from_set(item, n) for n, item in enumerate(items[: MAX_IMPORT_ENTRIES + 1], start=1)]


def _draft_from_set(item: Any, n: int) -> EntryDraft:
    if not isinstance(item, dict):
        raise ApiError(422, "invalid_import", f"entry {n} is not a mapping", field=f"credentials[{n - 1}]")
    fields = {k: v for k, v in item.items() if k != "targets"}
    try:
        Credential.model_validate(fields)  # the agent's own rules: the same file must work for a scan
    except ValidationError as exc:
        where = ", ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors())
        raise ApiError(
            422, "invalid_import", f"entry {n} is invalid ({where})", field=f"credentials[{n - 1}]"
        ) from None
    secrets = {k: str(item[k]) for k in SECRET_FIELDS if item.get(k)}
    settings = {k: item[k] for k in store.SETTING_FIELDS if item.get(k)}
    kind = "snmp" if ("snmp_community" in secrets or item.get("snmp_v3_user")) else "login"
    if set(secrets) == {"enable_secret"}:
        kind = "enable"
    return EntryDraft(
        label=str(item.get("name") or f"imported {n}"),
        kind=kind,
        username=str(item["username"]) if item.get("username") else None,
        settings=settings,
        secrets=secrets,
    )


CSV_COLUMNS = (
    "label",
    "kind",
    "username",
    "password",
    "enable_secret",
    "snmp_community",
    "device_id",
    "drivers",
    "vendors",
    "notes",
)


def drafts_from_csv(text: str) -> list[EntryDraft]:
    """A spreadsheet export: label, kind, username, password (+ the other secret fields), device_id,
    drivers/vendors (separated by spaces or ;), notes. Header names are matched without case."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "label" not in {h.strip().lower() for h in reader.fieldnames}:
        raise ApiError(
            422, "invalid_import", "the CSV needs a header row with at least `label`", field="file"
        )
    drafts = []
    for n, raw in enumerate(reader, start=2):
        if n - 1 > MAX_IMPORT_ENTRIES:
            break
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        secrets = {k: row[k] for k in SECRET_FIELDS if row.get(k)}
        settings = {k: row[k].replace(";", " ").split() for k in ("drivers", "vendors") if row.get(k)}
        draft = EntryDraft(
            label=row.get("label", ""),
            kind=row.get("kind") or "login",
            username=row.get("username") or None,
            device_id=row.get("device_id") or None,
            settings=settings,
            secrets=secrets,
            notes=row.get("notes") or None,
        )
        try:
            drafts.append(draft.checked())
        except VaultError as exc:
            raise ApiError(422, "invalid_import", f"row {n}: {exc}", field=f"row {n}") from None
    return drafts


IMPORT_TYPES = {
    "application/x-yaml": "yaml",
    "application/yaml": "yaml",
    "text/yaml": "yaml",
    "text/csv": "csv",
}


async def import_entries(
    db: AsyncSession, ctx: Ctx, keys: VaultKeys, slug: str, raw: bytes, content_type: str
) -> ImportResult:
    """YAML (the agent's credential file) or CSV; an entry with an existing label is changed (its
    earlier value kept in history), the others are added. All or nothing. The site is looked up
    (and the caller's right to it checked) before the file is read."""
    site, customer = await find_site(db, ctx, slug, Action.EDIT_VAULT)
    fmt = IMPORT_TYPES.get(content_type)
    if fmt is None:
        raise ApiError(415, "unsupported_media_type", "send the file as text/csv or application/yaml")
    if len(raw) > MAX_IMPORT_BYTES:
        raise ApiError(
            413, "payload_too_large", f"an import is at most {MAX_IMPORT_BYTES} bytes", field="file"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(422, "invalid_import", "the file is not UTF-8 text", field="file") from None
    drafts = drafts_from_yaml(text) if fmt == "yaml" else drafts_from_csv(text)
    if len(drafts) > MAX_IMPORT_ENTRIES:
        raise ApiError(413, "payload_too_large", f"an import holds at most {MAX_IMPORT_ENTRIES} entries")
    assert site.id is not None
    existing = {(e.device_id, e.label): e for e in await store.site_entries(db, site.id)}
    created = updated = 0
    try:
        for draft in drafts:
            entry = existing.get((draft.device_id, draft.label.strip()))
            await store.put_entry(
                db,
                keys,
                site=site,
                draft=draft,
                actor=ctx.identity.name,
                entry=entry,
                expected_version=entry.version if entry else None,
                now=ctx.now,
            )
            created, updated = (created + 1, updated) if entry is None else (created, updated + 1)
    except (VaultError, KeyringError, VaultCryptoError) as exc:
        raise _refused(exc) from None
    await audit.record(
        db,
        ctx,
        audit.Kind.VAULT_IMPORT,
        target=f"site {site.slug} vault import ({fmt})",
        customer_id=customer.id,
        site_id=site.id,
        detail={"created": created, "updated": updated, "format": fmt},
    )
    return ImportResult(created, updated)


async def grant(db: AsyncSession, ctx: Ctx, user_name: str, granted: bool) -> User:
    """Let a customer's own admin reveal its customer's passwords (or stop it). Admins only."""
    ensure(ctx.identity, Action.MANAGE_PEOPLE)
    if ctx.identity.role is not Role.ADMIN:
        raise ApiError(403, "forbidden", "only an admin grants vault access")
    user = (await db.exec(select(User).where(User.name == user_name))).first()
    if user is None:
        raise not_found(f"user {user_name!r}")
    if user.role != Role.CUSTOMER.value or not user.customer_admin:
        raise ApiError(422, "not_a_customer_admin", "vault access is granted to a customer's own admin only")
    user.vault_granted = granted
    user.revision += 1
    db.add(user)
    await audit.record(
        db,
        ctx,
        audit.Kind.VAULT_GRANT,
        target=f"user {user.name}",
        customer_id=user.customer_id,
        detail={"granted": granted},
    )
    return user


@dataclass(frozen=True)
class RevealedValue:
    entry: VaultEntry
    field: str
    value: str


async def reveal_site(
    db: AsyncSession, ctx: Ctx, keys: VaultKeys, site: Site, customer: Customer, *, purpose: str
) -> list[RevealedValue]:
    """Every current value of a site's vault in clear (a credentials annex), one audit entry per
    value, as if each were revealed on its own. The caller found ``site`` with ``find_site``."""
    ensure(ctx.identity, Action.REVEAL_SECRET)
    assert site.id is not None
    out: list[RevealedValue] = []
    for entry in await store.site_entries(db, site.id):
        for field in (f for f in entry.secret_fields.split(",") if f):
            try:
                value = await store.reveal(db, keys, entry, field)
            except (VaultError, KeyringError, VaultCryptoError) as exc:
                raise _refused(exc) from None
            await _audit_reveal(db, ctx, site, customer, entry, field, purpose=purpose)
            out.append(RevealedValue(entry, field, value))
    return out
