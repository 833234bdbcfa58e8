"""The integrator's name, logo and colours on every deliverable, with plain defaults.

Values end up in CSS and HTML, so they are checked here: colours are #rrggbb, the logo is a data:
URI of a PNG, JPEG or SVG image (documents never fetch anything from the network or the disk).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_LOGO = re.compile(r"data:image/(png|jpeg|svg\+xml);base64,[A-Za-z0-9+/=\s]+")
MAX_LOGO_CHARS = 2_000_000


class Branding(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    integrator_name: str = Field(default="asbuilt", min_length=1, max_length=200)
    contact: str | None = Field(default=None, max_length=500, description="Address, phone, e-mail")
    logo_data_uri: str | None = Field(default=None, max_length=MAX_LOGO_CHARS)
    primary_colour: str = Field(default="#24415f", description="Headings, table heads, cover band")
    accent_colour: str = Field(default="#c25e00", description="Rules and highlights")
    footer_note: str | None = Field(default=None, max_length=300)

    @field_validator("primary_colour", "accent_colour")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not _HEX_COLOUR.fullmatch(value):
            raise ValueError(f"colour must be #rrggbb, not {value!r}")
        return value.lower()

    @field_validator("logo_data_uri")
    @classmethod
    def _logo(cls, value: str | None) -> str | None:
        if value is not None and not _LOGO.fullmatch(value):
            raise ValueError("logo must be a base64 data: URI of a PNG, JPEG or SVG image")
        return value
