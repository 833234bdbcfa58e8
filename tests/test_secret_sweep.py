"""The sweep itself must find what it is for, or a clean result means nothing."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

from tests.secret_sweep import Sweep

SECRET = "S3cret-sweep-probe"


def test_the_sweep_finds_a_secret_in_plain_compressed_and_archived_files(tmp_path: Path) -> None:
    (tmp_path / "plain.log").write_text(f"line {SECRET} line")
    (tmp_path / "clean.log").write_text("nothing here")
    (tmp_path / "snap.json.gz").write_bytes(gzip.compress(SECRET.encode()))
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w:gz") as archive:
        data = f"INSERT {SECRET}".encode()
        info = tarfile.TarInfo("backup/db.sql")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    (tmp_path / "backup.tar.gz").write_bytes(tar_bytes.getvalue())
    zip_bytes = io.BytesIO()
    with zipfile.ZipFile(zip_bytes, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", f"<t>{SECRET}</t>")
    (tmp_path / "export.xlsx").write_bytes(zip_bytes.getvalue())
    (tmp_path / "utf16.csv").write_bytes(SECRET.encode("utf-16-le"))

    sweep = Sweep((SECRET,))
    sweep.check_tree(tmp_path)
    hits = sorted(hit.split(": ")[0].removeprefix(f"{tmp_path}/") for hit in sweep.hits)
    assert hits == [
        "backup.tar.gz!backup/db.sql",
        "export.xlsx!xl/sharedStrings.xml",
        "plain.log",
        "snap.json.gz!gunzip",
        "utf16.csv",
    ]
    assert len(sweep.looked_at) >= 9  # 6 files + gunzip + tar member + zip member
    assert SECRET not in " ".join(sweep.hits)
