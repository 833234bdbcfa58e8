"""Request and response bodies of the REST API (also the source of the OpenAPI schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from collector.db.models import BaselineBase, SnapshotVersionBase
from collector.diff import SiteDiff
from collector.http.params import MAX_ID
from drivers.schema import storable


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


# Request text must be storable by both databases (no NUL, no lone surrogates), else 422.
StoredText = Annotated[str, AfterValidator(storable)]


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
    base_revision: int | None = Field(
        default=None,
        ge=0,
        le=MAX_ID,
        description="The site revision this approval was made from (or If-Match); stale: 409",
    )


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


# ---------------------------------------------------------------- people


class Me(BaseModel):
    name: str
    kind: str = Field(description="user | agent | admin-token")
    role: str | None
    scope: str = Field(description="all | regions | customers")
    scope_ids: list[int]
    customer_admin: bool


class RegionPublic(BaseModel):
    name: str
    customers: int


class RegionList(BaseModel):
    regions: list[RegionPublic]


class RegionRequest(Body):
    name: str = Field(min_length=1, max_length=100)


class CustomerPublic(BaseModel):
    id: int
    name: str
    region: str | None
    sites: int
    disabled: bool


class CustomerList(BaseModel):
    customers: list[CustomerPublic]


class CustomerRequest(Body):
    name: str = Field(min_length=1, max_length=200)
    region: str | None = Field(default=None, max_length=100)


class UserPublic(BaseModel):
    id: int
    name: str
    full_name: str | None
    role: str
    scope: str
    regions: list[str]
    customers: list[str]
    customer: str | None = Field(description="A customer user's own customer")
    customer_admin: bool
    totp: bool
    disabled: bool
    revision: int = Field(description="Send it back (If-Match or base_revision) when editing")
    created_at: datetime
    last_sign_in_at: datetime | None


class UserList(BaseModel):
    users: list[UserPublic]


class UserCreate(Body):
    name: str = Field(min_length=1, max_length=100)
    role: str = Field(description="admin | technician | support | customer")
    regions: list[str] = Field(default_factory=list, max_length=100)
    customers: list[str] = Field(default_factory=list, max_length=1000)
    password: str | None = Field(default=None, max_length=1000, description="Else: issue a reset link")
    full_name: str | None = Field(default=None, max_length=200)
    customer_admin: bool = False


class UserUpdate(Body):
    role: str
    regions: list[str] = Field(default_factory=list, max_length=100)
    customers: list[str] = Field(default_factory=list, max_length=1000)
    full_name: str | None = Field(default=None, max_length=200)
    customer_admin: bool = False
    base_revision: int | None = Field(default=None, description="The revision edited (or If-Match)")


class ResetLink(BaseModel):
    user: str
    path: str = Field(description="/reset/<one-time secret>; shown once")
    url: str | None = Field(description="With the configured public URL")
    expires_at: datetime


class TokenPublic(BaseModel):
    id: int
    name: str
    hint: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenList(BaseModel):
    tokens: list[TokenPublic]


class TokenRequest(Body):
    name: str = Field(min_length=1, max_length=100)


class TokenCreated(TokenPublic):
    token: str = Field(description="The bearer token; shown only now")


class DevicePublic(BaseModel):
    id: int
    user: str
    label: str
    status: str
    created_at: datetime
    created_from: str | None
    approved_by: str | None
    approved_at: datetime | None
    last_seen_at: datetime | None


class DeviceList(BaseModel):
    devices: list[DevicePublic]


class AuditPublic(BaseModel):
    id: int
    at: datetime
    kind: str
    outcome: str
    actor: str
    actor_kind: str
    client: str | None
    device_id: int | None
    target: str | None
    customer_id: int | None
    site_id: int | None
    detail: dict[str, Any]


class AuditList(BaseModel):
    total: int
    entries: list[AuditPublic]


# ---------------------------------------------------------------- vault


class VaultEntryPublic(BaseModel):
    """An entry as lists show it: never a value, only which secret fields it holds."""

    entry_id: int
    label: str
    kind: str
    username: str | None
    device_id: str | None
    secret_fields: list[str]
    settings: dict[str, Any]
    notes: str | None
    version: int = Field(description="Send it back with a change: a stale one is refused (409)")
    updated_by: str
    updated_at: datetime
    flag: str | None = Field(description="e.g. 'device replaced by …': the entry may no longer fit")


class VaultEntryList(BaseModel):
    site_id: str
    entries: list[VaultEntryPublic]


class VaultEntryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="login", description="login | snmp | enable | wifi | vms | other")
    username: str | None = Field(default=None, max_length=200)
    device_id: str | None = Field(default=None, max_length=200)
    settings: dict[str, Any] = Field(default_factory=dict, description="drivers, vendors, targets, SNMPv3")
    secrets: dict[str, str] = Field(
        default_factory=dict, description="password, enable_secret, snmp_community, snmp_v3_auth_key/priv_key"
    )
    notes: str | None = Field(default=None, max_length=2000)
    version: int | None = Field(default=None, description="The version this change was made from")


class RevealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(default="password", description="Which secret field")
    version: int | None = Field(default=None, description="An earlier value (history), admins only")


class RevealResponse(BaseModel):
    entry_id: int
    field: str
    value: str
    version: int


class VaultHistoryItem(BaseModel):
    version: int
    username: str | None
    replaced_at: datetime
    replaced_by: str


class VaultHistoryList(BaseModel):
    entry_id: int
    history: list[VaultHistoryItem]


class VaultImportResponse(BaseModel):
    site_id: str
    created: int
    updated: int


class AgentCredentials(BaseModel):
    """The agent's own site's credential sets, in its credential-file format (held in memory only)."""

    site_id: str
    credentials: list[dict[str, Any]]
