"""Secrets the collector hands out: agent bearer tokens and one-time enrolment codes.

Both are random with at least 80 bits of entropy, shown once, and stored only as a sha256 hash,
so a copy of the database does not let anyone push as an agent. (A slow hash such as argon2 is
for human passwords; these are long random strings, and lookup by hash keeps auth O(1).)
"""

from __future__ import annotations

import hashlib
import secrets

AGENT_TOKEN_PREFIX = "asb_agent_"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes get read aloud and typed
_CODE_GROUPS, _CODE_GROUP_LEN = 4, 4  # 16 symbols of 32 = 80 bits


def new_agent_token() -> str:
    return AGENT_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_enrolment_code() -> str:
    symbols = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_GROUPS * _CODE_GROUP_LEN))
    return "-".join(symbols[i : i + _CODE_GROUP_LEN] for i in range(0, len(symbols), _CODE_GROUP_LEN))


def normalise_code(code: str) -> str:
    """Codes are accepted in any case, with or without dashes and spaces."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
