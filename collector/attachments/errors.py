"""The one error an upload is refused with: a message a person can act on, and the HTTP status."""

from __future__ import annotations


class UploadRefused(Exception):
    """The file was not stored; ``message`` says why and what to do instead."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status  # 413 too large, 415 type refused or mismatched, 422 unreadable
        self.code = code
        self.message = message


def too_large(limit: int) -> UploadRefused:
    return UploadRefused(413, "too_large", f"the file is larger than the limit of {_size(limit)}")


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MiB" if n >= 1024 * 1024 else f"{n // 1024} KiB"
