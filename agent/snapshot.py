"""Assemble the `Snapshot`: one canonical, sorted document whose sha256 is its identity.

Records that would share a key are folded here (the contract refuses duplicate keys): two reports
of one problem become one problem with both messages. As a last line of defence the finished
document is searched for every secret of the credential book; any hit is blanked and recorded.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent import __version__
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

REDACTED = "<removed>"
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


def scrub_secrets(snapshot: Snapshot, secrets: Iterable[str]) -> Snapshot:
    """Blank every occurrence of a known secret in any string of the snapshot.

    Drivers already sanitise what they return; this catches a filter that missed (a device echoing a
    password in a banner, a config line no filter knew). Each hit also becomes a Problem, which names
    where it was found but not the secret.
    """
    needles = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
    if not needles:
        return snapshot
    text = snapshot.canonical_json()
    if not any(n in text for n in needles):
        return snapshot
    hits: list[str] = []

    def clean(value: Any, path: str) -> Any:
        if isinstance(value, str):
            out = value
            for needle in needles:
                if needle in out:
                    out = out.replace(needle, REDACTED)
            if out != value:
                hits.append(path)
            return out
        if isinstance(value, dict):
            return {k: clean(v, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    data = clean(snapshot.model_dump(mode="json"), "snapshot")
    problem = Problem(
        target=snapshot.site.site_id,
        driver="agent",
        stage=Stage.SNAPSHOT,
        kind=ProblemKind.INTERNAL,
        message=f"a credential secret appeared in {len(hits)} field(s) and was removed: "
        + ", ".join(hits[:5]),
    )
    data["problems"] = [*data["problems"], problem.model_dump(mode="json")]
    data["problems"] = [
        p.model_dump(mode="json") for p in fold_problems(Problem.model_validate(p) for p in data["problems"])
    ]
    return Snapshot.model_validate(data)
