"""The pages' URL table and ``setup_web``, the one call create_app makes to mount them."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from collector.keys import config_key
from collector.web import views
from collector.web.filters import FILTERS
from collector.web.middleware import add_security_headers, pages_middleware
from collector.web.session import LoginThrottle, load_or_create_key, login_throttle_key, session_key_key

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"

PAGES: tuple[tuple[str, str, Handler, str], ...] = (
    ("GET", "/", views.sites_page, "web-sites"),
    ("GET", "/login", views.login_form, "web-login"),
    ("POST", "/login", views.login_submit, "web-login-submit"),
    ("POST", "/logout", views.logout, "web-logout"),
    ("GET", "/sites/{site}", views.site_page, "web-site"),
    ("GET", "/sites/{site}/versions", views.versions_page, "web-versions"),
    ("GET", "/sites/{site}/versions/{version}", views.version_page, "web-version"),
    ("GET", "/sites/{site}/versions/{version}/snapshot.json", views.download_snapshot, "web-snapshot"),
    ("POST", "/sites/{site}/versions/{version}/approve", views.approve_version, "web-approve"),
    ("GET", "/sites/{site}/diff", views.diff_page, "web-diff"),
)


def setup_web(app: web.Application) -> None:
    """Mount the pages on the collector app (call before the app starts)."""
    env = aiohttp_jinja2.setup(
        app,
        app_key=views.jinja_key,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value escaped, whatever its source
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the tests instead of printing ''
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    app[session_key_key] = load_or_create_key(app[config_key].data_dir)
    app[login_throttle_key] = LoginThrottle()
    for method, path, handler, name in PAGES:
        app.router.add_route(method, path, handler, name=name)
    app.router.add_static("/static/", STATIC_DIR, name="web-static", append_version=True)
    app.middlewares.append(pages_middleware)
    app.on_response_prepare.append(add_security_headers)
