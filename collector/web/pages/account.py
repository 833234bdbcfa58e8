"""Signing in and out, the second factor, one's own password and API tokens, reset links."""

from __future__ import annotations

import math
import time

from aiohttp import web

from collector.auth import Role
from collector.db.models import User
from collector.errors import ApiError
from collector.http.params import int_param
from collector.keys import secret_box_key, sessions_key
from collector.passwords import totp_uri
from collector.services import accounts, people
from collector.services.accounts import SignIn, Step
from collector.services.context import Ctx
from collector.web import session as browser
from collector.web.guard import (
    anonymous_ctx,
    ctx,
    form_with_csrf,
    login_account_throttle_key,
    login_client_throttle_key,
    signed_in,
)
from collector.web.render import done, redirect, render, url


def safe_next(value: str | None) -> str:
    """Only a path on this server. Browsers drop tabs and newlines inside URLs, so '/\\t/evil.example/'
    means '//evil.example/' to them: any control character, a backslash or '//' after removing those
    makes the target '/'."""
    if not value or len(value) > 2000 or not value.startswith("/"):
        return "/"
    if any(ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in value):
        return "/"
    if value.startswith("//"):
        return "/"
    return value


WRONG_PASSWORD = "That name and password do not match an account that may sign in."
WRONG_CODE = "That code is not right (or has expired); enter the current one."


def _ua(request: web.Request) -> str:
    return request.headers.get("User-Agent", "")[:300]


# ---------------------------------------------------------------- sign in


async def login_form(request: web.Request) -> web.Response:
    target = safe_next(request.query.get("next"))
    if await signed_in(request) is not None:
        raise web.HTTPSeeOther(target)
    return await render(request, "pages/account/login.html", next=target, error=None, name="")


def _wait_text(seconds: float) -> str:
    return f"{max(1, math.ceil(seconds))} s"


async def login_submit(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    target = safe_next(form.get("next"))
    name = form.get("name", "").strip()[:100]
    password = form.get("password", "")
    c = anonymous_ctx(request)
    account_key, client_key = f"account:{name.lower()}", f"client:{c.client}"
    by_account, by_client = request.app[login_account_throttle_key], request.app[login_client_throttle_key]
    # An approved device of this account skips the per-account wait: a guesser elsewhere cannot keep
    # the owner of a company phone out. The per-address wait always applies.
    device_known = await _known_device(request, name)
    wait = max(by_client.wait(client_key), 0 if device_known else by_account.wait(account_key))
    if wait > 0:
        message = (
            "Too many failed attempts for this account or from this address; "
            f"try again in {_wait_text(wait)}."
        )
        return await _login_again(request, 429, target, name, message, retry_after=wait)
    async with request.app[sessions_key]() as db, db.begin():
        user = await accounts.check_password(db, c, name, password)
    if user is None:
        by_account.failure(account_key)
        by_client.failure(client_key)
        return await _login_again(request, 401, target, name, WRONG_PASSWORD)
    by_account.success(account_key)
    return await _continue(request, c, user, target, totp_done=False)


async def _known_device(request: web.Request, name: str) -> bool:
    token = browser.device_token(request)
    if not token or not name:
        return False
    async with request.app[sessions_key]() as db:
        user = await people.user_by_name(db, name)
        device = await accounts.device_of(db, user, token) if user else None
    return device is not None and device.status == "approved"


async def _login_again(
    request: web.Request, status: int, target: str, name: str, error: str, retry_after: float | None = None
) -> web.Response:
    response = await render(
        request, "pages/account/login.html", status=status, next=target, error=error, name=name
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


async def _continue(
    request: web.Request, c: Ctx, user: User, target: str, *, totp_done: bool
) -> web.Response:
    """After each step: sign in, or go to the step the user's role still needs."""
    async with request.app[sessions_key]() as db, db.begin():
        db.add(user)
        step: SignIn = await accounts.next_step(
            db,
            c,
            user,
            device_token=browser.device_token(request),
            user_agent=_ua(request),
            totp_done=totp_done,
        )
        sid = None
        if step.step is Step.DONE:
            sid = await accounts.start_session(db, c, user, step.device, _ua(request))
    assert user.id is not None
    if step.step is Step.DONE and sid is not None:
        await browser.begin(request, sid)
        return redirect(target)
    if step.step is Step.TOTP:
        await browser.set_pending(request, user.id, time.time(), target)
        return redirect(url(request, "web-login-totp"))
    if step.step is Step.TOTP_SETUP:
        await browser.set_pending(request, user.id, time.time(), target)
        return redirect(url(request, "web-totp"))
    # A device waiting for approval: say so, and remember the browser for when it is approved.
    await browser.end(request)
    response = await render(
        request, "pages/account/device_pending.html", status=403, device=step.device, user=user
    )
    if step.new_device_token:
        browser.set_device_cookie(response, request, step.new_device_token)
    return response


async def _pending_user(request: web.Request) -> tuple[User, str]:
    pending = await browser.pending(request, time.time())
    if pending is None:
        raise web.HTTPSeeOther(url(request, "web-login"))
    async with request.app[sessions_key]() as db:
        user = await db.get(User, pending["uid"])
        if user is None or not await accounts.may_sign_in(db, user):
            raise web.HTTPSeeOther(url(request, "web-login"))
    return user, safe_next(pending.get("next"))


async def login_totp_form(request: web.Request) -> web.Response:
    user, _ = await _pending_user(request)
    return await render(request, "pages/account/login_totp.html", user=user, error=None)


async def login_totp_submit(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    user, target = await _pending_user(request)
    c = anonymous_ctx(request)
    throttle = request.app[login_account_throttle_key]
    key = f"account:{user.name.lower()}"
    wait = throttle.wait(key)
    if wait > 0:
        return await render(request, "pages/account/login_totp.html", status=429, user=user,
                            error=f"Too many wrong codes; try again in {_wait_text(wait)}.")  # fmt: skip
    async with request.app[sessions_key]() as db, db.begin():
        ok = await accounts.check_totp(db, c, request.app[secret_box_key], user, form.get("code", ""))
    if not ok:
        throttle.failure(key)
        return await render(request, "pages/account/login_totp.html", status=401, user=user,
                            error=WRONG_CODE)  # fmt: skip
    throttle.success(key)
    return await _continue(request, c, user, target, totp_done=True)


async def logout(request: web.Request) -> web.Response:
    await form_with_csrf(request)
    sid = await browser.session_id(request)
    if sid is not None:
        async with request.app[sessions_key]() as db, db.begin():
            await accounts.end_session(db, ctx(request), sid)  # the cookie is now worthless everywhere
    await browser.end(request)
    return redirect(url(request, "web-login"))


# ---------------------------------------------------------------- own account


async def _me(request: web.Request) -> User:
    identity = ctx(request).identity
    async with request.app[sessions_key]() as db:
        user = await db.get(User, identity.user_id) if identity.user_id else None
    if user is None:
        raise ApiError(403, "forbidden", "only user accounts have an account page")
    return user


async def account_page(request: web.Request) -> web.Response:
    user = await _me(request)
    async with request.app[sessions_key]() as db:
        view = await people.user_view(db, user)
        policy = await people.policy_for(db, user.role)
        assert user.id is not None
        tokens = await accounts.tokens_of(db, ctx(request), user.id)
    return await render(
        request, "pages/account/account.html", area="account", me=view, policy=policy, tokens=tokens,
        new_token=None,
    )  # fmt: skip


async def password_form(request: web.Request) -> web.Response:
    return await render(request, "pages/account/password.html", area="account", error=None)


async def password_submit(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    user = await _me(request)
    new, again = form.get("new_password", ""), form.get("new_password_again", "")
    if new != again:
        return await render(request, "pages/account/password.html", area="account", status=422,
                            error="The two new passwords differ.")  # fmt: skip
    c = ctx(request)
    try:
        async with request.app[sessions_key]() as db, db.begin():
            db.add(user)
            await accounts.change_password(db, c, user, form.get("current_password", ""), new)
            sid = await accounts.start_session(db, c, user, None, _ua(request))
    except ApiError as exc:
        return await render(request, "pages/account/password.html", area="account", status=exc.status,
                            error=exc.message)  # fmt: skip
    await browser.begin(request, sid)  # every other session of this user has ended
    message = "Password changed; your other sessions were signed out."
    return await done(request, url(request, "web-account"), message)


# ---------------------------------------------------------------- second factor


async def _totp_user(request: web.Request) -> tuple[User, bool, str]:
    """(user, signed in already?, where to go after) for the set-up page: signed in, or half-way."""
    identity = await signed_in(request)
    if identity is not None:
        return await _me(request), True, str(url(request, "web-account"))
    user, target = await _pending_user(request)
    return user, False, target


async def totp_form(request: web.Request) -> web.Response:
    user, _, _ = await _totp_user(request)
    secret, sealed = accounts.begin_totp(request.app[secret_box_key])
    async with request.app[sessions_key]() as db:
        policy = await people.policy_for(db, user.role)
    return await render(
        request, "pages/account/totp.html", area="account", user=user, secret=secret, sealed=sealed,
        uri=totp_uri(secret, user.name), required=policy.require_totp, error=None,
    )  # fmt: skip


async def totp_submit(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    user, already_in, target = await _totp_user(request)
    box = request.app[secret_box_key]
    c = ctx(request) if already_in else anonymous_ctx(request)
    if form.get("action") == "disable" and already_in:
        async with request.app[sessions_key]() as db, db.begin():
            policy = await people.policy_for(db, user.role)
            if policy.require_totp:
                raise ApiError(409, "required", f"the {user.role} role requires a second factor")
            db.add(user)
            await accounts.disable_totp(db, c, user)
        return await done(request, url(request, "web-account"), "Second factor turned off.")
    sealed = form.get("sealed", "")
    async with request.app[sessions_key]() as db, db.begin():
        db.add(user)
        ok = await accounts.enable_totp(db, c, box, user, sealed, form.get("code", ""))
    if not ok:
        secret = box.open(sealed) or ""
        return await render(
            request, "pages/account/totp.html", area="account", status=422, user=user, secret=secret,
            sealed=sealed, uri=totp_uri(secret, user.name) if secret else "", required=False,
            error="That code does not match; check the phone's clock and enter the current code.",
        )  # fmt: skip
    if already_in:
        return await done(request, url(request, "web-account"), "Second factor turned on.")
    return await _continue(request, c, user, target, totp_done=True)


# ---------------------------------------------------------------- API tokens


async def token_create(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    user = await _me(request)
    c = ctx(request)
    async with request.app[sessions_key]() as db, db.begin():
        row, secret = await accounts.create_token(db, c, user, form.get("name", "") or "token")
        view = await people.user_view(db, user)
        policy = await people.policy_for(db, user.role)
        assert user.id is not None
        tokens = await accounts.tokens_of(db, c, user.id)
    return await render(
        request, "pages/account/account.html", area="account", status=201, me=view, policy=policy,
        tokens=tokens, new_token=(row, secret),
    )  # fmt: skip


async def token_revoke(request: web.Request) -> web.Response:
    await form_with_csrf(request)
    token_id = int_param(request.match_info["token_id"], "token_id")
    async with request.app[sessions_key]() as db, db.begin():
        row = await accounts.revoke_token(db, ctx(request), token_id)
    return await done(request, url(request, "web-account"), f"Token {row.name} revoked.")


# ---------------------------------------------------------------- reset links


async def reset_form(request: web.Request) -> web.Response:
    async with request.app[sessions_key]() as db:
        found = await accounts.reset_target(db, anonymous_ctx(request), request.match_info["token"])
    if found is None:
        raise ApiError(
            404, "not_found", "This reset link is unknown, used or expired; ask an admin for a new one."
        )
    return await render(request, "pages/account/reset.html", user=found[1], error=None)


async def reset_submit(request: web.Request) -> web.Response:
    form = await form_with_csrf(request)
    new, again = form.get("new_password", ""), form.get("new_password_again", "")
    token = request.match_info["token"]
    c = anonymous_ctx(request)
    if new != again:
        async with request.app[sessions_key]() as db:
            found = await accounts.reset_target(db, c, token)
        if found is None:
            raise ApiError(404, "not_found", "This reset link is unknown, used or expired.")
        return await render(request, "pages/account/reset.html", status=422, user=found[1],
                            error="The two new passwords differ.")  # fmt: skip
    async with request.app[sessions_key]() as db, db.begin():
        user = await accounts.use_reset(db, c, token, new)
    return await done(request, url(request, "web-login"), f"Password set for {user.name}; sign in with it.")


ROLES = [r.value for r in Role]
