"""The only exceptions drivers raise. Library errors are wrapped at the transport edge.

Each error knows the `ProblemKind` it becomes in a snapshot, so the agent turns any failure into a
`Problem` record without a table of its own.
"""

from __future__ import annotations

from drivers.schema import ProblemKind


class DriverError(Exception):
    kind: ProblemKind = ProblemKind.INTERNAL

    def __init__(self, message: str, *, operation: str | None = None) -> None:
        super().__init__(message)
        self.operation = operation


class ConnectError(DriverError):
    kind = ProblemKind.UNREACHABLE


class Unreachable(ConnectError):
    kind = ProblemKind.UNREACHABLE


class DeviceTimeout(ConnectError):
    kind = ProblemKind.TIMEOUT


class AuthError(ConnectError):
    """The device refused the credential. The agent tries the next one (and not too many)."""

    kind = ProblemKind.AUTH


class ProtocolError(DriverError):
    """The device answered, but not in a form we can read (invalid XML or UTF-8, wrong protocol)."""

    kind = ProblemKind.PROTOCOL


class NotSupported(DriverError):
    kind = ProblemKind.UNSUPPORTED


class ParseError(DriverError):
    """A parser met output it does not understand; carries the offending line."""

    kind = ProblemKind.PARSE
