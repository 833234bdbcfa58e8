"""Vault storage: seal on write, unseal on reveal, history, rotation — no permission logic here.

Who may call these is decided by ``collector.auth.permits`` in the service layer; this module only
keeps the values safe. Each entry seals its secret fields as one JSON value with the entry's ``uid``
as associated data; its data key belongs to the site's organisation and is stored wrapped.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db.models import Site
from collector.db.types import utcnow
from collector.db.vault_tables import VaultDataKey, VaultEntry, VaultHistory
from collector.vault.crypto import new_key, seal, unseal, unwrap_key, wrap_key
from collector.vault.keyring import Keyring, KeyringError, KeyringSource

# The secret fields of a credential set, as the agent's credential file names them.
SECRET_FIELDS = ("password", "enable_secret", "snmp_community", "snmp_v3_auth_key", "snmp_v3_priv_key")
# Clear settings a scan needs to use a credential (everything else is refused).
SETTING_FIELDS = ("drivers", "vendors", "targets", "snmp_v3_user", "snmp_v3_auth_protocol",
                  "snmp_v3_priv_protocol")  # fmt: skip
KINDS = ("login", "snmp", "enable", "wifi", "vms", "other")
DEFAULT_HISTORY_KEPT = 5


class VaultError(Exception):
    """A vault operation refused; the message names fields, never values."""


class StaleEdit(VaultError):
    """The entry changed since the editor loaded it."""


@dataclass(frozen=True)
class EntryDraft:
    """What a person (or an import) gives for an entry; ``secrets`` holds the values to seal."""

    label: str
    kind: str
    username: str | None = None
    device_id: str | None = None
    settings: Mapping[str, Any] | None = None
    secrets: Mapping[str, str] | None = None
    notes: str | None = None

    def checked(self) -> EntryDraft:
        if not self.label.strip():
            raise VaultError("label: an entry needs a label")
        if self.kind not in KINDS:
            raise VaultError(f"kind: one of {', '.join(KINDS)}")
        unknown = set(self.secrets or {}) - set(SECRET_FIELDS)
        if unknown:
            raise VaultError(f"secrets: unknown fields {sorted(unknown)}")
        bad = set(self.settings or {}) - set(SETTING_FIELDS)
        if bad:
            raise VaultError(f"settings: unknown fields {sorted(bad)}")
        return self


def _entry_aad(uid: str) -> bytes:
    return f"asbuilt-vault:v1:entry:{uid}".encode()


def _data_key_aad(key: VaultDataKey) -> bytes:
    return f"asbuilt-vault:v1:org:{key.organization_id}:dk:{key.uid}".encode()


class VaultKeys:
    """This process's keyring and the data keys it has opened (kept in memory, never logged)."""

    def __init__(self, source: KeyringSource) -> None:
        self.source = source
        self._keyring: Keyring | None = None
        self._opened: dict[tuple[int, str], bytes] = {}

    def keyring(self, needs: str | None = None) -> Keyring:
        if self._keyring is None or (needs is not None and self._keyring.get(needs) is None):
            # Another instance may have rotated: the file has the new key first, the old after it.
            self._keyring = self.source.load(create=self.source.writable)
        return self._keyring

    def _master(self, key_id: str) -> bytes:
        master = self.keyring(needs=key_id).get(key_id)
        if master is None:
            raise KeyringError(f"the vault master key {key_id!r} is not in the keyring")
        return master.secret

    def open(self, key: VaultDataKey) -> bytes:
        assert key.id is not None
        cached = self._opened.get((key.id, key.master_key_id))
        if cached is None:
            cached = unwrap_key(self._master(key.master_key_id), key.wrapped_key, _data_key_aad(key))
            self._opened[(key.id, key.master_key_id)] = cached
        return cached

    async def for_organization(self, session: AsyncSession, organization_id: int) -> VaultDataKey:
        found = (
            await session.exec(
                select(VaultDataKey)
                .where(VaultDataKey.organization_id == organization_id)
                .order_by(col(VaultDataKey.id).desc())
            )
        ).first()
        if found is not None:
            return found
        master = self.keyring().current
        key = VaultDataKey(uid=secrets.token_hex(16), organization_id=organization_id,
                           master_key_id=master.key_id, wrapped_key=b"")  # fmt: skip
        key.wrapped_key = wrap_key(master.secret, new_key(), _data_key_aad(key))
        session.add(key)
        await session.flush()
        return key

    async def by_id(self, session: AsyncSession, data_key_id: int) -> VaultDataKey:
        key = await session.get(VaultDataKey, data_key_id)
        if key is None:
            raise VaultError("the entry's data key is missing")
        return key


def _seal_values(data_key: bytes, uid: str, values: Mapping[str, str]) -> bytes:
    return seal(data_key, json.dumps(dict(values), sort_keys=True).encode(), _entry_aad(uid))


def _unseal_values(data_key: bytes, uid: str, sealed: bytes) -> dict[str, str]:
    values = json.loads(unseal(data_key, sealed, _entry_aad(uid)))
    assert isinstance(values, dict)
    return values


async def _opened_values(
    session: AsyncSession, keys: VaultKeys, uid: str, data_key_id: int, sealed: bytes
) -> dict[str, str]:
    return _unseal_values(keys.open(await keys.by_id(session, data_key_id)), uid, sealed)


async def put_entry(
    session: AsyncSession,
    keys: VaultKeys,
    *,
    site: Site,
    draft: EntryDraft,
    actor: str,
    entry: VaultEntry | None = None,
    expected_version: int | None = None,
    keep_history: int = DEFAULT_HISTORY_KEPT,
    now: datetime | None = None,
) -> VaultEntry:
    """Create an entry, or change ``entry`` (the earlier value goes to its history, still sealed).

    Secret fields left out of ``draft.secrets`` keep their value, so renaming a label or rebinding
    drivers never needs the password retyped.
    """
    draft = draft.checked()
    now = now or utcnow()
    assert site.id is not None
    data_key = await keys.for_organization(session, site.organization_id)
    assert data_key.id is not None
    opened = keys.open(data_key)
    if entry is None:
        uid = secrets.token_hex(16)
        values = {k: v for k, v in (draft.secrets or {}).items() if v}
        entry = VaultEntry(uid=uid, site_id=site.id, device_id=draft.device_id, label=draft.label.strip(),
                           kind=draft.kind, username=draft.username, settings=dict(draft.settings or {}),
                           notes=draft.notes, data_key_id=data_key.id,
                           sealed=_seal_values(opened, uid, values), secret_fields=",".join(sorted(values)),
                           updated_by=actor, created_at=now, updated_at=now)  # fmt: skip
        session.add(entry)
        await session.flush()
        return entry
    if expected_version is not None and expected_version != entry.version:
        raise StaleEdit(
            f"{entry.label!r} was changed by {entry.updated_by} at {entry.updated_at:%Y-%m-%d %H:%M} UTC "
            f"(version {entry.version}) after you opened it (version {expected_version}); reload and retry"
        )
    assert entry.id is not None
    values = await _opened_values(session, keys, entry.uid, entry.data_key_id, entry.sealed)
    changed_secret = any(values.get(k, "") != v for k, v in (draft.secrets or {}).items() if v)
    if changed_secret or (draft.username or None) != (entry.username or None):
        session.add(VaultHistory(entry_id=entry.id, version=entry.version, username=entry.username,
                                 data_key_id=entry.data_key_id, sealed=entry.sealed, replaced_at=now,
                                 replaced_by=actor))  # fmt: skip
    values.update({k: v for k, v in (draft.secrets or {}).items() if v})
    entry.label, entry.kind, entry.username = draft.label.strip(), draft.kind, draft.username
    entry.device_id, entry.settings, entry.notes = draft.device_id, dict(draft.settings or {}), draft.notes
    entry.data_key_id, entry.sealed = data_key.id, _seal_values(opened, entry.uid, values)
    entry.secret_fields = ",".join(sorted(values))
    entry.version += 1
    entry.updated_by, entry.updated_at, entry.flag = actor, now, None
    session.add(entry)
    await session.flush()
    await _prune_history(session, entry.id, keep_history)
    return entry


async def _prune_history(session: AsyncSession, entry_id: int, keep: int) -> None:
    rows = (
        await session.exec(
            select(VaultHistory.id)
            .where(VaultHistory.entry_id == entry_id)
            .order_by(col(VaultHistory.version).desc())
        )
    ).all()
    stale = [row for row in rows[keep:] if row is not None]
    if stale:
        await session.exec(delete(VaultHistory).where(col(VaultHistory.id).in_(stale)))


async def reveal(session: AsyncSession, keys: VaultKeys, entry: VaultEntry, field: str) -> str:
    """One secret field of an entry, in clear: the caller audits it before showing it."""
    if field not in SECRET_FIELDS:
        raise VaultError(f"field: one of {', '.join(SECRET_FIELDS)}")
    values = await _opened_values(session, keys, entry.uid, entry.data_key_id, entry.sealed)
    if field not in values:
        raise VaultError(f"{field}: this entry holds no such value")
    return values[field]


async def reveal_earlier(
    session: AsyncSession, keys: VaultKeys, entry: VaultEntry, earlier: VaultHistory, field: str
) -> str:
    if earlier.entry_id != entry.id:
        raise VaultError("that earlier value belongs to another entry")
    values = await _opened_values(session, keys, entry.uid, earlier.data_key_id, earlier.sealed)
    if field not in values:
        raise VaultError(f"{field}: that earlier value holds no such field")
    return values[field]


async def history(session: AsyncSession, entry_id: int) -> list[VaultHistory]:
    return list(
        (
            await session.exec(
                select(VaultHistory)
                .where(VaultHistory.entry_id == entry_id)
                .order_by(col(VaultHistory.version).desc())
            )
        ).all()
    )


async def site_entries(session: AsyncSession, site_id: int) -> list[VaultEntry]:
    return list(
        (
            await session.exec(
                select(VaultEntry)
                .where(VaultEntry.site_id == site_id)
                .order_by(col(VaultEntry.device_id).is_not(None), col(VaultEntry.label))
            )
        ).all()
    )


async def scan_credentials(session: AsyncSession, keys: VaultKeys, site_id: int) -> list[dict[str, Any]]:
    """The site's credential sets in the agent's credential-file form (parse_credentials reads it).

    Only entries a scan can use (logins, SNMP, enable); Wi-Fi and VMS accounts stay in the vault.
    """
    sets: list[dict[str, Any]] = []
    for entry in await site_entries(session, site_id):
        if entry.kind not in {"login", "snmp", "enable"}:
            continue
        values = await _opened_values(session, keys, entry.uid, entry.data_key_id, entry.sealed)
        item: dict[str, Any] = {"name": f"vault-{entry.id}-{entry.label}"[:200]}
        if entry.username:
            item["username"] = entry.username
        item.update({k: v for k, v in entry.settings.items() if k in SETTING_FIELDS and v})
        item.update(values)
        sets.append(item)
    return sets


async def flag_replaced(session: AsyncSession, site_id: int, replaced: Iterable[tuple[str, str]]) -> int:
    """Flag the entries of devices a scan saw replaced: (old device id, new device id) pairs.

    One query finds which old devices have entries at all (a re-addressed site can report a hundred
    replacements, most devices without a vault entry); only those get an UPDATE."""
    pairs = dict(replaced)
    if not pairs:
        return 0
    query = select(VaultEntry.device_id).where(
        col(VaultEntry.site_id) == site_id, col(VaultEntry.device_id).in_(list(pairs))
    )
    with_entries = {d for d in (await session.exec(query)).all() if d is not None}
    count = 0
    for old_id, new_id in pairs.items():
        if old_id not in with_entries:
            continue
        result = await session.exec(
            update(VaultEntry)
            .where(col(VaultEntry.site_id) == site_id, col(VaultEntry.device_id) == old_id)
            .values(flag=f"device replaced by {new_id}"[:200])
        )
        count += result.rowcount or 0
    return count


@dataclass(frozen=True)
class Rotation:
    new_key_id: str
    rewrapped: int
    retired: tuple[str, ...]


async def rotate_master_key(session: AsyncSession, source: KeyringSource, *, retire: bool) -> Rotation:
    """A new master key first in the keyring; every data key re-wrapped with it; old keys retired.

    The keyring file is written (new key first, old ones kept) *before* the database changes, so a
    crash in between leaves every data key openable; ``retire`` drops the old keys only after all
    rows are re-wrapped and committed by the caller's transaction.
    """
    keyring = source.load()
    rotated = keyring.with_new_current()
    source.save(rotated)
    new_master = rotated.current
    rows = (await session.exec(select(VaultDataKey))).all()
    for row in rows:
        old = rotated.get(row.master_key_id)
        if old is None:
            raise KeyringError(f"data key {row.uid} is wrapped by {row.master_key_id!r}, not in the keyring")
        opened = unwrap_key(old.secret, row.wrapped_key, _data_key_aad(row))
        row.wrapped_key = wrap_key(new_master.secret, opened, _data_key_aad(row))
        row.master_key_id = new_master.key_id
        row.rewrapped_at = utcnow()
        session.add(row)
    await session.flush()
    retired: tuple[str, ...] = ()
    if retire:
        retired = tuple(key.key_id for key in rotated.keys[1:])
    return Rotation(new_master.key_id, len(rows), retired)


def finish_rotation(source: KeyringSource, rotation: Rotation) -> None:
    """After the re-wrap committed: drop the retired keys from the keyring file."""
    if rotation.retired:
        source.save(source.load().retire_all_but_current())
