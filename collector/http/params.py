"""Request parameters, parsed alike for the API and the pages: ids and limits are ASCII digits up to
``MAX_ID``, free text is trimmed, bounded and storable, flags are 1 or 0; anything else is a 422
naming the parameter."""

from __future__ import annotations

import re

from collector.errors import ApiError
from drivers.schema import storable

MAX_ID = 2**31 - 1  # INTEGER columns on PostgreSQL

_DIGITS = re.compile(r"-?[0-9]{1,19}")


def int_param(
    value: str | None, name: str, *, default: int | None = None, minimum: int = 1, maximum: int = MAX_ID
) -> int:
    if value is None or value == "":
        if default is None:
            raise ApiError(422, "missing_parameter", f"the parameter {name!r} is required", field=name)
        return default
    if not _DIGITS.fullmatch(value):  # also keeps 5,000-digit numbers away from int()
        raise ApiError(422, "invalid_parameter", f"{name} must be an integer, got {value[:40]!r}", field=name)
    number = int(value)
    if number < minimum:
        raise ApiError(422, "invalid_parameter", f"{name} must be at least {minimum}", field=name)
    if number > maximum:
        raise ApiError(422, "invalid_parameter", f"{name} must be at most {maximum}", field=name)
    return number


def text_param(value: str | None, name: str, *, max_length: int = 200) -> str:
    """A free-text parameter (a search term): trimmed, bounded, and storable, else 422."""
    text = (value or "").strip()
    if len(text) > max_length:
        raise ApiError(422, "invalid_parameter", f"{name} is longer than {max_length} characters", field=name)
    try:
        return storable(text)
    except ValueError as exc:
        raise ApiError(422, "invalid_parameter", f"{name}: {exc}", field=name) from None


def flag_param(value: str | None, name: str) -> bool:
    if value in (None, "", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ApiError(422, "invalid_parameter", f"{name} must be 1 or 0", field=name)
