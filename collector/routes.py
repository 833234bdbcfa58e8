"""The whole URL table, with what the OpenAPI document needs to describe each route."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel

from collector.api import (
    agents,
    alerts,
    audit,
    baselines,
    diffs,
    enrol,
    exports,
    fleet,
    handover,
    meta,
    people,
    record,
    search,
    sites,
    snapshots,
    vault,
)
from collector.api.alerts import (
    DeliveryList,
    ScheduleRequest,
    ScheduleState,
    ShareCreated,
    ShareRequest,
    SubscriptionList,
    SubscriptionPublic,
    SubscriptionRequest,
    WebhookList,
    WebhookPublic,
    WebhookRequest,
)
from collector.api.guard import guarded
from collector.api.record_schemas import (
    AttachmentList,
    AttachmentPublic,
    VisitList,
    VisitPublic,
    VisitRequest,
)
from collector.api.schemas import (
    AgentCredentials,
    AgentPublic,
    AuditList,
    BaselineRequest,
    BaselineState,
    CustomerList,
    CustomerPublic,
    CustomerRequest,
    DeviceList,
    DevicePublic,
    DiffResponse,
    EnrolRequest,
    EnrolResponse,
    IngestResponse,
    Me,
    RegionList,
    RegionPublic,
    RegionRequest,
    ResetLink,
    RevealRequest,
    RevealResponse,
    SiteDetail,
    SiteList,
    TokenCreated,
    TokenList,
    TokenPublic,
    TokenRequest,
    UserCreate,
    UserList,
    UserPublic,
    UserUpdate,
    VaultEntryList,
    VaultEntryPublic,
    VaultEntryRequest,
    VaultHistoryList,
    VaultImportResponse,
    VersionList,
    VersionPublic,
)
from collector.auth import Action
from collector.fleet.reports import FleetSummary
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
    action: Action  # what the caller must be allowed to do; enforced by ``guarded`` before the view
    status: int = 200
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    media_type: str = "application/json"
    params: tuple[Param, ...] = ()
    errors: tuple[int, ...] = ()


A = Action
LIST = (Param("limit", "query", "Page size (max 500)"), Param("offset", "query", "Entries to skip"))
AUDIT_FILTERS = (
    Param("kind", "query", "Kind, or its prefix (signin, site.read, ...)", type="string"),
    Param("actor", "query", "User name, agent name or admin-token", type="string"),
    Param("customer_id", "query", "Entries about this customer"),
    Param("site_id", "query", "Entries about this site"),
    Param("since", "query", "ISO 8601 time, inclusive", type="string"),
    Param("until", "query", "ISO 8601 time, exclusive", type="string"),
    *LIST,
)
EXPORT_PARAMS = (
    Param("version", "query", "Version to render (default latest)"),
    Param(
        "credentials",
        "query",
        "1: add the credentials annex to the PDF (staff who may reveal "
        "passwords; every value audited as a reveal; never cached)",
    ),
)
EXPORT_TYPES = "application/pdf,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv"
IF_MATCH = Param("If-Match", "header", 'The ETag ("r<revision>") the edit was made from', type="string")
ROUTES: tuple[Route, ...] = (
    Route("POST", f"{API}/enrol", enrol.enrol, "enrol", "Trade a one-time enrolment code for an agent token",
          A.PUBLIC, 201, EnrolRequest, EnrolResponse, errors=(403, 413, 422)),
    Route("POST", f"{API}/snapshots", snapshots.push_snapshot, "push-snapshot",
          "Push a snapshot of the agent's site (gzip allowed); 200 when seen again or replayed",
          A.PUSH_SNAPSHOT, 201, Snapshot, IngestResponse,
          params=(Param("Idempotency-Key", "header", "The snapshot's content hash; a retry is harmless",
                        type="string"),
                  Param("Content-Encoding", "header", "identity or gzip", type="string")),
          errors=(400, 401, 403, 413, 415, 422, 429, 503)),
    Route("GET", f"{API}/sites", sites.list_sites, "sites", "The sites in the caller's scope", A.READ_SITE,
          response=SiteList, errors=(401, 403, 429)),
    Route("GET", f"{API}/sites/{{site}}", sites.site_detail, "site",
          "One site: latest version, baseline, agents (ETag: its revision)", A.READ_SITE, response=SiteDetail,
          errors=(401, 403, 404)),
    Route("GET", f"{API}/sites/{{site}}/versions", sites.list_versions, "versions", "Versions, newest first",
          A.READ_SITE, response=VersionList, params=LIST, errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/sites/{{site}}/versions/{{version}}", sites.version_detail, "version",
          "One version's metadata and its diff summary", A.READ_SITE, response=VersionPublic,
          errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/sites/{{site}}/versions/{{version}}/snapshot.json", sites.download_snapshot,
          "version-snapshot", "Download the snapshot (canonical JSON, as an attachment; audited)",
          A.EXPORT_SITE, response=Snapshot, errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/sites/{{site}}/export.{{format}}", exports.export, "export",
          "The as-built record as handover PDF, XLSX workbook, devices CSV or JSON (attachment; audited)",
          A.EXPORT_SITE, media_type=f"{EXPORT_TYPES},application/json", params=EXPORT_PARAMS,
          errors=(401, 403, 404, 422, 503)),
    Route("GET", f"{API}/sites/{{site}}/diagram.svg", exports.diagram, "diagram",
          "The wiring diagram (SVG: switches, ports, what is plugged in; audited as an export)",
          A.EXPORT_SITE, media_type="image/svg+xml", params=EXPORT_PARAMS[:1], errors=(401, 403, 404, 422)),
    Route("POST", f"{API}/sites/{{site}}/handover-jobs", handover.start_job, "handover-job",
          "Render the handover PDF as a durable job (202; poll its status_url, then fetch file_url; "
          "audited). The credentials annex is never a job: export.pdf?credentials=1",
          A.EXPORT_SITE, 202, params=EXPORT_PARAMS[:1], errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/sites/{{site}}/handover-jobs/{{render}}", handover.job_state, "handover-job-state",
          "A handover job's state: queued, running, done (with file_url) or failed (with the error)",
          A.EXPORT_SITE, errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/sites/{{site}}/handover-jobs/{{render}}/file", handover.job_file,
          "handover-job-file", "The rendered handover PDF (audited as an export; 409 until done)",
          A.EXPORT_SITE, media_type="application/pdf", errors=(401, 403, 404, 409, 422)),
    Route("GET", f"{API}/sites/{{site}}/diff", diffs.diff_versions, "diff", "Diff between any two versions",
          A.READ_SITE, response=DiffResponse,
          params=(Param("from", "query", "Older version", True), Param("to", "query", "Newer version", True)),
          errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/sites/{{site}}/diff/baseline", diffs.diff_baseline, "diff-baseline",
          "Diff of a version (default: latest) against the approved baseline", A.READ_SITE,
          response=DiffResponse, params=(Param("version", "query", "Version to compare (default latest)"),),
          errors=(401, 403, 404, 409, 422)),
    Route("GET", f"{API}/sites/{{site}}/baseline", baselines.get_baseline, "baseline",
          "The approved baseline and its history (ETag: the site's revision)", A.READ_SITE,
          response=BaselineState, errors=(401, 403, 404)),
    Route("POST", f"{API}/sites/{{site}}/baseline", baselines.approve_baseline, "approve-baseline",
          "Approve a version as the documented baseline; a stale If-Match / base_revision is refused (409)",
          A.APPROVE_BASELINE, 201, BaselineRequest, BaselineState, params=(IF_MATCH,),
          errors=(401, 403, 404, 409, 412, 422)),
    Route("DELETE", f"{API}/agents/{{agent_id}}", agents.revoke_agent, "revoke-agent",
          "Revoke an agent's token", A.MANAGE_AGENTS, response=AgentPublic, errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/me", people.me, "me", "Who the token belongs to: role and scope", A.OWN_ACCOUNT,
          response=Me, errors=(401,)),
    Route("GET", f"{API}/regions", people.list_regions, "regions", "Regions and their customer counts",
          A.MANAGE_PEOPLE, response=RegionList, errors=(401, 403)),
    Route("POST", f"{API}/regions", people.create_region, "create-region", "Add a region", A.MANAGE_PEOPLE,
          201, RegionRequest, RegionPublic, errors=(401, 403, 409, 422)),
    Route("GET", f"{API}/customers", people.list_customers, "customers", "Customers in the caller's scope",
          A.READ_CUSTOMERS, response=CustomerList, errors=(401, 403)),
    Route("POST", f"{API}/customers", people.create_customer, "create-customer",
          "Add a customer (in a region, created when new)", A.MANAGE_PEOPLE, 201, CustomerRequest,
          CustomerPublic, errors=(401, 403, 409, 422)),
    Route("GET", f"{API}/users", people.list_users, "users", "Every user with role and scope",
          A.MANAGE_PEOPLE, response=UserList, errors=(401, 403)),
    Route("POST", f"{API}/users", people.create_user, "create-user", "Add a user", A.MANAGE_PEOPLE, 201,
          UserCreate, UserPublic, errors=(401, 403, 409, 422)),
    Route("GET", f"{API}/users/{{user_id}}", people.get_user, "user", "One user (ETag: its revision)",
          A.MANAGE_PEOPLE, response=UserPublic, errors=(401, 403, 404)),
    Route("PATCH", f"{API}/users/{{user_id}}", people.update_user, "update-user",
          "Change role, scope, name; needs the revision edited (If-Match or base_revision)", A.MANAGE_PEOPLE,
          body=UserUpdate, response=UserPublic, params=(IF_MATCH,),
          errors=(401, 403, 404, 409, 412, 422, 428)),
    Route("POST", f"{API}/users/{{user_id}}/disable", people.disable_user, "disable-user",
          "Disable a user (ends their sessions; tokens stop working)", A.MANAGE_PEOPLE, response=UserPublic,
          errors=(401, 403, 404, 409)),
    Route("POST", f"{API}/users/{{user_id}}/enable", people.enable_user, "enable-user", "Enable a user again",
          A.MANAGE_PEOPLE, response=UserPublic, errors=(401, 403, 404)),
    Route("POST", f"{API}/users/{{user_id}}/password-reset", people.reset_link, "reset-link",
          "Issue a one-time password-reset link (shown once)", A.MANAGE_PEOPLE, 201, response=ResetLink,
          errors=(401, 403, 404)),
    Route("GET", f"{API}/tokens", people.list_tokens, "tokens", "The caller's personal API tokens",
          A.OWN_ACCOUNT, response=TokenList, errors=(401, 403)),
    Route("POST", f"{API}/tokens", people.create_token, "create-token",
          "A new personal API token (the caller's permissions; shown once)", A.OWN_ACCOUNT, 201, TokenRequest,
          TokenCreated, errors=(401, 403, 422)),
    Route("DELETE", f"{API}/tokens/{{token_id}}", people.revoke_token, "revoke-token",
          "Revoke one of the caller's tokens (admins: any)", A.OWN_ACCOUNT, response=TokenPublic,
          errors=(401, 403, 404)),
    Route("GET", f"{API}/devices", people.list_devices, "devices", "Registered devices, pending first",
          A.MANAGE_DEVICES, response=DeviceList,
          params=(Param("status", "query", "pending | approved | revoked", type="string"),),
          errors=(401, 403, 422)),
    Route("POST", f"{API}/devices/{{device_id}}/approve", people.approve_device, "approve-device",
          "Approve a pending device", A.MANAGE_DEVICES, response=DevicePublic, errors=(401, 403, 404)),
    Route("POST", f"{API}/devices/{{device_id}}/revoke", people.revoke_device, "revoke-device",
          "Revoke a device (its sessions end at once)", A.MANAGE_DEVICES, response=DevicePublic,
          errors=(401, 403, 404)),
    Route("GET", f"{API}/audit", audit.list_audit, "audit",
          "The audit log, newest first (admins: all; a customer's admin: entries about its customer)",
          A.READ_AUDIT, response=AuditList, params=AUDIT_FILTERS, errors=(401, 403, 422)),
    Route("GET", f"{API}/sites/{{site}}/vault", vault.list_entries, "vault",
          "The site's vault entries, values masked (audited as a read)", A.READ_VAULT,
          response=VaultEntryList, errors=(401, 403, 404)),
    Route("POST", f"{API}/sites/{{site}}/vault", vault.create_entry, "vault-create",
          "Add an entry (its secret fields sealed at once; audited)", A.EDIT_VAULT, 201, VaultEntryRequest,
          VaultEntryPublic, errors=(401, 403, 404, 409, 422, 503)),
    Route("PUT", f"{API}/sites/{{site}}/vault/{{entry}}", vault.update_entry, "vault-update",
          "Change an entry; `version` must be the one edited (409 when stale); the old value goes to history",
          A.EDIT_VAULT, body=VaultEntryRequest, response=VaultEntryPublic,
          errors=(401, 403, 404, 409, 422, 428, 503)),
    Route("POST", f"{API}/sites/{{site}}/vault/{{entry}}/reveal", vault.reveal, "vault-reveal",
          "One secret value in clear (audited: who, what, when, device); `version` for an earlier value",
          A.REVEAL_SECRET, body=RevealRequest, response=RevealResponse, errors=(401, 403, 404, 422, 503)),
    Route("GET", f"{API}/sites/{{site}}/vault/{{entry}}/history", vault.entry_history, "vault-history",
          "Earlier values of an entry (metadata only)", A.READ_VAULT_HISTORY, response=VaultHistoryList,
          errors=(401, 403, 404)),
    Route("POST", f"{API}/sites/{{site}}/vault/import", vault.import_entries, "vault-upload",
          "Import the agent's credentials YAML (application/yaml) or a CSV (text/csv); all or nothing",
          A.EDIT_VAULT, response=VaultImportResponse, errors=(401, 403, 404, 413, 415, 422)),
    Route("GET", f"{API}/agent/credentials", vault.agent_credentials, "agent-credentials",
          "An agent's own site's credential sets for a scan (memory only; audited)", A.FETCH_CREDENTIALS,
          response=AgentCredentials, errors=(401, 403, 404, 503)),
    Route("GET", f"{API}/sites/{{site}}/attachments", record.list_attachments, "record-attachments",
          "The site's photos and files, newest first (audited as a read)", A.READ_SITE,
          response=AttachmentList, params=(Param("kind", "query", "photo, floor_plan, ...", type="string"),),
          errors=(401, 403, 404, 422)),
    Route("POST", f"{API}/sites/{{site}}/attachments", record.upload_attachment, "record-upload",
          "Upload a file (multipart/form-data: kind, caption, device_id, then file); type sniffed, images "
          "stored without EXIF/GPS", A.EDIT_RECORD, 201, response=AttachmentPublic,
          errors=(401, 403, 404, 413, 415, 422)),
    Route("GET", f"{API}/sites/{{site}}/attachments/{{attachment}}", record.download_attachment,
          "record-download", "Download one file (audited), or its thumbnail/preview", A.READ_SITE,
          media_type="application/octet-stream",
          params=(Param("variant", "query", "file (default), thumbnail or preview", type="string"),),
          errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/sites/{{site}}/visits", record.list_visits, "record-visits",
          "Service visits, newest first, and the last visit's date", A.READ_SITE, response=VisitList,
          errors=(401, 403, 404)),
    Route("POST", f"{API}/sites/{{site}}/visits", record.add_visit, "record-visit-add",
          "Note a service visit (date, technician, reason, what was done)", A.ADD_VISIT, 201, VisitRequest,
          VisitPublic, errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/alerts/subscriptions", alerts.list_subscriptions, "alert-subscriptions",
          "The caller's e-mail alert subscriptions", A.SUBSCRIBE_ALERTS, response=SubscriptionList,
          errors=(401, 403)),
    Route("POST", f"{API}/alerts/subscriptions", alerts.create_subscription, "alert-subscribe",
          "Subscribe to a site's (or a customer's) change and overdue-scan alerts, within one's scope",
          A.SUBSCRIBE_ALERTS, 201, SubscriptionRequest, SubscriptionPublic, errors=(401, 403, 404, 422)),
    Route("DELETE", f"{API}/alerts/subscriptions/{{subscription}}", alerts.delete_subscription,
          "alert-unsubscribe", "Remove one of the caller's subscriptions", A.SUBSCRIBE_ALERTS, 204,
          errors=(401, 403, 404)),
    Route("GET", f"{API}/alerts/webhooks", alerts.list_webhooks, "alert-webhooks", "Webhook endpoints",
          A.MANAGE_ALERTS, response=WebhookList, errors=(401, 403)),
    Route("POST", f"{API}/alerts/webhooks", alerts.create_webhook, "alert-webhook-create",
          "Add a webhook endpoint; the reply holds its HMAC signing secret, once", A.MANAGE_ALERTS, 201,
          WebhookRequest, WebhookPublic, errors=(401, 403, 404, 422)),
    Route("DELETE", f"{API}/alerts/webhooks/{{webhook}}", alerts.delete_webhook, "alert-webhook-remove",
          "Switch a webhook endpoint off", A.MANAGE_ALERTS, response=WebhookPublic, errors=(401, 403, 404)),
    Route("GET", f"{API}/alerts/deliveries", alerts.list_deliveries, "alert-deliveries",
          "The delivery log, newest first: status, attempts, last error, next try", A.MANAGE_ALERTS,
          response=DeliveryList, params=(Param("limit", "query", "At most (max 500)"),), errors=(401, 403)),
    Route("PUT", f"{API}/sites/{{site}}/alerts/schedule", alerts.put_schedule, "alert-schedule",
          "How often the site's scan is expected (an alert when one is late); null: no expectation",
          A.MANAGE_ALERTS, body=ScheduleRequest, response=ScheduleState, errors=(401, 403, 404, 422)),
    Route("POST", f"{API}/sites/{{site}}/share-links", alerts.create_share, "share-create",
          "A one-time, expiring, password-protected download link of the site's deliverables (no secrets)",
          A.SHARE_SITE, 201, ShareRequest, ShareCreated, errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/customers/{{customer}}/fleet", fleet.fleet, "fleet",
          "A customer's fleet reports across its sites' latest versions: firmware currency per model, "
          "clock skew with NTP servers, recording drift against each baseline, PoE budget per switch "
          "(audited as fleet.read)", A.READ_SITE, response=FleetSummary, errors=(401, 403, 404)),
    Route("GET", f"{API}/customers/{{customer}}/fleet/{{report}}", fleet.fleet_report, "fleet-report",
          "One fleet report: firmware, clock, recording or poe", A.READ_SITE, errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/customers/{{customer}}/fleet-export.{{format}}", fleet.fleet_export, "fleet-export",
          "The fleet reports as XLSX (one sheet per report, or ?report=) or one report as CSV (audited)",
          A.EXPORT_SITE, media_type=EXPORT_TYPES,
          params=(Param("report", "query", "firmware, clock, recording or poe (CSV: required)",
                        type="string"),),
          errors=(401, 403, 404, 422)),
    Route("GET", f"{API}/search", search.search, "search",
          "Devices (across history: a unit that left a site is still found), sites and notes in the "
          "caller's scope; MAC in any spelling", A.READ_SITE, response=search.SearchResponse,
          params=(Param("q", "query", "What to look for (2+ characters)", required=True, type="string"),),
          errors=(401, 403, 422)),
    Route("GET", f"{API}/openapi.json", meta.openapi, "openapi", "This document", A.PUBLIC),
)  # fmt: skip


@functools.cache
def openapi_document() -> dict[str, Any]:
    """Built once per process: generating the JSON schemas takes a few hundred milliseconds."""
    return build_openapi(ROUTES)


def setup_routes(app: web.Application) -> None:
    for route in ROUTES:
        app.router.add_route(route.method, route.path, guarded(route.action, route.handler), name=route.name)
    app[openapi_key] = openapi_document()
