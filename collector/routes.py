"""The whole URL table, with what the OpenAPI document needs to describe each route."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel

from collector.api import agents, baselines, diffs, enrol, meta, sites, snapshots
from collector.api.schemas import (
    AgentPublic,
    BaselineRequest,
    BaselineState,
    DiffResponse,
    EnrolRequest,
    EnrolResponse,
    IngestResponse,
    SiteDetail,
    SiteList,
    VersionList,
    VersionPublic,
)
from collector.keys import openapi_key
from collector.openapi import build_openapi
from drivers.schema import Snapshot

API = "/api/v1"


@dataclass(frozen=True)
class Param:
    name: str
    where: Literal["query", "header"]
    description: str
    required: bool = False
    type: Literal["integer", "string"] = "integer"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    name: str
    summary: str
    auth: Literal["none", "agent", "admin"]
    status: int = 200
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    media_type: str = "application/json"
    params: tuple[Param, ...] = ()
    errors: tuple[int, ...] = ()


ROUTES: tuple[Route, ...] = (
    Route("POST", f"{API}/enrol", enrol.enrol, "enrol", "Trade a one-time enrolment code for an agent token",
          "none", 201, EnrolRequest, EnrolResponse, errors=(403, 413, 422)),
    Route("POST", f"{API}/snapshots", snapshots.push_snapshot, "push-snapshot",
          "Push a snapshot of the agent's site (gzip allowed); 200 when seen again or replayed",
          "agent", 201, Snapshot, IngestResponse,
          params=(Param("Idempotency-Key", "header", "The snapshot's content hash; a retry is harmless",
                        type="string"),
                  Param("Content-Encoding", "header", "identity or gzip", type="string")),
          errors=(400, 401, 403, 413, 415, 422, 503)),
    Route("GET", f"{API}/sites", sites.list_sites, "sites", "All sites", "admin", response=SiteList,
          errors=(401, 403)),
    Route("GET", f"{API}/sites/{{site}}", sites.site_detail, "site",
          "One site: latest version, baseline, agents", "admin", response=SiteDetail, errors=(401, 403, 404)),
    Route("GET", f"{API}/sites/{{site}}/versions", sites.list_versions, "versions", "Versions, newest first",
          "admin", response=VersionList,
          params=(Param("limit", "query", "Page size (max 500)"),
                  Param("offset", "query", "Versions to skip")),
          errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/sites/{{site}}/versions/{{version}}", sites.version_detail, "version",
          "One version's metadata and its diff summary", "admin", response=VersionPublic,
          errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/sites/{{site}}/versions/{{version}}/snapshot.json", sites.download_snapshot,
          "version-snapshot", "Download the snapshot (canonical JSON, as an attachment)", "admin",
          response=Snapshot, errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/sites/{{site}}/diff", diffs.diff_versions, "diff", "Diff between any two versions",
          "admin", response=DiffResponse,
          params=(Param("from", "query", "Older version", True), Param("to", "query", "Newer version", True)),
          errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/sites/{{site}}/diff/baseline", diffs.diff_baseline, "diff-baseline",
          "Diff of a version (default: latest) against the approved baseline", "admin", response=DiffResponse,
          params=(Param("version", "query", "Version to compare (default latest)"),),
          errors=(401, 403, 404, 409, 422)),
    Route("GET", f"{API}/sites/{{site}}/baseline", baselines.get_baseline, "baseline",
          "The approved baseline and its history", "admin", response=BaselineState, errors=(401, 403, 404)),
    Route("POST", f"{API}/sites/{{site}}/baseline", baselines.approve_baseline, "approve-baseline",
          "Approve a version as the documented baseline", "admin", 201, BaselineRequest, BaselineState,
          errors=(401, 403, 404, 422)),
    Route("DELETE", f"{API}/agents/{{agent_id}}", agents.revoke_agent, "revoke-agent",
          "Revoke an agent's token", "admin", response=AgentPublic, errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/openapi.json", meta.openapi, "openapi", "This document", "none"),
)  # fmt: skip


@functools.cache
def openapi_document() -> dict[str, Any]:
    """Built once per process: generating the JSON schemas takes a few hundred milliseconds."""
    return build_openapi(ROUTES)


def setup_routes(app: web.Application) -> None:
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
    app[openapi_key] = openapi_document()
