"""The collector as a real service process, for end-to-end tests.

`asbuilt collector serve` runs in a subprocess on a free loopback port, on SQLite in a temp dir or
on a throwaway PostgreSQL database (`postgres_database()` creates it and always drops it). A small
JSON client speaks the admin API; `enrol()` trades a one-time code for an agent token file, as an
installer would. Children get an environment without ASBUILT_* settings of the caller, so nothing
from the developer's shell (a database URL, env credentials) leaks into a test.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg

ASBUILT = Path(sys.executable).with_name("asbuilt")
ADMIN_TOKEN = "e2e-admin-" + secrets.token_hex(12)
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "root"
START_TIMEOUT_S = 60.0
HTTP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASBUILT_")}
    return {**env, **extra}


# ---------------------------------------------------------------- PostgreSQL


async def _pg_admin(sql: str) -> None:
    try:
        conn = await asyncpg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres", timeout=10
        )
    except (OSError, asyncpg.PostgresError) as exc:
        raise RuntimeError(f"PostgreSQL at {PG_HOST}:{PG_PORT} (user {PG_USER}) is required: {exc}") from exc
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def postgres_database(prefix: str = "asb_e2e") -> Iterator[str]:
    """A fresh database for one test; dropped afterwards even if connections are still open."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# ---------------------------------------------------------------- the service


class HttpError(RuntimeError):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:2000]}")
        self.status = status


class CollectorProcess:
    def __init__(
        self,
        data_dir: Path,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
        *,
        port: int | None = None,
        serve_args: tuple[str, ...] = (),
    ) -> None:
        self.data_dir, self.database_url, self.extra_env = data_dir, database_url, env or {}
        self.port = port or free_port()
        self.serve_args = serve_args
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir / "collector.log"

    def _db_args(self) -> list[str]:
        return ["--data-dir", str(self.data_dir)] + (
            ["--database-url", self.database_url] if self.database_url else []
        )

    def start(self) -> CollectorProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [
                    str(ASBUILT),
                    "collector",
                    "serve",
                    "--port",
                    str(self.port),
                    *self.serve_args,
                    *self._db_args(),
                ],
                env=clean_env(ASBUILT_ADMIN_TOKEN=ADMIN_TOKEN, **self.extra_env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"collector exited:\n{self.log.read_text()[-3000:]}")
            if self.serve_args and "Running on" not in self.log.read_text(errors="replace"):
                time.sleep(0.1)  # a shared port answers already: wait for this process's own banner
                continue
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"collector did not listen within {START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def __enter__(self) -> CollectorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ enrolment

    def enrol_code(self, site: str, customer: str = "Meridian Logistics") -> str:
        done = subprocess.run(
            [str(ASBUILT), "collector", "enrol-code", "--customer", customer, "--site", site,
             *self._db_args()],
            env=clean_env(ASBUILT_ADMIN_TOKEN=ADMIN_TOKEN),
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"enrol-code failed ({done.returncode}): {done.stderr[-2000:]}")
        return done.stdout.strip().splitlines()[-1]

    def enrol(self, site: str, token_file: Path, agent_name: str = "e2e-agent") -> dict[str, Any]:
        """Enrol an agent for `site` and store its token owner-only in `token_file`."""
        body = {"code": self.enrol_code(site), "agent_name": agent_name}
        answer = self.request("POST", "/api/v1/enrol", body, token=None)  # the code is the credential
        if answer.get("site_id") != site:
            raise RuntimeError(f"enrolled for {answer.get('site_id')!r}, not {site!r}")
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(str(answer["token"]) + "\n")
        return dict(answer)

    # ------------------------------------------------------------ admin API

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = ADMIN_TOKEN
    ) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_S) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise HttpError(exc.code, exc.read().decode(errors="replace")) from None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("POST", path, body)
