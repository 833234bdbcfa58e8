"""WS-Security UsernameToken checking, the way camera firmware does it.

PasswordDigest = Base64(SHA1(nonce + created + password)), where `created` is the token's own
timestamp string. The timestamp is judged against the DEVICE's clock (true time + its offset), with
the ±300 s window real firmware uses: a client whose clock disagrees with the camera's by more than
that is refused even with the right password, which is why clients read GetSystemDateAndTime first.
PasswordText is accepted too, as most firmware does.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac

from lab.onvif.soap import UsernameToken
from lab.site import Credential

CREATED_WINDOW_S = 300.0


def password_digest(nonce: bytes, created: str, password: str) -> str:
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def _parse_created(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def token_is_valid(token: UsernameToken, credential: Credential, device_now: dt.datetime) -> bool:
    """True when the token names the device's user, proves its password and is fresh on its clock."""
    if not hmac.compare_digest(token.username.encode(), credential.username.encode()):
        return False
    if not token.digest:
        return hmac.compare_digest(token.password.encode(), credential.password.encode())
    created = _parse_created(token.created)
    if created is None or abs((created - device_now).total_seconds()) > CREATED_WINDOW_S:
        return False
    try:
        nonce = base64.b64decode(token.nonce, validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = password_digest(nonce, token.created, credential.password)
    return hmac.compare_digest(expected.encode(), token.password.encode())
