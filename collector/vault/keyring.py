"""The master keys: kept by the operator, never in the database or its backups.

A keyring is text, one key per line, ``<key-id> <base64url of 32 bytes>``; ``#`` starts a comment.
The first key is *current* (it wraps new and re-wrapped data keys); the others only unwrap, so a
rotation can add a key, re-wrap every data key, and retire the old one later, while collectors that
still hold the old keyring keep working (they re-read the file when they meet an unknown key id).

Where it comes from, in order: ``ASBUILT_VAULT_KEYS`` (the keyring text itself, for containers and
secret managers), ``ASBUILT_VAULT_KEY_FILE``, else ``<data_dir>/vault.keys``, created once (0600)
when the collector first needs it. Lose every copy of it and the vault's values are gone for good.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from collector.config import CollectorConfig
from collector.vault.crypto import KEY_BYTES, new_key

KEYRING_FILENAME = "vault.keys"


class KeyringError(Exception):
    """A keyring that cannot be used; the message never contains key material."""


@dataclass(frozen=True)
class MasterKey:
    key_id: str
    secret: bytes = field(repr=False)


@dataclass(frozen=True)
class Keyring:
    keys: tuple[MasterKey, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError("the vault keyring holds no key")
        ids = [key.key_id for key in self.keys]
        if len(set(ids)) != len(ids):
            raise KeyringError("the vault keyring names one key id twice")

    @property
    def current(self) -> MasterKey:
        return self.keys[0]

    def get(self, key_id: str) -> MasterKey | None:
        return next((key for key in self.keys if key.key_id == key_id), None)

    def with_new_current(self, now: datetime | None = None) -> Keyring:
        """A new random key in front; the old ones stay to unwrap until retired."""
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        key = MasterKey(f"mk-{stamp}-{secrets.token_hex(2)}", new_key())
        return Keyring((key, *self.keys))

    def retire_all_but_current(self) -> Keyring:
        return Keyring((self.current,))

    def to_text(self) -> str:
        lines = ["# asbuilt vault master keys: the first is current. Keep a copy apart from backups."]
        lines += [f"{key.key_id} {base64.urlsafe_b64encode(key.secret).decode()}" for key in self.keys]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Keyring:
        keys: list[MasterKey] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2:
                raise KeyringError(f"vault keyring line {number}: expected '<key-id> <base64 key>'")
            key_id, encoded = parts
            try:
                secret = base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=b"-_", validate=True)
            except (binascii.Error, ValueError):
                raise KeyringError(f"vault keyring line {number}: the key is not base64") from None
            if len(secret) != KEY_BYTES:
                raise KeyringError(f"vault keyring line {number}: a key is {KEY_BYTES} bytes")
            keys.append(MasterKey(key_id, secret))
        return cls(tuple(keys))


@dataclass(frozen=True)
class KeyringSource:
    """Where this collector reads its keyring from; ``load`` re-reads it (after a rotation)."""

    text: str | None = None
    path: Path | None = None

    @classmethod
    def for_config(cls, config: CollectorConfig) -> KeyringSource:
        """ASBUILT_VAULT_KEYS (the text), else ASBUILT_VAULT_KEY_FILE, else <data_dir>/vault.keys."""
        if config.vault_keys is not None and config.vault_keys.get_secret_value():
            return cls(text=config.vault_keys.get_secret_value())
        return cls(path=config.vault_key_file or config.data_dir / KEYRING_FILENAME)

    @property
    def writable(self) -> bool:
        return self.path is not None

    def load(self, *, create: bool = False) -> Keyring:
        if self.text is not None:
            return Keyring.parse(self.text)
        assert self.path is not None
        if not self.path.exists():
            if not create:
                raise KeyringError(f"no vault keyring at {self.path}")
            keyring = Keyring((MasterKey("mk-initial-" + secrets.token_hex(2), new_key()),))
            self.save(keyring, create_only=True)
            return keyring
        mode = self.path.stat().st_mode & 0o077
        if mode:
            raise KeyringError(f"the vault keyring {self.path} is readable by others: chmod 600 it")
        return Keyring.parse(self.path.read_text())

    def save(self, keyring: Keyring, *, create_only: bool = False) -> None:
        """Atomically (write, fsync, rename), mode 0600 whatever the umask."""
        if self.path is None:
            raise KeyringError("the keyring comes from ASBUILT_VAULT_KEYS: rotate it where it is kept")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if create_only and self.path.exists():
            return
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, keyring.to_text().encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
