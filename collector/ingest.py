"""Turning a pushed snapshot into a version of its site.

Two halves: ``decode_body``/``parse_snapshot`` are pure (bytes in, a validated ``Snapshot`` or an
``ApiError`` naming the failing field out); ``ingest`` does the storage in one transaction:
replay → same answer, same content as the latest version → "seen again", else a new version with
its diff against the baseline (or the previous version when no baseline is approved).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from collector.db import queries, storage
from collector.db.models import Agent, IngestRequest, Site, SnapshotVersion
from collector.diff import ChangeKind, SiteDiff, diff_snapshots
from collector.errors import ApiError
from collector.gcpause import gc_paused
from collector.hashing import content_hash as snapshot_hash
from collector.hashing import fingerprint as snapshot_fingerprint
from collector.hashing import significant_json
from collector.search.index import project_version
from drivers import bounded
from drivers.schema import SUPPORTED_SCHEMA_VERSIONS, Snapshot

MAX_REPORTED_ERRORS = 20
# Every JSON value costs the parser a Python object (up to ~100 bytes). A real 1,000-device snapshot
# has ~150,000 of them (commas, colons and brackets outside strings), so this allows the contract's
# largest site with room to spare while a 64 KB gzip of 21 million empty objects is refused after
# one regex pass, before json.loads builds anything (the memory figure is in the ingest benchmark).
MAX_JSON_TOKENS = 3_000_000
MAX_INT_DIGITS = 100  # longer ones cost CPU to convert; up to here the model names the field
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_LONG_DIGITS = re.compile(rb"[0-9]{%d}" % (MAX_INT_DIGITS + 1))


# ---------------------------------------------------------------- pure: bytes → Snapshot


def too_large(limit: int, what: str = "request body") -> ApiError:
    return ApiError(413, "payload_too_large", f"the {what} exceeds the limit of {limit} bytes")


def decode_body(raw: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Undo Content-Encoding, never producing more than ``limit`` bytes (a gzip bomb stops here)."""
    encoding = bounded.normal(content_encoding)
    if encoding not in ("identity", "gzip", "x-gzip"):
        raise ApiError(
            415, "unsupported_encoding", f"Content-Encoding {encoding!r} is not supported; use gzip"
        )
    try:
        return bounded.inflate(raw, encoding, limit, "decompressed snapshot")
    except bounded.TooLarge as exc:
        raise too_large(exc.limit, exc.what) from None
    except bounded.BadEncoding as exc:
        raise ApiError(400, "bad_gzip", str(exc)) from None


def json_tokens(body: bytes) -> int:
    """How many values a JSON text holds, roughly (separators and openers outside strings), counted
    without building any of them."""
    bare = _JSON_STRING.sub(b'""', body)
    return _separators(bare)


def _separators(body: bytes) -> int:
    return body.count(b",") + body.count(b":") + body.count(b"{") + body.count(b"[")


def json_tokens_within(body: bytes, limit: int) -> int | None:
    """None when ``body`` holds at most ``limit`` values, else about how many it holds.

    Counting separators inside strings too is an upper bound found in C at memory speed; only a
    body over the limit by that bound pays for the exact count (strings blanked by a regex)."""
    if _separators(body) <= limit:
        return None
    tokens = json_tokens(body)
    return tokens if tokens > limit else None


class _Refused(ValueError):
    """Raised by the JSON hooks for a value no database can store."""


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number and cannot be stored")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"integer of {len(text)} digits is beyond 64 bits")
    return int(text)


def load_json(body: bytes) -> Any:
    """Parse JSON within bounds: token count first, then no NaN/Infinity, no oversized integers."""
    tokens = json_tokens_within(body, MAX_JSON_TOKENS)
    if tokens is not None:
        raise ApiError(
            413,
            "payload_too_large",
            f"the snapshot holds about {tokens} JSON values; the limit is {MAX_JSON_TOKENS}",
            field="$",
        )
    try:
        # A parse_int hook costs a Python call per integer: only a body with a run of more digits
        # than allowed (maybe just inside a string) needs it.
        if _LONG_DIGITS.search(body):
            return json.loads(body, parse_constant=_refuse_constant, parse_int=_parse_int)
        return json.loads(body, parse_constant=_refuse_constant)
    except _Refused as exc:
        raise ApiError(
            422, "invalid_json", f"the body holds a value that cannot be stored: {exc}", field="$"
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise ApiError(422, "invalid_json", f"the body is not valid JSON: {exc}", field="$") from None
    except RecursionError:
        raise ApiError(422, "invalid_json", "the body is nested too deeply", field="$") from None


def parse_snapshot(body: bytes) -> Snapshot:
    """JSON → Snapshot, with 422 errors that name the field (``devices[3].network.ip``).

    The cyclic garbage collector is paused meanwhile: parsing and validating allocate some 10^5
    objects that all stay alive, so its generational passes find nothing and cost more than half
    the time. It is always switched back on (finally), and only if it was on before."""
    with gc_paused():
        return _parse_snapshot(body)


def _parse_snapshot(body: bytes) -> Snapshot:
    data = load_json(body)
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_snapshot", "a snapshot is a JSON object", field="$")
    version = data.get("schema_version", None)
    if version is not None and (type(version) is not int or version not in SUPPORTED_SCHEMA_VERSIONS):
        accepted = ", ".join(str(v) for v in sorted(SUPPORTED_SCHEMA_VERSIONS))
        raise ApiError(
            422,
            "unsupported_schema_version",
            f"schema_version {json.dumps(version)[:40]} is not supported; this collector accepts {accepted}",
            field="schema_version",
        )
    try:
        return Snapshot.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, "invalid_snapshot") from None
    except RecursionError:
        raise ApiError(422, "invalid_snapshot", "the snapshot is nested too deeply", field="$") from None


def validation_error(exc: ValidationError, code: str) -> ApiError:
    """A 422 naming the first failing field. Lists stop at their first bad item (fail_fast), so the
    error count stays small; only the first MAX_REPORTED_ERRORS are turned into dicts."""
    count = exc.error_count()
    errors = [
        {"field": field_path(e["loc"]), "message": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_input=False, include_context=False)[
            :MAX_REPORTED_ERRORS
        ]
    ]
    first = errors[0]
    return ApiError(
        422,
        code,
        f"{first['field']}: {first['message']}" + (f" (and {count - 1} more)" if count > 1 else ""),
        field=first["field"],
        errors=errors,
    )


def field_path(loc: tuple[int | str, ...]) -> str:
    """('devices', 3, 'network', 'ip') → 'devices[3].network.ip'; the whole document is '$'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "$"


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# ---------------------------------------------------------------- parsed snapshots, cached


class SnapshotCache:
    """Parsed snapshots by content hash. Content is immutable, so sharing across instances is safe;
    only volatile fields can differ between equal hashes, and the diff ignores those."""

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._items: OrderedDict[str, Snapshot] = OrderedDict()

    def get(self, content_hash: str) -> Snapshot | None:
        snap = self._items.get(content_hash)
        if snap is not None:
            self._items.move_to_end(content_hash)
        return snap

    def put(self, content_hash: str, snapshot: Snapshot) -> None:
        self._items[content_hash] = snapshot
        self._items.move_to_end(content_hash)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


async def load_snapshot(
    session: AsyncSession, cache: SnapshotCache, site_id: int, version: int, content_hash: str
) -> Snapshot:
    snap = cache.get(content_hash)
    if snap is None:
        snap = await queries.version_snapshot(session, site_id, version)
        if snap is None:
            raise LookupError(f"version {version} of site {site_id} has no snapshot")
        cache.put(content_hash, snap)
    return snap


# ---------------------------------------------------------------- storage


@dataclass(frozen=True)
class IngestResult:
    site_slug: str
    version: int
    content_hash: str
    created: bool
    outcome: Literal["new", "seen_again", "replay"]
    seen_count: int
    diff: dict[str, Any] | None
    # (old device id, new device id) for every replacement the new version's diff found.
    replaced: tuple[tuple[str, str], ...] = ()

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "site_id": self.site_slug,
            "version": self.version,
            "content_hash": self.content_hash,
            "created": self.created,
            "seen_count": self.seen_count,
            "diff": self.diff,
        }
        if not self.created:
            out["reason"] = self.outcome
        return out


def stored_summary(diff: SiteDiff, against_kind: str, against_version: int) -> dict[str, Any]:
    return {
        "against": {"kind": against_kind, "version": against_version},
        **diff.summary().model_dump(mode="json"),
    }


async def _begin(
    session: AsyncSession,
    site_id: int,
    agent_id: int | None,
    body_digest: str,
    idempotency_key: str | None,
    now: datetime,
) -> tuple[Site, IngestResult | None, queries.VersionState | None]:
    """Lock the site, note the agent's sighting, answer a replay; then the latest version's state."""
    await queries.lock_site(session, site_id, now)
    site = await queries.get_site(session, site_id)
    if agent_id is not None:
        await session.exec(update(Agent).where(col(Agent.id) == agent_id).values(last_seen_at=now))

    if idempotency_key:
        prior = await queries.ingest_request(session, site_id, idempotency_key)
        if prior is not None and prior.body_hash != body_digest:
            # A key names one request: another body under it is a client bug, not a new version.
            raise ApiError(
                422,
                "idempotency_key_reused",
                "this Idempotency-Key was already used with a different body; use a new key per body",
                field="Idempotency-Key",
            )
        if prior is not None:
            meta = await queries.version_meta(session, site_id, prior.version)
            assert meta is not None
            replay = IngestResult(
                site_slug=site.slug,
                version=meta.version,
                content_hash=meta.content_hash,
                created=False,
                outcome="replay",
                seen_count=meta.seen_count,
                diff=meta.diff_summary,
            )
            return site, replay, None
    latest = (
        await queries.version_state(session, site_id, site.latest_version) if site.latest_version else None
    )
    return site, None, latest


def _remember(
    session: AsyncSession,
    site_id: int,
    agent_id: int | None,
    body_digest: str,
    idempotency_key: str | None,
    now: datetime,
    version: int,
    created: bool,
) -> None:
    if idempotency_key:
        session.add(
            IngestRequest(
                site_id=site_id,
                agent_id=agent_id,
                idempotency_key=idempotency_key,
                body_hash=body_digest,
                version=version,
                created=created,
                created_at=now,
            )
        )


async def _seen_again(
    session: AsyncSession,
    site: Site,
    latest: queries.VersionState,
    agent_id: int | None,
    body_digest: str,
    idempotency_key: str | None,
    now: datetime,
    fingerprint: str | None = None,
) -> IngestResult:
    assert site.id is not None
    await queries.mark_seen_again(session, site.id, latest.version, now, body_digest, fingerprint)
    _remember(session, site.id, agent_id, body_digest, idempotency_key, now, latest.version, False)
    await session.flush()
    return IngestResult(
        site_slug=site.slug,
        version=latest.version,
        content_hash=latest.content_hash,
        created=False,
        outcome="seen_again",
        seen_count=latest.seen_count + 1,
        diff=latest.diff_summary,
    )


async def ingest_known_body(
    session: AsyncSession,
    *,
    site_id: int,
    agent_id: int | None,
    body_digest: str,
    idempotency_key: str | None,
    now: datetime,
) -> IngestResult | None:
    """The very bytes the latest version was last pushed with: "seen again" without parsing them.

    None (nothing written) when the body is another; the caller then parses it and calls ``ingest``.
    A plain read comes first, so a body that differs costs one indexed query and no lock."""
    if await queries.latest_body_digest(session, site_id) != body_digest:
        return None
    site, replay, latest = await _begin(session, site_id, agent_id, body_digest, idempotency_key, now)
    if replay is not None:
        return replay
    if latest is None or latest.body_digest != body_digest:  # a new version came in meanwhile
        return None
    return await _seen_again(session, site, latest, agent_id, body_digest, idempotency_key, now)


async def ingest(
    session: AsyncSession,
    *,
    site_id: int,
    agent_id: int | None,
    snapshot: Snapshot,
    body_digest: str,
    idempotency_key: str | None,
    now: datetime,
    removed_after: int,
    cache: SnapshotCache,
) -> IngestResult:
    """Store ``snapshot`` for the site in one transaction (the caller commits)."""
    site, replay, latest = await _begin(session, site_id, agent_id, body_digest, idempotency_key, now)
    if replay is not None:
        return replay

    # CPU-bound steps allocate ~10^5 objects that stay alive: the cyclic GC is paused for each one
    # (never across an await), as for parsing.
    with gc_paused():
        significant = significant_json(snapshot)  # one dump for the fingerprint and the content hash
        fingerprint = snapshot_fingerprint(snapshot, significant)
    if latest is not None and latest.fingerprint == fingerprint:  # cheap: no content hash needed
        return await _seen_again(session, site, latest, agent_id, body_digest, idempotency_key, now)
    with gc_paused():
        content_hash = snapshot_hash(snapshot, significant)
    if latest is not None and latest.content_hash == content_hash:
        return await _seen_again(
            session, site, latest, agent_id, body_digest, idempotency_key, now, fingerprint
        )

    summary, against_kind, against_version, streaks = None, None, None, {}
    replaced: tuple[tuple[str, str], ...] = ()
    reference = site.baseline_version or site.latest_version
    if reference:
        ref_meta = latest if latest and latest.version == reference else None
        ref_meta = ref_meta or await queries.version_state(session, site_id, reference)
        assert ref_meta is not None
        old = await load_snapshot(session, cache, site_id, reference, ref_meta.content_hash)
        against_kind = "baseline" if site.baseline_version else "previous"
        against_version = reference
        with gc_paused():
            streaks = absent_streaks(old, snapshot, latest)
            diff = diff_snapshots(
                old,
                snapshot,
                absent_scans=streaks,
                removed_after=removed_after,
                old_hash=ref_meta.content_hash,
                new_hash=content_hash,
            )
            summary = stored_summary(diff, against_kind, reference)
        replaced = tuple(
            (c.old_device_id, c.device_id) for c in diff.of_kind(ChangeKind.REPLACED) if c.old_device_id
        )

    version = site.latest_version + 1
    with gc_paused():
        document = storage.encode_snapshot(snapshot)
    session.add(
        SnapshotVersion(
            site_id=site_id,
            version=version,
            content_hash=content_hash,
            schema_version=snapshot.schema_version,
            received_at=now,
            seen_last_at=now,
            seen_count=1,
            scan_started_at=snapshot.scan.started_at,
            scan_finished_at=snapshot.scan.finished_at,
            agent_id=agent_id,
            document=document,
            body_digest=body_digest,
            fingerprint=fingerprint,
            device_count=len(snapshot.devices),
            problem_count=len(snapshot.problems),
            diff_against_kind=against_kind,
            diff_against_version=against_version,
            diff_summary=summary,
            absent_streaks=streaks,
        )
    )
    site.latest_version = version
    session.add(site)
    _remember(session, site_id, agent_id, body_digest, idempotency_key, now, version, True)
    await session.flush()
    await project_version(session, site_id, version, snapshot, now)  # the search projection
    cache.put(content_hash, snapshot)
    return IngestResult(
        site_slug=site.slug,
        version=version,
        content_hash=content_hash,
        created=True,
        outcome="new",
        seen_count=1,
        diff=summary,
        replaced=replaced,
    )


def absent_streaks(reference: Snapshot, new: Snapshot, latest: queries.VersionState | None) -> dict[str, int]:
    """For each reference device absent now: consecutive scans it has been absent, this one included.

    The latest version recorded its own streaks when it arrived; every later scan that matched it
    (seen_count - 1 of them) was one more absent scan.
    """
    present = {d.id for d in new.devices}
    before = latest.absent_streaks if latest is not None else {}
    seen = latest.seen_count if latest is not None else 0
    return {
        d.id: (int(before[d.id]) + seen if d.id in before else 1)
        for d in reference.devices
        if d.id not in present
    }


def current_absent_scans(streaks: dict[str, Any], seen_count: int) -> dict[str, int]:
    """A version's streaks as of its latest sighting (it may have been seen again since it arrived)."""
    return {device_id: int(n) + seen_count - 1 for device_id, n in streaks.items()}
