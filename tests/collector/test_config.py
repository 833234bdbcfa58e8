"""Collector settings: environment, token file, and a generated admin token kept private."""

from __future__ import annotations

import stat

from collector.config import CollectorConfig


def test_environment_and_overrides(tmp_path):
    env = {
        "ASBUILT_DATA_DIR": str(tmp_path),
        "ASBUILT_ADMIN_TOKEN": "from-env",
        "ASBUILT_MAX_UPLOAD_BYTES": "2048",
        "ASBUILT_TEST_PG_HOST": "ignored",  # not a setting: other ASBUILT_* variables are left alone
    }
    config = CollectorConfig.from_env(env, database_url="postgresql+asyncpg://root@127.0.0.1/x")
    assert config.resolve_admin_token() == "from-env"
    assert config.max_upload_bytes == 2048
    assert config.db_url == "postgresql+asyncpg://root@127.0.0.1/x"
    assert CollectorConfig.from_env({"ASBUILT_DATA_DIR": str(tmp_path)}).db_url.startswith(
        "sqlite+aiosqlite:///"
    )


def test_admin_token_from_a_file_or_generated_once(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    assert (
        CollectorConfig(data_dir=tmp_path, admin_token_file=token_file).resolve_admin_token() == "from-file"
    )

    fresh = CollectorConfig(data_dir=tmp_path / "new")
    first = fresh.resolve_admin_token()
    assert first.startswith("asb_admin_") and fresh.resolve_admin_token() == first
    mode = (tmp_path / "new" / "admin-token").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
