"""Errors of record edits, each with a message a person can act on."""

from __future__ import annotations


class RecordError(Exception):
    """A record edit that was refused (the view turns it into a 4xx naming the reason)."""


class StaleEdit(RecordError):
    """The row changed since the editor loaded it (409): reload and retry."""


class NotFound(RecordError):
    """The row (or its site) does not exist (404)."""


class Invalid(RecordError):
    """A value the record cannot hold (422); ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
