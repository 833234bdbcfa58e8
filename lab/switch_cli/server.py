"""SSH server for one simulated switch: password login, an interactive CLI shell, exec requests.

The listening socket comes from SimHost.tcp_listener, so it lives in the switch's namespace (or on
its loopback address). Connections are accepted here and handed to asyncssh one by one, which lets a
switch that "stopped answering" (state.gone) hold a connection open in silence, as a hung device
does. The switch is looked up in the lab state on every login and command, so live changes show.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import logging
import socket

import asyncssh

from lab.host import SimHost
from lab.site import LabSite, Switch
from lab.state import LabState
from lab.switch_cli.shell import SPECS, CliSession, LineReader, RenderCache

log = logging.getLogger(__name__)

MAX_SESSIONS = 16  # vty 0 15
LOGIN_TIMEOUT_S = 30.0
IDLE_TIMEOUT_S = 600.0  # exec-timeout 10 0
SILENT_HOLD_S = 60.0  # how long a gone switch keeps a connection open without a word
READ_CHUNK = 4096
# What each platform announces in its SSH identification string.
_SERVER_VERSION = {"cisco_ios": "Cisco-1.25", "hp_procurve": "Mocana SSH 6.3"}


class _Auth(asyncssh.SSHServer):
    """Password authentication against the switch's configured credential."""

    def __init__(self, state: LabState, name: str) -> None:
        self._state = state
        self._name = name

    def begin_auth(self, username: str) -> bool:
        return True  # always ask for a password

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        switch = self._state.switch(self._name)
        if switch is None or switch.faults.reject_credentials:
            return False
        want = switch.credential
        user_ok = hmac.compare_digest(username.encode(), want.username.encode())
        return hmac.compare_digest(password.encode(), want.password.encode()) and user_ok


class SshServer:
    """A running SSH service of one switch; `close()` stops accepting and ends every session."""

    def __init__(
        self, state: LabState, name: str, listener: socket.socket, host_key: asyncssh.SSHKey
    ) -> None:
        self._state = state
        self._name = name
        self._listener = listener
        self._host_key = host_key
        self._sessions: set[asyncio.Task[None]] = set()
        self._silent: set[socket.socket] = set()
        self._renders = RenderCache()
        self._acceptor = asyncio.create_task(self._accept_loop(), name=f"ssh-accept-{name}")

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    async def close(self) -> None:
        self._acceptor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._acceptor
        self._listener.close()
        for task in list(self._sessions):
            task.cancel()
        if self._sessions:
            await asyncio.gather(*self._sessions, return_exceptions=True)
        for sock in list(self._silent):
            sock.close()
        self._silent.clear()

    async def _accept_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _peer = await loop.sock_accept(self._listener)
            except OSError as exc:  # e.g. out of file descriptors: keep serving once it passes
                log.warning("ssh accept on %s failed: %s", self._name, exc)
                await asyncio.sleep(0.5)
                continue
            if self._name in self._state.gone:
                self._hold_silently(conn)
            elif len(self._sessions) >= MAX_SESSIONS:
                conn.close()  # all vty lines busy
            else:
                task = asyncio.create_task(self._serve(conn), name=f"ssh-{self._name}")
                self._sessions.add(task)
                task.add_done_callback(self._sessions.discard)

    def _hold_silently(self, conn: socket.socket) -> None:
        self._silent.add(conn)

        def release() -> None:
            self._silent.discard(conn)
            conn.close()

        asyncio.get_running_loop().call_later(SILENT_HOLD_S, release)

    async def _serve(self, conn: socket.socket) -> None:
        try:
            ssh = await asyncssh.run_server(
                conn,
                server_factory=lambda: _Auth(self._state, self._name),
                server_host_keys=[self._host_key],
                process_factory=self._run_process,
                line_editor=False,  # the CLI does its own echo (and none for passwords)
                encoding="utf-8",
                login_timeout=LOGIN_TIMEOUT_S,
                server_version=_SERVER_VERSION.get(self._dialect_name(), "OpenSSH_8.0"),
            )
            try:
                await ssh.wait_closed()
            finally:
                ssh.close()  # also when the server is closed (task cancelled)
        except (OSError, asyncssh.Error, TimeoutError) as exc:
            log.debug("ssh session on %s ended: %s", self._name, exc)
            conn.close()

    def _dialect_name(self) -> str:
        switch = self._state.switch(self._name)
        return switch.dialect.value if switch is not None else ""

    async def _run_process(self, process: asyncssh.SSHServerProcess[str]) -> None:
        switch = self._state.switch(self._name)
        if switch is None:
            process.exit(1)
            return
        session = CliSession(SPECS[switch.dialect], self._lookup, self._renders)
        try:
            if process.command is not None:
                await self._delay()
                process.stdout.write(await asyncio.to_thread(session.run_once, process.command))
            else:
                await self._interact(process, session)
        except (OSError, asyncssh.Error, TimeoutError) as exc:
            log.debug("ssh shell on %s ended: %s", self._name, exc)
        finally:
            process.exit(0)

    async def _interact(self, process: asyncssh.SSHServerProcess[str], session: CliSession) -> None:
        reader = LineReader()
        process.stdout.write(session.start())
        while True:
            data = await asyncio.wait_for(process.stdin.read(READ_CHUNK), IDLE_TIMEOUT_S)
            if not data:
                return
            for char in data:
                if self._name in self._state.gone:
                    continue  # the switch hangs: it reads but never answers
                if process.is_closing():
                    return  # the client hung up with input still unread: nobody reads an echo
                echo, line = reader.push(char, session.echo, session.single_key)
                if echo:
                    process.stdout.write(echo)
                if line is None:
                    continue
                await self._delay()
                # Rendering a large site's tables takes a while: keep the lab's event loop free.
                reply = await asyncio.to_thread(session.handle, line)
                if process.is_closing():
                    return
                process.stdout.write(reply.text)
                if reply.close:
                    return

    async def _delay(self) -> None:
        switch = self._state.switch(self._name)
        if switch is not None and switch.faults.slow_reply_s > 0:
            await asyncio.sleep(switch.faults.slow_reply_s)

    def _lookup(self) -> tuple[LabSite, Switch] | None:
        site = self._state.site  # one read: the switch and its site always come from the same version
        switch = next((s for s in site.switches if s.name == self._name), None)
        return None if switch is None else (site, switch)


_host_keys: dict[tuple[str, str], asyncssh.SSHKey] = {}


async def _host_key(switch: Switch) -> asyncssh.SSHKey:
    """An RSA host key (both real models use RSA), made in memory the first time this switch starts.

    Like a real switch, it keeps its key when restarted, for as long as this process lives; a
    replaced switch (other serial) gets a new one. Never written to disk.
    """
    key = (switch.name, switch.serial)
    if key not in _host_keys:
        _host_keys[key] = await asyncio.to_thread(
            functools.partial(asyncssh.generate_private_key, "ssh-rsa", key_size=2048)
        )
    return _host_keys[key]


async def start_ssh(state: LabState, name: str, host: SimHost) -> SshServer:
    """Serve switch `name`'s CLI over SSH on host.ports.ssh at its address (the lab runner calls this)."""
    switch = state.switch(name)
    if switch is None:
        raise ValueError(f"no switch named {name!r} in the lab site")
    host_key = await _host_key(switch)
    listener = host.tcp_listener(host.ports.ssh)
    return SshServer(state, name, listener, host_key)
