"""The one exception views raise: it becomes a JSON error body with the request id."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error with a stable machine code and, for validation, the field that failed."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.errors = errors
        self.headers = headers or {}

    def body(self, request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        if self.errors:
            error["errors"] = self.errors
        return {"error": error, "request_id": request_id}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def unauthorized(message: str = "a valid bearer token is required") -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="asbuilt"'})


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)
