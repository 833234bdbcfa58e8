"""No device password anywhere it does not belong, after the whole path a site's logins take.

The simulated site's credentials file is imported into the vault through the API, then deleted; an
agent scans the site with `asbuilt scan --vault --push` (logins fetched into memory only) and
delivers the snapshot; a technician reveals one value; the snapshot is exported; a backup is made;
every page and API read is fetched. Then every place is searched for every planted value (each
device's password and SNMP community, an enable secret, a Wi-Fi key only the vault holds): the
collector's database file, its WAL and every file of its data directory but the vault keyring, its
log, the backup archive (unpacked), the export, the agent's whole directory (spool, token, key),
the scan's own output, and the bodies of every page and API answer except the one reveal that was
asked for. The test prints how many places it looked at.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path

import yaml

from tests.agent.labproc import LabProcess
from tests.e2e.collectorproc import ADMIN_TOKEN, ASBUILT, CollectorProcess, clean_env
from tests.secret_sweep import Sweep

SITE = "vault-e2e"
WIFI = "Wifi-only-in-the-vault-" + os.urandom(4).hex()
REPO = Path(__file__).resolve().parents[2]
BACKUP = REPO / "deploy" / "backup" / "backup.sh"


def fetch(url: str, token: str | None = ADMIN_TOKEN, data: bytes | None = None,
          headers: dict[str, str] | None = None, method: str | None = None) -> tuple[int, bytes]:  # fmt: skip
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"))
    for key, value in {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}.items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_no_planted_secret_outside_the_vault(tmp_path: Path, capsys) -> None:
    collector_dir, agent_dir = tmp_path / "collector", tmp_path / "agent"
    agent_dir.mkdir(mode=0o700)
    with (
        LabProcess("small", mode="loopback", lab_id="v", base=31) as lab,
        CollectorProcess(collector_dir) as col,
    ):
        creds = lab.credentials()
        planted = sorted(
            {str(c[k]) for c in creds for k in ("password", "snmp_community", "enable_secret") if c.get(k)}
            | {WIFI}
        )
        assert len(planted) >= 5
        token_file = agent_dir / "agent.token"
        col.enrol(SITE, token_file)
        # The technician's old credentials file moves into the vault in one step, then is gone.
        file = tmp_path / "credentials.yaml"
        file.write_text(yaml.safe_dump({"credentials": creds}))
        status, body = fetch(f"{col.url}/api/v1/sites/{SITE}/vault/import", data=file.read_bytes(),
                             headers={"Content-Type": "application/yaml"})  # fmt: skip
        assert status == 200, body
        file.unlink()
        wifi = {"label": "guest wifi", "kind": "wifi", "secrets": {"password": WIFI}}
        status, body = fetch(f"{col.url}/api/v1/sites/{SITE}/vault", data=json.dumps(wifi).encode(),
                             headers={"Content-Type": "application/json"})  # fmt: skip
        assert status == 201, body

        scan = subprocess.run(
            [str(ASBUILT), "scan", lab.scope, "--ports", lab.ports_option, "--site", SITE, "--vault",
             "--push", col.url, "--token-file", str(token_file), "--spool", str(agent_dir / "spool")],
            env=clean_env(HOME=str(agent_dir)), capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert scan.returncode in (0, 3), scan.stderr[-3000:]
        assert "from the collector's vault" in scan.stderr and "version 1" in scan.stderr
        versions = col.get(f"/api/v1/sites/{SITE}/versions")["versions"]
        assert versions and versions[0]["device_count"] == len(lab.site.devices) + len(lab.site.switches)

        # The one place a value may appear: the reveal that was asked for.
        entries = col.get(f"/api/v1/sites/{SITE}/vault")["entries"]
        nvr = next(e for e in entries if e["label"] == "lab-nvr-main")
        reveal = f"{col.url}/api/v1/sites/{SITE}/vault/{nvr['entry_id']}/reveal"
        json_body = {"Content-Type": "application/json"}
        status, shown = fetch(reveal, data=b'{"field": "password"}', headers=json_body)
        assert status == 200 and json.loads(shown)["value"] in planted

        sweep = Sweep(tuple(planted))
        sweep.check_text("scan stdout", scan.stdout)
        sweep.check_text("scan stderr", scan.stderr)
        for path in (
            "/api/v1/sites", f"/api/v1/sites/{SITE}", f"/api/v1/sites/{SITE}/versions",
            f"/api/v1/sites/{SITE}/versions/1", f"/api/v1/sites/{SITE}/versions/1/snapshot.json",
            f"/api/v1/sites/{SITE}/baseline", f"/api/v1/sites/{SITE}/vault", "/api/v1/audit?limit=500",
            f"/api/v1/sites/{SITE}/vault/{nvr['entry_id']}/history", "/api/v1/openapi.json",
        ):  # fmt: skip
            status, body = fetch(col.url + path)
            assert status == 200, (path, body[:300])
            sweep.check_bytes(f"GET {path}", body)
        status, export = fetch(f"{col.url}/api/v1/sites/{SITE}/versions/1/snapshot.json")
        (tmp_path / "export.json").write_bytes(export)
        archive = tmp_path / "backup.tar.gz"
        done = subprocess.run([str(BACKUP), "--data-dir", str(collector_dir), str(archive)],
                              env=clean_env(), capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "vault.keys" in done.stderr  # the keyring is left out, and the operator is told
        pages = web_pages(col.url, make_admin(collector_dir))
        for name, body in pages.items():
            sweep.check_bytes(f"page {name}", body)
        running = {p.name for p in collector_dir.iterdir()}
        assert {"collector.db", "collector.db-wal"} <= running, running  # the write-ahead log, live
        sweep.check_tree(collector_dir)  # while the collector runs: its database, WAL, keys, log

    sweep.check_tree(tmp_path)  # after: the agent's directory, the export, the backup (unpacked), logs
    with capsys.disabled():
        print(f"\nno-secret sweep: {len(planted)} planted values, {len(sweep.looked_at)} places looked at, "
              f"{len(sweep.hits)} found")  # fmt: skip
    assert sweep.hits == []
    assert not list((agent_dir / "spool" / "pending").iterdir())  # delivered, so nothing of it is left
    assert {p.name for p in agent_dir.rglob("*") if p.is_file()} == {"agent.token", "spool.key"}
    assert len(pages) >= 5 and len(sweep.looked_at) > 40


def make_admin(data_dir: Path) -> tuple[str, str]:
    """A web admin made with the CLI, as an install would."""
    name, password = "ada-e2e", "correct horse " + os.urandom(4).hex()
    done = subprocess.run(
        [str(ASBUILT), "collector", "user", "add", name, "--role", "admin", "--password-stdin",
         "--data-dir", str(data_dir)],
        input=password + "\n", env=clean_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return name, password


def web_pages(base: str, admin: tuple[str, str]) -> dict[str, bytes]:
    """Every page an admin reaches for the site, signed in through the form like a person."""
    import http.cookiejar
    import re
    import urllib.parse

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{base}/login", timeout=30).read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf
    data = urllib.parse.urlencode(
        {"csrf": csrf.group(1), "name": admin[0], "password": admin[1], "next": "/"}
    )
    opener.open(f"{base}/login", data=data.encode(), timeout=30).read()
    pages = {}
    for path in ("/", f"/sites/{SITE}", f"/sites/{SITE}/versions", f"/sites/{SITE}/versions/1",
                 f"/sites/{SITE}/vault", "/audit", "/customers", "/admin/users", f"/?q={SITE}"):  # fmt: skip
        with opener.open(base + path, timeout=30) as resp:
            assert resp.status == 200, path
            pages[path] = resp.read()
    assert b"Passwords" in pages[f"/sites/{SITE}/vault"]
    return pages
