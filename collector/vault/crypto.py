"""AES-256-GCM for the vault, through ``cryptography`` (no hand-written cipher code here).

A sealed value is ``FORMAT || nonce (12 bytes) || ciphertext || tag (16 bytes)``. The nonce is random
per seal: with 96-bit random nonces one key is safe for far more values than a vault ever holds
(NIST SP 800-38D allows 2^32 seals per key). The associated data (``aad``) is not stored: the caller
rebuilds it from where the value lives, so a value moved to another entry fails to open.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
FORMAT_V1 = b"\x01"


class VaultCryptoError(Exception):
    """A value that does not open: wrong key, wrong place (associated data), or damaged bytes."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    _check_key(key)
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_V1 + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    _check_key(key)
    if len(sealed) < 1 + NONCE_BYTES + TAG_BYTES or sealed[:1] != FORMAT_V1:
        raise VaultCryptoError("not a sealed vault value (unknown format or truncated)")
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise VaultCryptoError("the value does not open with this key here (wrong key or moved)") from None


def wrap_key(master: bytes, data_key: bytes, aad: bytes) -> bytes:
    """A data key sealed by a master key: what the database stores."""
    _check_key(data_key)
    return seal(master, data_key, aad)


def unwrap_key(master: bytes, wrapped: bytes, aad: bytes) -> bytes:
    data_key = unseal(master, wrapped, aad)
    _check_key(data_key)
    return data_key


def _check_key(key: bytes) -> None:
    if len(key) != KEY_BYTES:
        raise VaultCryptoError(f"a vault key is {KEY_BYTES} bytes, not {len(key)}")
