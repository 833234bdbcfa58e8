"""The vault's cipher and keyring: known answers, tamper and misplacement detection, rotation."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from collector.config import CollectorConfig
from collector.vault.crypto import (
    FORMAT_V1,
    VaultCryptoError,
    new_key,
    seal,
    unseal,
    unwrap_key,
    wrap_key,
)
from collector.vault.keyring import Keyring, KeyringError, KeyringSource

# McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 13, 14 and 16 (AES-256).
K0 = bytes(32)
K16 = bytes.fromhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
IV16 = bytes.fromhex("cafebabefacedbaddecaf888")
P16 = bytes.fromhex(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525"
    "b16aedf5aa0de657ba637b39"
)
A16 = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
C16 = bytes.fromhex(
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838"
    "c5f61e6393ba7a0abcc9f662"
)
T16 = bytes.fromhex("76fc6ece0f4e1768cddf8853bb2d551b")


@pytest.mark.parametrize(
    ("key", "iv", "plaintext", "aad", "expected"),
    [
        (K0, bytes(12), b"", b"", bytes.fromhex("530f8afbc74536b9a963b4f1c4cb738b")),
        (
            K0,
            bytes(12),
            bytes(16),
            b"",
            bytes.fromhex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"),
        ),
        (K16, IV16, P16, A16, C16 + T16),
    ],
    ids=["case13-empty", "case14-zero-block", "case16-with-aad"],
)
def test_the_cipher_gives_the_published_answers(
    key: bytes, iv: bytes, plaintext: bytes, aad: bytes, expected: bytes
) -> None:
    assert AESGCM(key).encrypt(iv, plaintext, aad) == expected
    # unseal reads our framing around the same primitive: the published ciphertext opens.
    assert unseal(key, FORMAT_V1 + iv + expected, aad) == plaintext


def test_a_sealed_value_opens_only_with_its_key_and_in_its_place() -> None:
    key = new_key()
    sealed = seal(key, b"Adm1n!pass", b"entry:7")
    assert b"Adm1n!pass" not in sealed
    assert unseal(key, sealed, b"entry:7") == b"Adm1n!pass"
    with pytest.raises(VaultCryptoError, match="moved"):
        unseal(key, sealed, b"entry:8")  # copied onto another entry
    with pytest.raises(VaultCryptoError):
        unseal(new_key(), sealed, b"entry:7")
    damaged = bytearray(sealed)
    damaged[-1] ^= 1
    with pytest.raises(VaultCryptoError):
        unseal(key, bytes(damaged), b"entry:7")
    with pytest.raises(VaultCryptoError, match="format"):
        unseal(key, sealed[:10], b"entry:7")


def test_each_seal_uses_a_fresh_nonce() -> None:
    key = new_key()
    assert len({seal(key, b"same", b"a") for _ in range(50)}) == 50


def test_wrapped_data_keys_unwrap_only_with_the_master_key() -> None:
    master, data_key = new_key(), new_key()
    wrapped = wrap_key(master, data_key, b"org:1")
    assert unwrap_key(master, wrapped, b"org:1") == data_key
    with pytest.raises(VaultCryptoError):
        unwrap_key(new_key(), wrapped, b"org:1")
    with pytest.raises(VaultCryptoError, match="32 bytes"):
        wrap_key(master, b"short", b"org:1")


def test_keyring_text_round_trips_and_refuses_bad_lines() -> None:
    with pytest.raises(KeyringError, match="no key"):
        Keyring(())
    ring = Keyring.parse("# comment\n\n" + _line("a") + "\n" + _line("b") + "  # old\n")
    assert [key.key_id for key in ring.keys] == ["a", "b"]
    assert Keyring.parse(ring.to_text()) == ring
    assert "secret" not in repr(ring.current) and ring.current.secret.hex() not in repr(ring)
    for bad, message in [
        ("a", "expected"),
        ("a !!!", "base64"),
        ("a " + "QUJD", "32 bytes"),
        (_line("a") + "\n" + _line("a"), "twice"),
    ]:
        with pytest.raises(KeyringError, match=message) as raised:
            Keyring.parse(bad)
        assert "QUJD" not in str(raised.value)


def test_rotation_puts_a_new_key_first_and_keeps_the_old_to_unwrap() -> None:
    ring = Keyring.parse(_line("old"))
    data_key = new_key()
    wrapped_old = wrap_key(ring.current.secret, data_key, b"org:1")
    rotated = ring.with_new_current()
    assert rotated.current.key_id != "old" and rotated.get("old") == ring.current
    rewrapped = wrap_key(rotated.current.secret, unwrap_key(rotated.get("old").secret, wrapped_old, b"org:1"),
                         b"org:1")  # fmt: skip
    retired = rotated.retire_all_but_current()
    assert retired.get("old") is None
    assert unwrap_key(retired.current.secret, rewrapped, b"org:1") == data_key


def test_the_keyring_file_is_created_private_and_refused_when_others_can_read_it(tmp_path: Path) -> None:
    old_umask = os.umask(0)
    try:
        source = KeyringSource.for_config(CollectorConfig(data_dir=tmp_path))
        ring = source.load(create=True)
    finally:
        os.umask(old_umask)
    path = tmp_path / "vault.keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert source.load() == ring
    path.chmod(0o644)
    with pytest.raises(KeyringError, match="readable by others"):
        source.load()
    with pytest.raises(KeyringError, match="no vault keyring"):
        KeyringSource(path=tmp_path / "absent.keys").load()


def test_the_keyring_can_come_from_the_environment(tmp_path: Path) -> None:
    config = CollectorConfig.from_env(
        {"ASBUILT_VAULT_KEYS": _line("env-key"), "ASBUILT_DATA_DIR": str(tmp_path)}
    )
    source = KeyringSource.for_config(config)
    assert source.load().current.key_id == "env-key"
    assert "env-key" not in repr(config)  # a secret setting is masked wherever the config is shown
    with pytest.raises(KeyringError, match="ASBUILT_VAULT_KEYS"):
        source.save(source.load())
    file_config = CollectorConfig.from_env({"ASBUILT_VAULT_KEY_FILE": str(tmp_path / "k")})
    assert KeyringSource.for_config(file_config).path == tmp_path / "k"


def _line(key_id: str) -> str:
    return f"{key_id} {base64.urlsafe_b64encode(new_key()).decode()}"
