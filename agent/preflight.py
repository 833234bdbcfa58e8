"""Usage checks that run before any scanning: a mistake in the command line or the setup is found in
the first second, with one plain line and exit code 2, not after a ten-minute scan.

Pure checks of arguments and of files on disk (no network): the collector URL is well formed, a
push has a token, the credential file is a readable file and not readable by others (a warning:
it holds device passwords), the site id is one the collector will accept.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from drivers.schema import check_site_id

TOKEN_ENV = "ASBUILT_AGENT_TOKEN"


class UsageError(ValueError):
    """A mistake the user can fix before anything runs; the message is one line."""


def check_collector_url(url: str, what: str = "--push") -> str:
    """``http(s)://host[:port][/prefix]``, else UsageError."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        raise UsageError(
            f"{what}: {url!r} is not a collector URL (e.g. https://collector.example:8080)"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in url.strip():
        raise UsageError(f"{what}: {url!r} is not a collector URL (e.g. https://collector.example:8080)")
    if port == 0:
        raise UsageError(f"{what}: {url!r} has no usable port")
    return url.strip()


def check_token_file(path: Path) -> None:
    """The agent token file exists, is a file, and holds something."""
    if not path.exists():
        raise UsageError(f"no agent token at {path}: run `asbuilt agent enrol` first")
    if not path.is_file():
        raise UsageError(f"the agent token path {path} is not a file")
    try:
        if not path.read_text().strip():
            raise UsageError(f"the agent token file {path} is empty: enrol again")
    except OSError as exc:
        raise UsageError(f"cannot read the agent token file {path}: {exc.strerror}") from None


def check_push(url: str, token_file: Path | None, env: Mapping[str, str] | None = None) -> None:
    """Everything a push needs, before the scan it would push."""
    check_collector_url(url)
    environ = os.environ if env is None else env
    if token_file is not None:
        check_token_file(token_file)
    elif not environ.get(TOKEN_ENV, "").strip():
        raise UsageError(f"--push needs --token-file (or ASBUILT_AGENT_TOKEN_FILE / {TOKEN_ENV})")


def check_credentials_file(path: Path) -> list[str]:
    """A readable regular file; returns warnings (group/world-readable: it holds passwords)."""
    if not path.exists():
        raise UsageError(f"credential file {path} does not exist")
    if path.is_dir():
        raise UsageError(f"credential file {path} is a directory, not a file")
    try:
        mode = path.stat().st_mode
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise UsageError(f"cannot read credential file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise UsageError(f"credential file {path} is not a regular file")
    if mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP | stat.S_IWOTH):
        return [
            f"credential file {path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
            f"it holds device passwords: chmod 600 {path}"
        ]
    return []


def check_site(site: str) -> None:
    try:
        check_site_id(site)
    except ValueError as exc:
        raise UsageError(f"--site: {exc}") from None


def check_scan(*, site: str, creds: Path | None, push: str | None, token_file: Path | None) -> list[str]:
    """The checks of `asbuilt scan`; returns warnings to print, raises UsageError."""
    check_site(site)
    warnings = check_credentials_file(creds) if creds is not None else []
    if push is not None:
        check_push(push, token_file)
    return warnings


def check_service(*, site: str, collector_url: str, creds_file: Path | None) -> list[str]:
    """The checks of `asbuilt agent run` / `push`, from its configuration file."""
    check_site(site)
    check_collector_url(collector_url, "collector_url")
    return check_credentials_file(creds_file) if creds_file is not None else []
