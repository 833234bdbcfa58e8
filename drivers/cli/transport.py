"""CLI transports: an SSH session through netmiko (blocking, so run in a thread) and a replay of
recorded command output from a fixture folder.

A session sends one command at a time and returns its raw text. netmiko's exceptions are turned into
``drivers.errors`` here and nowhere else; their messages carry host and user, never a password.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from typing import Any, Protocol

from netmiko import ConnectHandler
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoBaseException,
    NetmikoTimeoutException,
    ReadTimeout,
)
from paramiko.ssh_exception import SSHException

from drivers.base import Credential
from drivers.errors import AuthError, DeviceTimeout, DriverError, ProtocolError, Unreachable

MAX_OUTPUT_CHARS = 2_000_000  # a running-config of a big stack is ~200 kB; anything larger is hostile


class CliSession(Protocol):
    async def send(self, command: str) -> str:
        """The raw output of one command ('' when the device printed nothing)."""
        ...

    async def close(self) -> None: ...


def command_filename(command: str) -> str:
    """Fixture file name of a command: 'show mac address-table' -> 'show_mac_address-table.txt'."""
    return "_".join(command.split()) + ".txt"


class ReplaySession:
    """Serves recorded output from a folder (one file per command). A command without a file answers
    the way IOS does to a command it does not know."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sent: list[str] = []

    async def send(self, command: str) -> str:
        self.sent.append(command)
        path = self.folder / command_filename(command)
        if not path.is_file():
            return "% Invalid input detected at '^' marker.\n"
        return path.read_text()

    async def close(self) -> None:
        return None


class EnableRefused(Exception):
    """The login worked, the enable secret did not."""


class OutputBudget:
    """Counts what a command's output has cost so far, as netmiko reads it: a device that never
    stops talking is refused at MAX_OUTPUT_CHARS, not after its whole output is in memory."""

    def __init__(self, limit: int = MAX_OUTPUT_CHARS) -> None:
        self.limit = limit
        self.used = 0

    def reset(self) -> None:
        self.used = 0

    def wrap(self, read_channel: Any) -> Any:
        def bounded_read_channel(*args: Any, **kwargs: Any) -> Any:
            data = read_channel(*args, **kwargs)
            self.used += len(data or "")
            if self.used > self.limit:
                raise OutputTooLarge(f"output larger than {self.limit} characters (refused while reading)")
            return data

        return bounded_read_channel


class OutputTooLarge(Exception):
    """The device sent more output than any real switch does."""


def _wrap(exc: BaseException, host: str, operation: str) -> DriverError:
    """The drivers.errors equivalent of a netmiko / paramiko / socket failure."""
    where = f"{operation} {host}"
    if isinstance(exc, OutputTooLarge):
        return ProtocolError(f"{where}: {exc}", operation=operation)
    if isinstance(exc, NetmikoAuthenticationException):
        return AuthError(f"{where}: authentication failed", operation=operation)
    if isinstance(exc, ReadTimeout | NetmikoTimeoutException | socket.timeout | TimeoutError):
        return DeviceTimeout(f"{where}: {type(exc).__name__}: {str(exc)[:200]}", operation=operation)
    if isinstance(exc, ConnectionRefusedError | ConnectionResetError):
        return Unreachable(f"{where}: {exc.strerror or exc}", operation=operation)
    if isinstance(exc, EnableRefused):
        return AuthError(f"{where}: enable secret refused", operation=operation)
    if isinstance(exc, OSError) and not isinstance(exc, SSHException):
        return Unreachable(f"{where}: {exc}", operation=operation)
    if isinstance(exc, SSHException | NetmikoBaseException | EOFError):
        return ProtocolError(f"{where}: {type(exc).__name__}: {str(exc)[:200]}", operation=operation)
    return ProtocolError(f"{where}: unexpected {type(exc).__name__}", operation=operation)


class NetmikoSession:
    """One SSH CLI session through netmiko. Every blocking call runs in a worker thread."""

    def __init__(self, connection: Any, host: str, read_timeout_s: float) -> None:
        self._connection = connection
        self._host = host
        self._read_timeout_s = read_timeout_s
        self._budget = OutputBudget()
        connection.read_channel = self._budget.wrap(connection.read_channel)

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        platform: str,
        credential: Credential,
        *,
        timeout_s: float,
        privileged: bool,
    ) -> NetmikoSession:
        secret = credential.enable_secret.get_secret_value() if credential.enable_secret else ""
        # Reading a long table (a big MAC table) takes longer than the login; give every read room,
        # but bounded: netmiko's own defaults wait up to 100 s for a prompt.
        read_timeout_s = max(5.0, timeout_s * 4)
        params: dict[str, Any] = {
            "device_type": platform,
            "host": host,
            "port": port,
            "username": credential.username,
            "password": credential.password.get_secret_value(),
            "secret": secret,
            "conn_timeout": timeout_s,
            "auth_timeout": timeout_s,
            "banner_timeout": timeout_s,
            "read_timeout_override": read_timeout_s,
            "fast_cli": True,
            "allow_agent": False,
            "use_keys": False,
            "ssh_strict": False,
            "system_host_keys": False,
        }

        def connect() -> Any:
            connection = ConnectHandler(**params)
            try:
                if privileged and not connection.check_enable_mode():
                    try:
                        connection.enable()
                    except (ReadTimeout, ValueError) as exc:
                        # IOS asks for the enable secret again after a wrong one, so netmiko waits
                        # for a prompt that never comes (ReadTimeout) or says it is not in enable mode.
                        raise EnableRefused from exc
            except BaseException:
                connection.disconnect()
                raise
            return connection

        try:
            connection = await asyncio.to_thread(connect)
        except Exception as exc:
            raise _wrap(exc, host, "connect") from None
        return cls(connection, host, read_timeout_s=read_timeout_s)

    async def send(self, command: str) -> str:
        self._budget.reset()
        try:
            output = await asyncio.to_thread(
                self._connection.send_command, command, read_timeout=self._read_timeout_s
            )
        except Exception as exc:
            raise _wrap(exc, self._host, command) from None
        text = str(output)
        if len(text) > MAX_OUTPUT_CHARS:
            raise ProtocolError(
                f"{command}: output larger than {MAX_OUTPUT_CHARS} characters", operation=command
            )
        return text

    async def close(self) -> None:
        with contextlib.suppress(
            Exception
        ):  # the session is over either way; a failed logout changes nothing
            await asyncio.to_thread(self._connection.disconnect)
