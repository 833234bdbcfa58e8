"""People: sign-in, throttles, second factor, registered devices, sessions, reset links, the audit log
and concurrent edits — over real HTTP on SQLite and PostgreSQL.

The four defects of the old sign-in each have a test named after it (test_defect_*).
Each test that produces audit entries declares which kinds in ``PRODUCED_BY`` and checks they were
written; ``test_every_audit_kind_is_produced_by_a_test`` checks the declarations cover every kind.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pyotp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import col, select

from collector.app import create_app
from collector.config import CollectorConfig
from collector.db.models import AuditEvent, UserSession
from collector.keys import api_auth_throttle_key, sessions_key
from collector.services.audit import Kind
from collector.throttle import SlowDown, client_address, parse_networks
from collector.web.guard import login_account_throttle_key, login_client_throttle_key
from tests.collector.conftest import ADMIN_TOKEN, CSRF_FIELD, PASSWORD, Api, add_user, unique_name
from tests.collector.world import build_world, sign_in_web, web_session

PRODUCED_BY: dict[str, set[Kind]] = {
    # tests/collector/test_share.py
    "test_share_link_refuses_wrong_password_works_once_expires_and_holds_no_secret": {
        Kind.SHARE_CREATE,
        Kind.SHARE_USE,
        Kind.EXPORT,
    },
    # tests/collector/test_alerts.py
    "test_one_changed_camera_one_mail_one_signed_webhook_dead_endpoint_retried": {
        Kind.ALERT_SUBSCRIBE,
        Kind.ALERT_WEBHOOK,
    },
    "test_scope_is_checked_again_when_sending_and_overdue_scan_alerts_once": {Kind.ALERT_SCHEDULE},
    "test_defect_session_cookie_valid_after_logout": {Kind.SIGNIN_OK, Kind.SIGNOUT},
    "test_defect_throttle_keyed_on_socket_address_only": {Kind.SIGNIN_FAILED, Kind.SIGNIN_OK},
    "test_second_factor_set_up_required_then_asked": {
        Kind.TOTP_ENABLE,
        Kind.TOTP_DISABLE,
        Kind.SIGNIN_FAILED,
        Kind.POLICY_UPDATE,
    },
    "test_registered_device_pending_approved_revoked": {
        Kind.DEVICE_REGISTER,
        Kind.DEVICE_APPROVE,
        Kind.DEVICE_REVOKE,
    },
    "test_password_change_and_disable_end_sessions": {
        Kind.PASSWORD_CHANGE,
        Kind.USER_DISABLE,
        Kind.USER_ENABLE,
    },
    "test_reset_link_works_once": {Kind.PASSWORD_RESET_ISSUE, Kind.PASSWORD_RESET_USE},
    "test_people_admin_over_the_api": {
        Kind.USER_CREATE,
        Kind.USER_UPDATE,
        Kind.USER_REMOVE,
        Kind.REGION_CREATE,
        Kind.REGION_REMOVE,
        Kind.CUSTOMER_CREATE,
        Kind.CUSTOMER_UPDATE,
        Kind.CUSTOMER_DISABLE,
        Kind.CUSTOMER_REMOVE,
        Kind.TOKEN_CREATE,
        Kind.TOKEN_REVOKE,
    },
    "test_reads_exports_and_writes_are_audited": {
        Kind.SITE_READ,
        Kind.EXPORT,
        Kind.BASELINE_APPROVE,
        Kind.AGENT_REVOKE,
        Kind.SNAPSHOT_PUSH,
    },
    "test_cli_sets_up_a_fresh_install": {Kind.ENROL_CODE_ISSUE, Kind.USER_CREATE, Kind.CUSTOMER_CREATE},
    # The vault's kinds are produced (and checked) by tests/collector/test_vault_api.py and
    # tests/collector/test_vault_store.py, under these names.
    "test_reveal_is_for_staff_in_scope_and_a_granted_customer_admin_each_audited": {
        Kind.VAULT_CREATE,
        Kind.VAULT_REVEAL,
        Kind.VAULT_GRANT,
    },
    "test_a_stale_change_is_refused_and_the_old_value_is_kept": {Kind.VAULT_UPDATE, Kind.VAULT_HISTORY},
    "test_an_imported_credentials_file_feeds_the_agents_scan": {Kind.VAULT_IMPORT, Kind.VAULT_FETCH},
    "test_the_rotate_key_command_rewraps_and_status_tells_what_wraps_what": {Kind.VAULT_REWRAP},
    # tests/collector/test_record_web.py
    "test_photo_upload_strips_gps_and_is_served_only_after_the_scope_check": {
        Kind.ATTACHMENT_UPLOAD,
        Kind.ATTACHMENT_DOWNLOAD,
        Kind.SITE_READ,
    },
    "test_pin_placed_stale_edit_refused_and_a_replaced_camera_flagged": {
        Kind.ATTACHMENT_UPLOAD,
        Kind.FLOOR_PLAN_CREATE,
        Kind.PIN_SAVE,
    },
    "test_quote_import_row_errors_then_reconciliation": {Kind.QUOTE_IMPORT},
    "test_visit_added_and_shown_as_last_visit": {Kind.VISIT_ADD},
    # tests/collector/test_fleet.py and tests/collector/test_handover_jobs.py
    "test_fleet_reports_over_the_api_and_page_scoped_and_audited": {Kind.FLEET_READ, Kind.EXPORT},
    "test_branding_page_sets_name_logo_and_colours_used_in_the_pdf": {Kind.SETTINGS_UPDATE},
    "test_handover_pdf_job_runs_once_then_downloads": {Kind.HANDOVER_JOB, Kind.EXPORT},
    # tests/collector/test_record_remove.py
    "test_remove_a_photo_and_a_pin": {Kind.PIN_REMOVE, Kind.ATTACHMENT_REMOVE},
}


# ---------------------------------------------------------------- helpers


async def last_audit_id(app: Any) -> int:
    async with app[sessions_key]() as db:
        return int((await db.exec(select(func.coalesce(func.max(AuditEvent.id), 0)))).one())


async def kinds_since(app: Any, start: int) -> set[str]:
    async with app[sessions_key]() as db:
        rows = await db.exec(select(AuditEvent.kind).where(col(AuditEvent.id) > start))
        return set(rows.all())


async def reset_policies(app: Any) -> None:
    """Role policies are global and the PostgreSQL database is shared by the tests: put them back."""
    from collector.auth import Role, cli_admin
    from collector.services import people
    from collector.services.context import Ctx

    async with app[sessions_key]() as db, db.begin():
        for role in Role:
            await people.set_policy(db, Ctx(cli_admin("t")), role, require_totp=False, require_device=False)


async def assert_audited(app: Any, start: int, test: str) -> None:
    produced = await kinds_since(app, start)
    missing = {k.value for k in PRODUCED_BY[test]} - produced
    assert not missing, f"{test} did not write {missing}"


@pytest.fixture
async def proxied(config: CollectorConfig) -> AsyncIterator[Api]:
    """A collector behind the documented reverse proxy on 127.0.0.1 (its X-Forwarded-For is believed)."""
    behind = config.model_copy(update={"trusted_proxies": "127.0.0.1,::1", "api_burst": 1000})
    async with TestClient(TestServer(create_app(behind), host="127.0.0.1")) as client:
        yield Api(client)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def frozen(throttle: SlowDown) -> Clock:
    clock = Clock()
    throttle.clock = clock
    return clock


async def csrf_from(http: aiohttp.ClientSession, path: str) -> str:
    async with http.get(path) as resp:
        match = CSRF_FIELD.search(await resp.text())
    assert match, path
    return match.group(1)


async def post_login(
    http: aiohttp.ClientSession, name: str, password: str, headers: dict[str, str] | None = None
) -> aiohttp.ClientResponse:
    csrf = await csrf_from(http, "/login")
    resp = await http.post(
        "/login",
        data={"csrf": csrf, "name": name, "password": password, "next": "/"},
        headers=headers or {},
        allow_redirects=False,
    )
    await resp.read()
    return resp


def base(api: Api) -> str:
    return str(api.client.make_url("")).rstrip("/")


# ---------------------------------------------------------------- the four defects


async def test_defect_open_redirect_via_tab(api: Api):
    """GET /login?next=/%09/evil.example/ while signed in answered 303 //evil.example/ (browsers drop
    the tab). Now any control character or backslash makes the target '/'."""
    name = await add_user(api.app, "support")
    async with await web_session(base(api)) as http:
        await sign_in_web(http, name)
        for target in (
            "/%09/evil.example/",
            "/%0a/evil.example/",
            "/%0d/evil.example",
            "//evil.example/",
            "/%5Cevil.example",
            "https://evil.example/",
        ):
            async with http.get(f"/login?next={target}", allow_redirects=False) as resp:
                assert resp.status == 303, target
                assert resp.headers["Location"] == "/", (target, resp.headers["Location"])
        async with http.get("/login?next=/sites/x%3Fq%3D1", allow_redirects=False) as resp:
            assert resp.headers["Location"] == "/sites/x?q=1"  # a local path still works


async def test_defect_session_cookie_valid_after_logout(api: Api):
    """Sessions were stateless: a copied cookie still worked after logout. Now the row is revoked."""
    start = await last_audit_id(api.app)
    name = await add_user(api.app, "technician")
    async with await web_session(base(api)) as http:
        csrf = await sign_in_web(http, name)
        cookie = {c.key: c.value for c in http.cookie_jar}["asbuilt_session"]
        async with http.post("/logout", data={"csrf": csrf}, allow_redirects=False) as resp:
            assert resp.status == 303
    async with await web_session(base(api)) as thief:
        thief.cookie_jar.update_cookies({"asbuilt_session": cookie}, response_url=api.client.make_url("/"))
        async with thief.get("/", allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"].startswith("/login")
    async with api.app[sessions_key]() as db:
        row = (await db.exec(select(UserSession).order_by(col(UserSession.id).desc()))).first()
        assert row is not None and row.revoked_why == "signed out"
    await assert_audited(api.app, start, "test_defect_session_cookie_valid_after_logout")


async def test_defect_throttle_keyed_on_socket_address_only(proxied: Api):
    """Behind the proxy every browser had the proxy's address: one person's typos locked the office
    out, and the right password was refused for minutes. Now: per account and per forwarded client,
    a doubling wait of seconds, and the right password works after it."""
    start = await last_audit_id(proxied.app)
    typist, colleague = await add_user(proxied.app, "support"), await add_user(proxied.app, "support")
    by_account = frozen(proxied.app[login_account_throttle_key])
    by_client = proxied.app[login_client_throttle_key]
    by_client.clock = by_account
    office_a, office_b = {"X-Forwarded-For": "203.0.113.5"}, {"X-Forwarded-For": "203.0.113.9"}
    async with await web_session(base(proxied)) as http:
        statuses = [(await post_login(http, typist, "typo typo typo", office_a)).status for _ in range(8)]
        assert statuses[:5] == [401] * 5 and 429 in statuses  # five free, then a wait
        # A colleague behind the same proxy is not affected.
        assert (await post_login(http, colleague, PASSWORD, office_b)).status == 303
    async with await web_session(base(proxied)) as http:
        resp = await post_login(http, typist, PASSWORD, office_a)
        assert resp.status == 429  # asked too early: told how long to wait, in seconds
        wait = int(resp.headers["Retry-After"])
        assert 1 <= wait <= 30
        by_account.now += wait
        assert (await post_login(http, typist, PASSWORD, office_a)).status == 303  # the right one works
    # The socket address of an untrusted peer is the key: its X-Forwarded-For is ignored.
    request = _request_from("198.51.100.7", {"X-Forwarded-For": "10.9.9.9"})
    assert client_address(request, parse_networks("127.0.0.1")) == "198.51.100.7"
    request = _request_from("127.0.0.1", {"X-Forwarded-For": "10.9.9.9, 203.0.113.5"})
    assert client_address(request, parse_networks("127.0.0.1")) == "203.0.113.5"
    assert client_address(
        _request_from("127.0.0.1", {"X-Forwarded-For": "junk"}), parse_networks("127.0.0.1")
    ) == ("127.0.0.1")
    await assert_audited(proxied.app, start, "test_defect_throttle_keyed_on_socket_address_only")


def _request_from(peer: str, headers: dict[str, str]) -> Any:
    from aiohttp.test_utils import make_mocked_request

    transport = type("T", (), {"get_extra_info": lambda self, name, default=None: (peer, 1234)})()
    return make_mocked_request("GET", "/", headers=headers, transport=transport)


async def test_defect_api_had_no_throttle(proxied: Api):
    """Unknown bearer tokens from one client: ten free, then 429 with Retry-After; others unaffected.
    And every caller has a request budget (token bucket)."""
    clock = frozen(proxied.app[api_auth_throttle_key])
    guesser = {"X-Forwarded-For": "203.0.113.66"}
    statuses = []
    for i in range(14):
        resp = await proxied.client.get(
            "/api/v1/sites", headers={**guesser, "Authorization": f"Bearer guess{i}"}
        )
        statuses.append(resp.status)
    assert statuses[:10] == [401] * 10 and statuses[-1] == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 30
    ok = await proxied.client.get(
        "/api/v1/sites", headers={"X-Forwarded-For": "203.0.113.67", "Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert ok.status == 200
    clock.now += 31
    resp = await proxied.client.get(
        "/api/v1/sites", headers={**guesser, "Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert resp.status == 200


async def test_enrolment_code_guessing_is_throttled(api: Api):
    bogus = {"code": "AAAA-BBBB-CCCC-DDDD", "agent_name": "guesser"}
    statuses = [(await api.client.post("/api/v1/enrol", json=bogus)).status for _ in range(12)]
    assert statuses[:10] == [403] * 10 and statuses[-1] == 429


async def test_api_rate_limit(config: CollectorConfig):
    tight = config.model_copy(update={"api_rate_per_s": 0.01, "api_burst": 3})
    async with TestClient(TestServer(create_app(tight), host="127.0.0.1")) as client:
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        statuses = [(await client.get("/api/v1/me", headers=auth)).status for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]


# ---------------------------------------------------------------- second factor, devices


def _key(html: str) -> str:
    match = re.search(r'<code class="key">([A-Z2-7 ]+)</code>', html)
    assert match, html[:2000]
    return match.group(1).replace(" ", "")


async def test_second_factor_set_up_required_then_asked(api: Api):
    try:
        await _second_factor(api)
    finally:
        await reset_policies(api.app)


async def _second_factor(api: Api) -> None:
    start = await last_audit_id(api.app)
    name = await add_user(api.app, "technician")
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with await web_session(base(api)) as http:
        # An admin requires TOTP for technicians (web form, as the UI does it).
        admin_name = await add_user(api.app, "admin")
        admin_csrf = await sign_in_web(http, admin_name)
        data = {"csrf": admin_csrf, "technician-totp": "on"}
        async with http.post("/admin/policy", data=data, allow_redirects=False) as resp:
            assert resp.status == 303
    async with await web_session(base(api)) as http:
        resp = await post_login(http, name, PASSWORD)
        assert resp.status == 303 and resp.headers["Location"] == "/account/totp"  # set it up first
        async with http.get("/", allow_redirects=False) as page:
            assert page.status == 303  # not signed in yet
        async with http.get("/account/totp") as page:
            html = await page.text()
        secret = _key(html)
        sealed = re.search(r'name="sealed" value="([^"]+)"', html)
        csrf = CSRF_FIELD.search(html)
        assert sealed and csrf
        wrong = {"csrf": csrf.group(1), "sealed": sealed.group(1), "code": "000000"}
        async with http.post("/account/totp", data=wrong, allow_redirects=False) as resp:
            assert resp.status == 422
        right = {**wrong, "code": pyotp.TOTP(secret).now()}
        async with http.post("/account/totp", data=right, allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"] == "/"
        async with http.get("/account") as page:
            assert page.status == 200 and "on" in await page.text()
        csrf2 = await csrf_from(http, "/account")
        async with http.post("/logout", data={"csrf": csrf2}, allow_redirects=False):
            pass
        # Next time: password, then the code.
        resp = await post_login(http, name, PASSWORD)
        assert resp.headers["Location"] == "/login/totp"
        csrf3 = await csrf_from(http, "/login/totp")
        async with http.post(
            "/login/totp", data={"csrf": csrf3, "code": "123456"}, allow_redirects=False
        ) as r:
            assert r.status == 401 and "not right" in await r.text()
        # The set-up used this step's code: it does not work twice. The next step's does (clock drift).
        same = {"csrf": csrf3, "code": right["code"]}
        async with http.post("/login/totp", data=same, allow_redirects=False) as r:
            assert r.status == 401
        code = pyotp.TOTP(secret).at(time.time() + 30)
        async with http.post("/login/totp", data={"csrf": csrf3, "code": code}, allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == "/"
        async with http.get("/account", allow_redirects=False) as page:
            assert page.status == 200
        csrf4 = await csrf_from(http, "/account")
        async with http.post("/logout", data={"csrf": csrf4}, allow_redirects=False):
            pass
        assert (await post_login(http, name, PASSWORD)).headers["Location"] == "/login/totp"
        csrf5 = await csrf_from(http, "/login/totp")
        async with http.post("/login/totp", data={"csrf": csrf5, "code": code}, allow_redirects=False) as r:
            assert r.status == 401  # a code seen once is worth nothing to whoever saw it
    # A lost phone: an admin removes the factor (API: policy off first, then the user's own page).
    resp = await api.client.get("/api/v1/users", headers=admin)
    user_id = next(u["id"] for u in (await resp.json())["users"] if u["name"] == name)
    async with await web_session(base(api)) as http:
        admin_csrf = await sign_in_web(http, admin_name)
        async with http.post(
            f"/admin/users/{user_id}/action",
            data={"csrf": admin_csrf, "action": "totp-off"},
            allow_redirects=False,
        ) as resp:
            assert resp.status == 303
    await assert_audited(api.app, start, "test_second_factor_set_up_required_then_asked")


async def test_registered_device_pending_approved_revoked(api: Api):
    try:
        await _registered_device(api)
    finally:
        await reset_policies(api.app)


async def _registered_device(api: Api) -> None:
    start = await last_audit_id(api.app)
    name = await add_user(api.app, "support")
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with api.app[sessions_key]() as db, db.begin():
        from collector.auth import Role, cli_admin
        from collector.services import people
        from collector.services.context import Ctx

        await people.set_policy(
            db, Ctx(cli_admin("t")), Role.SUPPORT, require_totp=False, require_device=True
        )
    async with await web_session(base(api)) as phone:
        resp = await post_login(phone, name, PASSWORD)
        assert resp.status == 403
        device_cookie = {c.key: c.value for c in phone.cookie_jar}.get("asbuilt_device")
        assert device_cookie, "the browser is remembered as a pending device"
        async with phone.get("/", allow_redirects=False) as page:
            assert page.status == 303  # no session
        listing = await (await api.client.get("/api/v1/devices?status=pending", headers=admin)).json()
        mine = [d for d in listing["devices"] if d["user"] == name]
        assert len(mine) == 1 and mine[0]["status"] == "pending"
        assert (await post_login(phone, name, PASSWORD)).status == 403  # still waiting: no second device
        listing = await (await api.client.get("/api/v1/devices", headers=admin)).json()
        assert len([d for d in listing["devices"] if d["user"] == name]) == 1
        resp = await api.client.post(f"/api/v1/devices/{mine[0]['id']}/approve", headers=admin)
        assert resp.status == 200 and (await resp.json())["status"] == "approved"
        assert (await post_login(phone, name, PASSWORD)).status == 303
        async with phone.get("/", allow_redirects=False) as page:
            assert page.status == 200
        # Another browser of the same user is a new pending device.
        async with await web_session(base(api)) as laptop:
            assert (await post_login(laptop, name, PASSWORD)).status == 403
        # Revoked: the phone's session ends at once, and it cannot sign in again.
        resp = await api.client.post(f"/api/v1/devices/{mine[0]['id']}/revoke", headers=admin)
        assert resp.status == 200
        async with phone.get("/", allow_redirects=False) as page:
            assert page.status == 303
        resp = await post_login(phone, name, PASSWORD)
        assert resp.status == 403
    await assert_audited(api.app, start, "test_registered_device_pending_approved_revoked")


# ---------------------------------------------------------------- sessions


async def test_session_idle_and_absolute_timeouts(api: Api):
    name = await add_user(api.app, "support")
    async with await web_session(base(api)) as http:
        await sign_in_web(http, name)
        async with http.get("/", allow_redirects=False) as page:
            assert page.status == 200
        await _age_sessions(api, name, last_seen=timedelta(hours=5))  # idle over 4 h
        async with http.get("/", allow_redirects=False) as page:
            assert page.status == 303
    async with await web_session(base(api)) as http:
        await sign_in_web(http, name)
        await _age_sessions(api, name, created=timedelta(hours=13))  # older than 12 h, though busy
        async with http.get("/", allow_redirects=False) as page:
            assert page.status == 303


async def _age_sessions(
    api: Api, name: str, *, last_seen: timedelta | None = None, created: timedelta | None = None
) -> None:
    from collector.db.models import User

    async with api.app[sessions_key]() as db, db.begin():
        user = (await db.exec(select(User).where(User.name == name))).one()
        for row in (await db.exec(select(UserSession).where(UserSession.user_id == user.id))).all():
            if last_seen:
                row.last_seen_at -= last_seen
            if created:
                row.created_at -= created
            db.add(row)


async def test_password_change_and_disable_end_sessions(api: Api):
    start = await last_audit_id(api.app)
    name = await add_user(api.app, "technician")
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with await web_session(base(api)) as first, await web_session(base(api)) as second:
        csrf = await sign_in_web(first, name)
        await sign_in_web(second, name)
        form = {
            "csrf": csrf,
            "current_password": PASSWORD,
            "new_password": "a much newer password",
            "new_password_again": "a much newer password",
        }
        async with first.post("/account/password", data=form, allow_redirects=False) as resp:
            assert resp.status == 303
        async with first.get("/account", allow_redirects=False) as page:
            assert page.status == 200  # this browser stays signed in
        async with second.get("/account", allow_redirects=False) as page:
            assert page.status == 303  # the other one is out
        assert (await post_login(second, name, PASSWORD)).status == 401  # the old password is gone
        assert (await post_login(second, name, "a much newer password")).status == 303
        # Disabling the user ends both sessions and stops their API token.
        refused = await api.client.post("/api/v1/tokens", json={"name": "t"}, headers=admin)
        assert refused.status == 403  # the break-glass token is nobody's: no personal tokens for it
        users = (await (await api.client.get("/api/v1/users", headers=admin)).json())["users"]
        user_id = next(u["id"] for u in users if u["name"] == name)
        assert (await api.client.post(f"/api/v1/users/{user_id}/disable", headers=admin)).status == 200
        for browser in (first, second):
            async with browser.get("/account", allow_redirects=False) as page:
                assert page.status == 303
        assert (await post_login(first, name, "a much newer password")).status == 401
        assert (await api.client.post(f"/api/v1/users/{user_id}/enable", headers=admin)).status == 200
        assert (await post_login(first, name, "a much newer password")).status == 303
    await assert_audited(api.app, start, "test_password_change_and_disable_end_sessions")


async def test_reset_link_works_once(api: Api):
    start = await last_audit_id(api.app)
    name = await add_user(api.app, "customer", customers=(await _customer(api),), password=None)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    users = (await (await api.client.get("/api/v1/users", headers=admin)).json())["users"]
    user_id = next(u["id"] for u in users if u["name"] == name)
    resp = await api.client.post(f"/api/v1/users/{user_id}/password-reset", headers=admin)
    assert resp.status == 201
    path = (await resp.json())["path"]
    async with await web_session(base(api)) as http:
        assert (await post_login(http, name, "anything at all")).status == 401  # no password yet
        csrf = await csrf_from(http, path)
        form = {"csrf": csrf, "new_password": "my own password", "new_password_again": "my own password"}
        async with http.post(path, data=form, allow_redirects=False) as done:
            assert done.status == 303
        assert (await post_login(http, name, "my own password")).status == 303
        async with http.get(path) as again:
            assert again.status == 404 and "ask an admin" in await again.text()
    await assert_audited(api.app, start, "test_reset_link_works_once")


async def _customer(api: Api) -> str:
    from collector.auth import cli_admin
    from collector.services import people
    from collector.services.context import Ctx

    name = unique_name("Customer")
    async with api.app[sessions_key]() as db, db.begin():
        await people.create_customer(db, Ctx(cli_admin("t")), name, unique_name("region"))
    return name


# ---------------------------------------------------------------- admin over the API


async def test_people_admin_over_the_api(api: Api):
    start = await last_audit_id(api.app)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    region, other_region = unique_name("North"), unique_name("South")
    assert (await api.client.post("/api/v1/regions", json={"name": region}, headers=admin)).status == 201
    assert (await api.client.post("/api/v1/regions", json={"name": region}, headers=admin)).status == 409
    customer = unique_name("ACME")
    resp = await api.client.post(
        "/api/v1/customers", json={"name": customer, "region": region}, headers=admin
    )
    assert resp.status == 201
    name = unique_name("tech")
    resp = await api.client.post(
        "/api/v1/users",
        headers=admin,
        json={"name": name, "role": "technician", "regions": [region], "password": PASSWORD},
    )
    assert resp.status == 201, await resp.text()
    user = await resp.json()
    assert user["scope"] == "regions" and user["regions"] == [region]
    bad = await api.client.post(
        "/api/v1/users", headers=admin, json={"name": unique_name("c"), "role": "customer"}
    )
    assert bad.status == 422 and (await bad.json())["error"]["field"] == "customer"
    # An edit needs the revision it was made from; a stale one is refused.
    patch = {"role": "support", "customers": [customer]}
    assert (await api.client.patch(f"/api/v1/users/{user['id']}", json=patch, headers=admin)).status == 428
    resp = await api.client.patch(
        f"/api/v1/users/{user['id']}", json=patch, headers={**admin, "If-Match": f'"r{user["revision"]}"'}
    )
    assert resp.status == 200 and (await resp.json())["role"] == "support"
    resp = await api.client.patch(
        f"/api/v1/users/{user['id']}",
        json={"role": "admin"},
        headers={**admin, "If-Match": f'"r{user["revision"]}"'},
    )
    assert resp.status == 409 and "changed by someone else" in (await resp.json())["error"]["message"]
    # The user's own token: same permissions as the user, shown once, revocable.
    async with await web_session(base(api)) as http:
        csrf = await sign_in_web(http, name)
        async with http.post("/account/tokens", data={"csrf": csrf, "name": "script"}) as page:
            token = re.search(r'<code class="key">(asb_user_[^<]+)</code>', await page.text())
    assert token
    mine = {"Authorization": f"Bearer {token.group(1)}"}
    me = await (await api.client.get("/api/v1/me", headers=mine)).json()
    assert me["name"] == name and me["role"] == "support" and me["scope"] == "customers"
    assert (await api.client.get("/api/v1/users", headers=mine)).status == 403
    listed = (await (await api.client.get("/api/v1/tokens", headers=mine)).json())["tokens"]
    assert [t["name"] for t in listed] == ["script"] and "token" not in listed[0]
    assert (await api.client.delete(f"/api/v1/tokens/{listed[0]['id']}", headers=mine)).status == 200
    assert (await api.client.get("/api/v1/me", headers=mine)).status == 401
    # Customers move, get disabled, and go when empty; regions go when unused.
    async with api.app[sessions_key]() as db, db.begin():
        from collector.auth import cli_admin
        from collector.services import people
        from collector.services.context import Ctx

        ctx = Ctx(cli_admin("t"))
        moved = await people.customer_by_name(db, customer)
        assert moved is not None
        await people.set_customer_region(db, ctx, moved, await people.create_region(db, ctx, other_region))
        await people.disable_customer(db, ctx, customer)
        await people.remove_user(db, ctx, await people.find_user(db, ctx, name))
        await people.remove_customer(db, ctx, customer)
        await people.remove_region(db, ctx, region)
    await assert_audited(api.app, start, "test_people_admin_over_the_api")


# ---------------------------------------------------------------- audit


async def test_reads_exports_and_writes_are_audited(api: Api):
    start = await last_audit_id(api.app)
    world = await build_world(api)
    try:
        customer = world.people["customer"]
        assert customer.web is not None
        async with customer.web.get(f"/sites/{world.inside.site}") as page:
            assert page.status == 200
        async with customer.web.get(f"/sites/{world.inside.site}/versions/1/snapshot.json") as download:
            assert download.status == 200
        admin = {"Authorization": f"Bearer {world.people['admin'].token}"}
        assert (
            await api.client.delete(f"/api/v1/agents/{world.outside.agent_id}", headers=admin)
        ).status == 200
        # Admins filter the log; what a customer's admin reads is only about its own customer.
        resp = await api.client.get(f"/api/v1/audit?kind=site.read&actor={customer.name}", headers=admin)
        entries = (await resp.json())["entries"]
        assert entries and all(e["kind"] == "site.read" and e["actor"] == customer.name for e in entries)
        assert entries[0]["target"] == f"site {world.inside.site}" and entries[0]["client"] == "127.0.0.1"
        resp = await api.client.get("/api/v1/audit?kind=export", headers=admin)
        assert any(e["detail"].get("via") == "web" for e in (await resp.json())["entries"])
        own = {"Authorization": f"Bearer {customer.token}"}
        body = await (await api.client.get("/api/v1/audit?limit=500", headers=own)).json()
        assert body["entries"] and {e["customer_id"] for e in body["entries"]} == {entries[0]["customer_id"]}
        assert world.outside.site not in str(body)
        async with customer.web.get("/audit") as page:
            html = await page.text()
            assert page.status == 200 and world.inside.site in html and world.outside.site not in html
        tech = world.people["technician"]
        assert tech.web is not None
        async with tech.web.get("/audit", allow_redirects=False) as page:
            assert page.status == 403
    finally:
        await world.close()
    await assert_audited(api.app, start, "test_reads_exports_and_writes_are_audited")


async def test_audit_cannot_be_altered(api: Api, db_url: str):
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    await api.client.get("/api/v1/sites", headers=admin)
    await add_user(api.app, "support")
    before = await (await api.client.get("/api/v1/audit?limit=500", headers=admin)).json()
    first = before["entries"][0]["id"]
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        for path in ("/api/v1/audit", f"/api/v1/audit/{first}"):
            resp = await api.client.request(method, path, headers=admin, json={"kind": "nothing"})
            assert resp.status in (404, 405), (method, path, resp.status)
    after = await (await api.client.get("/api/v1/audit?limit=500", headers=admin)).json()
    assert after["entries"][-len(before["entries"]) :] == before["entries"]
    # Below the product, too: the database refuses to change history.
    for statement in ("UPDATE audit_event SET kind = 'x'", "DELETE FROM audit_event"):
        with pytest.raises((IntegrityError, OperationalError, DBAPIError)):
            async with api.app[sessions_key]() as db, db.begin():
                await db.exec(text(statement))  # type: ignore[call-overload]
    assert (await (await api.client.get("/api/v1/audit?limit=500", headers=admin)).json()) == after


def test_every_audit_kind_is_produced_by_a_test():
    declared = set().union(*PRODUCED_BY.values())
    assert declared == set(Kind), set(Kind) - declared


# ---------------------------------------------------------------- concurrency


async def test_two_browsers_approving_the_same_site(api: Api):
    """v1 is the baseline. Both browsers load the record (revision r); the second approves v2; the first,
    still on its page of revision r, approves v1 back over it: refused with a message naming who
    approved what, and the baseline stays v2."""
    world = await build_world(api)
    try:
        one, two = world.people["admin"], world.people["technician"]
        assert one.web is not None and two.web is not None
        site = world.inside.site
        pages = []
        for person in (one, two):
            async with person.web.get(f"/sites/{site}/versions/2") as page:
                pages.append(await page.text())
        revisions = [re.search(r'name="base_revision" value="(\d+)"', p) for p in pages]
        assert revisions[0] and revisions[1] and revisions[0].group(1) == revisions[1].group(1)
        form = {"csrf": two.csrf, "base_revision": revisions[1].group(1), "note": "fresh scan checked"}
        async with two.web.post(f"/sites/{site}/versions/2/approve", data=form, allow_redirects=False) as r:
            assert r.status == 303
        form = {"csrf": one.csrf, "base_revision": revisions[0].group(1), "note": "old page"}
        async with one.web.post(f"/sites/{site}/versions/1/approve", data=form, allow_redirects=False) as r:
            html = await r.text()
            assert r.status == 409
            assert "changed after you loaded it" in html and f"approved as the baseline by {two.name}" in html
        state = await (
            await api.client.get(
                f"/api/v1/sites/{site}/baseline", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
            )
        ).json()
        assert state["current"]["version"] == 2 and state["current"]["approved_by"] == two.name
        # The API: the ETag of the baseline is the revision; a stale If-Match is refused too.
        auth = {"Authorization": f"Bearer {one.token}"}
        resp = await api.client.get(f"/api/v1/sites/{site}/baseline", headers=auth)
        etag = resp.headers["ETag"]
        stale = await api.client.post(
            f"/api/v1/sites/{site}/baseline", json={"version": 1}, headers={**auth, "If-Match": '"r0"'}
        )
        assert stale.status == 409 and (await stale.json())["error"]["code"] == "stale_revision"
        fresh = await api.client.post(
            f"/api/v1/sites/{site}/baseline", json={"version": 1}, headers={**auth, "If-Match": etag}
        )
        assert fresh.status == 201 and fresh.headers["ETag"] != etag
    finally:
        await world.close()


# ---------------------------------------------------------------- the admin CLI


def test_cli_sets_up_a_fresh_install(db_url: str, tmp_path):
    """The commands of the deploy docs, in order, on a fresh data directory; then the token works."""
    from typer.testing import CliRunner

    from collector.cli import collector_app

    runner = CliRunner()
    unknown = tmp_path / "typo"
    refused = runner.invoke(
        collector_app, ["enrol-code", "--customer", "X", "--site", "s", "--data-dir", str(unknown)]
    )
    assert refused.exit_code == 2 and "no collector database" in refused.output and not unknown.exists()
    where = ["--data-dir", str(tmp_path), "--database-url", db_url]
    if db_url.startswith("sqlite"):
        where = ["--data-dir", str(tmp_path)]  # SQLite in the data directory, as an install has it

    def ok(*args: str, stdin: str | None = None) -> str:
        result = runner.invoke(collector_app, [*args, *where], input=stdin)
        assert result.exit_code == 0, result.output
        return result.stdout

    ok("migrate")
    region, customer = unique_name("North"), unique_name("ACME")
    admin, tech, cust = unique_name("alice"), unique_name("tom"), unique_name("carla")
    ok("customer", "add", customer, "--region", region)
    ok("user", "add", admin, "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    out = ok("user", "add", tech, "--role", "technician", "--region", region)
    assert "/reset/" in out  # no password given: a one-time link to set one
    ok("user", "add", cust, "--role", "customer", "--customer", customer)
    token = ok("token", "create", admin).strip().splitlines()[-1]
    assert token.startswith("asb_user_")
    users = ok("user", "list")
    assert admin in users and f"regions: {region}" in users
    assert customer in ok("customer", "list") and region in ok("region", "list")
    code = ok("enrol-code", "--customer", customer, "--site", unique_name("site")).strip()
    assert len(code) == 19
    ok("user", "disable", cust)
    assert "disabled" in ok("user", "list")
    ok("user", "remove", cust)
    assert cust not in ok("user", "list")
    assert token[:13] in ok("token", "list")
    result = runner.invoke(collector_app, ["region", "remove", region, *where])
    assert result.exit_code == 1 and "still has 1 customer" in result.output
    result = runner.invoke(collector_app, ["user", "add", "x", "--role", "wizard", *where])
    assert result.exit_code == 1 and "role must be one of" in result.output
    # The token works against the collector serving that database.
    config = CollectorConfig(
        data_dir=tmp_path,
        database_url=None if db_url.startswith("sqlite") else db_url,
        admin_token="unused-" + unique_name("x"),
    )
    import asyncio

    async def check() -> None:
        async with TestClient(TestServer(create_app(config), host="127.0.0.1")) as client:
            me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status == 200 and (await me.json())["name"] == admin
            kinds = {
                e["kind"]
                for e in (
                    await (
                        await client.get(
                            "/api/v1/audit?limit=500", headers={"Authorization": f"Bearer {token}"}
                        )
                    ).json()
                )["entries"]
            }
            assert {k.value for k in PRODUCED_BY["test_cli_sets_up_a_fresh_install"]} <= kinds

    asyncio.run(check())


async def test_disabled_customer_locks_out_its_own_users_only(api: Api):
    customer = await _customer(api)
    own = await add_user(api.app, "customer", customers=(customer,))
    staff = await add_user(api.app, "support", customers=(customer,))
    async with await web_session(base(api)) as theirs, await web_session(base(api)) as ours:
        await sign_in_web(theirs, own)
        await sign_in_web(ours, staff)
        async with api.app[sessions_key]() as db, db.begin():
            from collector.auth import cli_admin
            from collector.services import people
            from collector.services.context import Ctx

            await people.disable_customer(db, Ctx(cli_admin("t")), customer)
        async with theirs.get("/", allow_redirects=False) as page:
            assert page.status == 303  # the customer's session ended
        assert (await post_login(theirs, own, PASSWORD)).status == 401
        async with ours.get("/customers") as page:
            assert page.status == 200 and "disabled" in await page.text()  # staff still see it
