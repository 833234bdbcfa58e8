"""Request and response bodies of the REST API (also the source of the OpenAPI schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from collector.db.models import BaselineBase, SnapshotVersionBase
from collector.diff import SiteDiff
from drivers.schema import storable


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


# Request text must be storable by both databases (no NUL, no lone surrogates), else 422.
StoredText = Annotated[str, AfterValidator(storable)]
MAX_ID = 2**31 - 1  # INTEGER columns on PostgreSQL


class EnrolRequest(Body):
    code: StoredText = Field(
        min_length=4, max_length=100, description="One-time enrolment code, e.g. ABCD-EFGH-JKLM-NPQR"
    )
    agent_name: StoredText = Field(min_length=1, max_length=200, description="Name of the agent machine")


class EnrolResponse(BaseModel):
    agent_id: int
    token: str = Field(description="Bearer token for POST /api/v1/snapshots; shown only once")
    site_id: str = Field(description="The site this agent pushes to (snapshot.site.site_id)")


class DiffAgainst(BaseModel):
    kind: str = Field(description="baseline | previous")
    version: int


class StoredDiffSummary(BaseModel):
    against: DiffAgainst
    empty: bool
    counts: dict[str, int] = Field(description="Changes per kind: replaced, missing, added, moved, changed")
    lines: list[dict[str, str]] = Field(description="One {kind, device_id, summary} per change")
    truncated: bool


class IngestResponse(BaseModel):
    site_id: str
    version: int
    content_hash: str
    created: bool = Field(description="True when this push created the version")
    reason: str | None = Field(default=None, description="When not created: seen_again | replay")
    seen_count: int
    diff: StoredDiffSummary | None = Field(description="Against the baseline, else the previous version")


class SitePublic(BaseModel):
    site_id: str
    name: str | None
    customer: str
    latest_version: int
    baseline_version: int | None


class SiteList(BaseModel):
    sites: list[SitePublic]


class AgentPublic(BaseModel):
    agent_id: int
    name: str
    site_id: str
    created_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None


class VersionPublic(SnapshotVersionBase):
    pass


class BaselinePublic(BaselineBase):
    pass


class SiteDetail(SitePublic):
    latest: VersionPublic | None
    baseline: BaselinePublic | None
    agents: list[AgentPublic]


class VersionList(BaseModel):
    site_id: str
    versions: list[VersionPublic] = Field(description="Newest first")


class BaselineRequest(Body):
    version: int = Field(ge=1, le=MAX_ID, description="The version to approve as the documented state")
    note: StoredText | None = Field(default=None, max_length=4000)


class BaselineState(BaseModel):
    site_id: str
    current: BaselinePublic | None
    history: list[BaselinePublic] = Field(description="Every approval, newest first")


class VersionRef(BaseModel):
    version: int
    content_hash: str


class DiffResponse(BaseModel):
    site_id: str
    from_: VersionRef = Field(alias="from")
    to: VersionRef
    against: str = Field(description="versions | baseline")
    counts: dict[str, int]
    diff: SiteDiff

    model_config = ConfigDict(populate_by_name=True)


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    field: str | None = Field(default=None, description="Path of the field that failed validation")
    errors: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail
    request_id: str
