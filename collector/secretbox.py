"""Keys kept in the data directory, and Fernet encryption of small secrets at rest (TOTP seeds).

Each key is 32 random bytes in a file of its own (mode 0600), created once. Several collector
instances must share the data directory (or the files) so they read the same keys.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

SESSION_KEY_FILE = "web-session-key"
SECRETS_KEY_FILE = "secrets-key"


def load_or_create_key(data_dir: Path, filename: str) -> bytes:
    path = data_dir / filename
    if path.exists():
        key = bytes.fromhex(path.read_text().strip())
        if len(key) >= 32:
            return key[:32]
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex() + "\n")
    return key


def fernet(key: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(key))


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = fernet(key)

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str | None:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None
