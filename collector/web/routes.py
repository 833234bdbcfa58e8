"""The pages' URL table and ``setup_web``, the one call create_app makes to mount them.

Every page declares the action it needs (collector.auth.Action); ``page`` enforces it before the
handler runs. The isolation tests walk this table: a page without a declaration fails them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from collector.auth import Action
from collector.changes_words import KIND_WORDS
from collector.keys import config_key
from collector.secretbox import SESSION_KEY_FILE, load_or_create_key
from collector.throttle import SlowDown
from collector.web.filters import FILTERS
from collector.web.guard import login_account_throttle_key, login_client_throttle_key, page
from collector.web.middleware import add_security_headers, pages_middleware
from collector.web.pages import (
    account,
    admin,
    alerts,
    devices,
    documents,
    fleet,
    handover,
    record,
    settings,
    sites,
    vault,
)
from collector.web.render import BrandingCache, branding_cache_key, cached_static_url, jinja_key
from collector.web.session import session_layer

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"


@dataclass(frozen=True)
class Page:
    method: str
    path: str
    handler: Handler
    name: str
    action: Action


A = Action
PAGES: tuple[Page, ...] = (
    Page("GET", "/", sites.sites_page, "web-sites", A.READ_SITE),
    Page("GET", "/login", account.login_form, "web-login", A.PUBLIC),
    Page("POST", "/login", account.login_submit, "web-login-submit", A.PUBLIC),
    Page("GET", "/login/totp", account.login_totp_form, "web-login-totp", A.PUBLIC),
    Page("POST", "/login/totp", account.login_totp_submit, "web-login-totp-submit", A.PUBLIC),
    Page("POST", "/logout", account.logout, "web-logout", A.PUBLIC),
    Page("GET", "/reset/{token}", account.reset_form, "web-reset", A.PUBLIC),
    Page("POST", "/reset/{token}", account.reset_submit, "web-reset-submit", A.PUBLIC),
    # The set-up page serves a signed-in user and one half-way through a sign-in that requires it.
    Page("GET", "/account/totp", account.totp_form, "web-totp", A.PUBLIC),
    Page("POST", "/account/totp", account.totp_submit, "web-totp-submit", A.PUBLIC),
    Page("GET", "/account", account.account_page, "web-account", A.OWN_ACCOUNT),
    Page("GET", "/account/password", account.password_form, "web-password", A.OWN_ACCOUNT),
    Page("POST", "/account/password", account.password_submit, "web-password-submit", A.OWN_ACCOUNT),
    Page("POST", "/account/tokens", account.token_create, "web-token-create", A.OWN_ACCOUNT),
    Page("POST", "/account/tokens/{token_id}/revoke", account.token_revoke, "web-token-revoke",
         A.OWN_ACCOUNT),
    Page("GET", "/sites/{site}", sites.site_page, "web-site", A.READ_SITE),
    Page("GET", "/sites/{site}/device", devices.device_page, "web-device", A.READ_SITE),
    Page("GET", "/sites/{site}/versions", sites.versions_page, "web-versions", A.READ_SITE),
    Page("GET", "/sites/{site}/versions/{version}", sites.version_page, "web-version", A.READ_SITE),
    Page("GET", "/sites/{site}/versions/{version}/snapshot.json", sites.download_snapshot, "web-snapshot",
         A.EXPORT_SITE),
    Page("POST", "/sites/{site}/versions/{version}/approve", sites.approve_version, "web-approve",
         A.APPROVE_BASELINE),
    Page("GET", "/sites/{site}/diff", sites.diff_page, "web-diff", A.READ_SITE),
    Page("GET", "/sites/{site}/export.{format}", documents.export_download, "web-export", A.EXPORT_SITE),
    Page("GET", "/sites/{site}/diagram", documents.diagram_page, "web-diagram", A.READ_SITE),
    Page("GET", "/sites/{site}/diagram.svg", documents.diagram_svg, "web-diagram-svg", A.EXPORT_SITE),
    Page("POST", "/sites/{site}/handover", handover.start_submit, "web-handover-start", A.EXPORT_SITE),
    Page("POST", "/sites/{site}/handover/sealed", handover.sealed_submit, "web-handover-sealed",
         A.REVEAL_SECRET),
    Page("GET", "/sites/{site}/handover/{render}", handover.status_page, "web-handover", A.EXPORT_SITE),
    Page("GET", "/sites/{site}/handover/{render}/file", handover.file_download, "web-handover-file",
         A.EXPORT_SITE),
    Page("GET", "/sites/{site}/vault", vault.vault_page, "web-vault", A.READ_VAULT),
    Page("POST", "/sites/{site}/vault", vault.entry_submit, "web-vault-create", A.EDIT_VAULT),
    Page("POST", "/sites/{site}/vault/upload", vault.import_submit, "web-vault-upload", A.EDIT_VAULT),
    Page("POST", "/sites/{site}/vault/{entry}", vault.entry_submit, "web-vault-update", A.EDIT_VAULT),
    Page("POST", "/sites/{site}/vault/{entry}/reveal", vault.reveal_submit, "web-vault-reveal",
         A.REVEAL_SECRET),
    Page("GET", "/sites/{site}/vault/{entry}/history", vault.history_page, "web-vault-history",
         A.READ_VAULT_HISTORY),
    Page("GET", "/sites/{site}/files", record.files_page, "web-record-files", A.READ_SITE),
    Page("POST", "/sites/{site}/files", record.upload_submit, "web-record-upload", A.EDIT_RECORD),
    Page("GET", "/sites/{site}/files/{attachment}", record.file_download, "web-record-file", A.READ_SITE),
    Page("POST", "/sites/{site}/files/{attachment}/remove", record.file_remove_submit,
         "web-record-file-remove", A.EDIT_RECORD),
    Page("POST", "/sites/{site}/pins/{pin}/remove", record.pin_remove_submit, "web-record-pin-remove",
         A.EDIT_RECORD),
    Page("GET", "/sites/{site}/plans", record.plans_page, "web-record-plans", A.READ_SITE),
    Page("POST", "/sites/{site}/plans", record.plan_submit, "web-record-plan-upload", A.EDIT_RECORD),
    Page("POST", "/sites/{site}/plans/{plan}/pins", record.pin_submit, "web-record-pin", A.EDIT_RECORD),
    Page("POST", "/sites/{site}/pins/{pin}/repoint", record.repoint_submit, "web-record-repoint",
         A.EDIT_RECORD),
    Page("GET", "/sites/{site}/quote", record.quote_page, "web-record-quote", A.READ_SITE),
    Page("POST", "/sites/{site}/quote", record.quote_submit, "web-record-quote-upload", A.EDIT_RECORD),
    Page("GET", "/sites/{site}/visits", record.visits_page, "web-record-visits", A.READ_SITE),
    Page("POST", "/sites/{site}/visits", record.visit_submit, "web-record-visit-add", A.ADD_VISIT),
    Page("GET", "/customers", admin.customers_page, "web-customers", A.READ_CUSTOMERS),
    Page("POST", "/customers", admin.customer_submit, "web-customer-submit", A.MANAGE_PEOPLE),
    Page("GET", "/customers/{customer}/fleet", fleet.fleet_page, "web-fleet", A.READ_SITE),
    Page("GET", "/customers/{customer}/fleet-export.{format}", fleet.fleet_export, "web-fleet-export",
         A.EXPORT_SITE),
    Page("GET", "/admin/users", admin.users_page, "web-users", A.MANAGE_PEOPLE),
    Page("POST", "/admin/users", admin.user_create, "web-user-create", A.MANAGE_PEOPLE),
    Page("GET", "/admin/users/{user_id}", admin.user_page, "web-user", A.MANAGE_PEOPLE),
    Page("POST", "/admin/users/{user_id}", admin.user_update, "web-user-update", A.MANAGE_PEOPLE),
    Page("POST", "/admin/users/{user_id}/action", admin.user_action, "web-user-action", A.MANAGE_PEOPLE),
    Page("GET", "/admin/regions", admin.regions_page, "web-regions", A.MANAGE_PEOPLE),
    Page("POST", "/admin/regions", admin.region_submit, "web-region-submit", A.MANAGE_PEOPLE),
    Page("POST", "/admin/policy", admin.policy_submit, "web-policy-submit", A.MANAGE_PEOPLE),
    Page("GET", "/admin/devices", admin.devices_page, "web-devices", A.MANAGE_DEVICES),
    Page("POST", "/admin/devices/{device_id}", admin.device_submit, "web-device-submit", A.MANAGE_DEVICES),
    Page("GET", "/audit", admin.audit_page, "web-audit", A.READ_AUDIT),
    Page("GET", "/alerts", alerts.subscriptions_page, "web-alerts", A.SUBSCRIBE_ALERTS),
    Page("POST", "/alerts", alerts.subscribe_submit, "web-alert-subscribe", A.SUBSCRIBE_ALERTS),
    Page("POST", "/alerts/{subscription}/delete", alerts.unsubscribe_submit, "web-alert-unsubscribe",
         A.SUBSCRIBE_ALERTS),
    Page("GET", "/admin/alerts", alerts.admin_page, "web-alert-admin", A.MANAGE_ALERTS),
    Page("POST", "/admin/alerts/webhooks", alerts.webhook_submit, "web-alert-webhook-create",
         A.MANAGE_ALERTS),
    Page("POST", "/admin/alerts/webhooks/{webhook}/delete", alerts.webhook_remove,
         "web-alert-webhook-remove", A.MANAGE_ALERTS),
    Page("POST", "/admin/alerts/schedules", alerts.schedule_submit, "web-alert-schedule", A.MANAGE_ALERTS),
    Page("GET", "/admin/alerts/deliveries", alerts.deliveries_page, "web-alert-deliveries", A.MANAGE_ALERTS),
    Page("GET", "/sites/{site}/share", alerts.share_links_page, "web-share-links", A.SHARE_SITE),
    Page("POST", "/sites/{site}/share", alerts.share_submit, "web-share-create", A.SHARE_SITE),
    Page("GET", "/share/{token}", alerts.share_open, "web-share", A.PUBLIC),
    Page("POST", "/share/{token}", alerts.share_download, "web-share-download", A.PUBLIC),
    Page("GET", "/admin/branding", settings.branding_page, "web-branding", A.MANAGE_SETTINGS),
    Page("POST", "/admin/branding", settings.branding_submit, "web-branding-submit", A.MANAGE_SETTINGS),
)  # fmt: skip


def setup_web(app: web.Application) -> None:
    """Mount the pages on the collector app (call before the app starts)."""
    config = app[config_key]
    env = aiohttp_jinja2.setup(
        app,
        app_key=jinja_key,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value escaped, whatever its source
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the tests instead of printing ''
        trim_blocks=True,
        lstrip_blocks=True,
        # Compiled once per process: no stat() of every template and include on every page.
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    env.globals["url"] = cached_static_url(env.globals["url"])
    app[branding_cache_key] = BrandingCache()
    env.globals["kind_words"] = KIND_WORDS  # components/report.html: 'swapped', 're-patched', ...
    app[login_account_throttle_key] = SlowDown(free=5, base_s=1.0, max_s=30.0)
    app[login_client_throttle_key] = SlowDown(free=20, base_s=1.0, max_s=30.0)
    app[alerts.share_throttle_key] = SlowDown(free=5, base_s=1.0, max_s=30.0)
    for p in PAGES:
        app.router.add_route(p.method, p.path, page(p.action, p.handler), name=p.name)
    app.router.add_static("/static/", STATIC_DIR, name="web-static", append_version=True)
    # Session cookies before the HTML error pages, so an error page still carries its CSRF token.
    app.middlewares.append(
        session_layer(load_or_create_key(config.data_dir, SESSION_KEY_FILE), config.session_max_age_s)
    )
    app.middlewares.append(pages_middleware)
    app.on_response_prepare.append(add_security_headers)
