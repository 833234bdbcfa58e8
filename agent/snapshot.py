"""Assemble the `Snapshot`: one canonical, sorted document whose sha256 is its identity.

Records that would share a key are folded here (the contract refuses duplicate keys): two reports
of one problem become one problem with both messages. As a last line of defence the finished
document is searched for every secret of the credential book (see `scrub_secrets`: free text is
cleaned, structured fields are only flagged, never blanked).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent import __version__
from drivers.sanitize import distinctive, redact_values
from drivers.schema import (
    ConfigText,
    Device,
    LldpNeighbor,
    MacEntry,
    PortBinding,
    Problem,
    ProblemKind,
    Record,
    ScanInfo,
    SiteRef,
    Snapshot,
    Stage,
)

MIN_SECRET_LENGTH = 4  # shorter "secrets" (e.g. an empty enable password) would blank ordinary text


@dataclass(frozen=True)
class SnapshotParts:
    devices: Iterable[Device]
    mac_table: Iterable[MacEntry] = ()
    lldp_neighbors: Iterable[LldpNeighbor] = ()
    port_bindings: Iterable[PortBinding] = ()
    configs: Iterable[ConfigText] = ()
    problems: Iterable[Problem] = ()


def scan_info(
    started_at: datetime, finished_at: datetime, scopes: Iterable[str], methods: Iterable[str]
) -> ScanInfo:
    return ScanInfo(
        agent_version=__version__,
        agent_host=socket.gethostname() or None,
        started_at=started_at,
        finished_at=finished_at,
        scopes=tuple(scopes),
        methods=tuple(sorted(set(methods))),
    )


def build_snapshot(
    site: SiteRef, scan: ScanInfo, parts: SnapshotParts, secrets: Iterable[str] = ()
) -> Snapshot:
    """The snapshot of one scan: records de-duplicated by key, sorted, checked for secrets."""
    problems = fold_problems(parts.problems)
    data: dict[str, Any] = {
        "site": site,
        "scan": scan,
        "devices": _unique(parts.devices),
        "mac_table": _unique(parts.mac_table),
        "lldp_neighbors": _unique(parts.lldp_neighbors),
        "port_bindings": _unique(parts.port_bindings),
        "configs": _unique(parts.configs),
        "problems": problems,
    }
    snapshot = Snapshot.model_validate(data)
    return scrub_secrets(snapshot, secrets)


def fold_problems(problems: Iterable[Problem]) -> list[Problem]:
    """One problem per key; messages of folded problems are joined (first device id wins)."""
    folded: dict[tuple[str, ...], Problem] = {}
    for problem in problems:
        key = problem.key()
        existing = folded.get(key)
        if existing is None:
            folded[key] = problem
        elif problem.message not in existing.message:
            message = f"{existing.message}; {problem.message}"[:2000]
            folded[key] = existing.model_copy(
                update={"message": message, "device_id": existing.device_id or problem.device_id}
            )
    return list(folded.values())


def _unique(records: Iterable[Record]) -> list[Any]:
    """First record per key wins (callers pass the most trusted first)."""
    seen: dict[tuple[str, ...], Record] = {}
    for record in records:
        seen.setdefault(record.key(), record)
    return list(seen.values())


# Fields that hold free text (device output, our messages): the only places a secret is removed.
FREE_TEXT_FIELDS = {"configs": "text", "problems": "message"}


def scrub_secrets(snapshot: Snapshot, secrets: Iterable[str]) -> Snapshot:
    """The last check for a secret the drivers' filters missed.

    Secrets never enter a record by construction (no field holds a password; configuration text is
    filtered by its vendor's rules in the driver). This final pass:
    - removes known secrets from free text (configuration text, problem messages): distinctive ones
      wherever they occur, short ones only as whole tokens (drivers.sanitize.redact_values);
    - never changes a structured field (an identity, a name, an address): one that contains a
      distinctive secret is *flagged* as a suspected leak, by field path, and left as it is — a serial
      number "2150PDN123456" is not a leak of the password "12345".
    """
    values = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
    if not values:
        return snapshot
    long_ones = distinctive(values)
    text = snapshot.canonical_json()
    if not any(v in text for v in values):
        return snapshot
    data = snapshot.model_dump(mode="json")
    redacted: list[str] = []
    for section, name in FREE_TEXT_FIELDS.items():
        for index, record in enumerate(data[section]):
            cleaned = redact_values(record[name], values, min_length=MIN_SECRET_LENGTH)
            if cleaned != record[name]:
                record[name] = cleaned
                redacted.append(f"{section}[{index}].{name}")
    suspected: list[str] = []

    def look(value: Any, path: str) -> None:
        if isinstance(value, str):
            if any(v in value for v in long_ones):
                suspected.append(path)
        elif isinstance(value, dict):
            for k, v in value.items():
                look(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                look(v, f"{path}[{i}]")

    for section, content in data.items():
        free = FREE_TEXT_FIELDS.get(section)
        items = content if isinstance(content, list) else [content]
        for index, record in enumerate(items):
            if isinstance(record, dict):
                for k, v in record.items():
                    if k != free:
                        look(v, f"{section}[{index}].{k}" if isinstance(content, list) else f"{section}.{k}")
    new_problems = []
    if redacted:
        new_problems.append(
            _leak_problem(snapshot, f"a credential secret was removed from {', '.join(redacted[:5])}")
        )
    if suspected:
        new_problems.append(
            _leak_problem(
                snapshot,
                "suspected leak: a credential secret appears in "
                f"{', '.join(suspected[:5])} (left unchanged; check the device's configuration)",
            )
        )
    if not new_problems:
        return snapshot
    problems = [*(Problem.model_validate(p) for p in data["problems"]), *new_problems]
    data["problems"] = [p.model_dump(mode="json") for p in fold_problems(problems)]
    return Snapshot.model_validate(data)


def _leak_problem(snapshot: Snapshot, message: str) -> Problem:
    return Problem(
        target=snapshot.site.site_id,
        driver="agent",
        stage=Stage.SNAPSHOT,
        kind=ProblemKind.INTERNAL,
        message=message[:2000],
    )
