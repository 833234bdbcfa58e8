"""The shipped deploy files are valid: each is read by the code that will read it on a real install.

Examples load through the agent's and the collector's own settings models, the credential file through
agent.credentials; the systemd units name real `asbuilt` commands and pass `systemd-analyze verify`;
the compose file and Dockerfile agree with CollectorConfig and the package build. Docker itself cannot
run here (no engine, no compose plugin), so the images are not built and compose is not started.
"""

from __future__ import annotations

import inspect
import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import make_url

from agent.config import ScanConfig
from agent.credentials import CredentialBook, credentials_from_env, driver_matches, load_credentials_file
from agent.identify import load_drivers
from agent.service import AgentServiceConfig
from collector.app import create_app
from collector.config import ENV_PREFIX, CollectorConfig
from tests.deploy.tools import (
    ASBUILT,
    DEPLOY,
    INSTALLED_ASBUILT,
    REPO,
    asbuilt_with_only,
    env_file,
    import_with_only,
    load_yaml,
    run,
    unit_file,
)

CONFIG = DEPLOY / "config"
AGENT_YAML = CONFIG / "agent.example.yaml"
CREDENTIALS = CONFIG / "credentials.example.yaml"
AGENT_ENV = CONFIG / "agent.env.example"
COLLECTOR_ENV = CONFIG / "collector.env.example"
UNITS = DEPLOY / "systemd"
COLLECTOR_UNIT = UNITS / "asbuilt-collector.service"
AGENT_UNIT = UNITS / "asbuilt-agent.service"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
DOCKERFILE = DEPLOY / "compose" / "Dockerfile"
DUMMY = "CHANGE-ME"
COLLECTOR_SETTINGS = {ENV_PREFIX + name.upper() for name in CollectorConfig.model_fields}
DRIVER_MODULES = {driver.__module__ for driver in load_drivers().values()}


# ------------------------------------------------------------------ agent


def test_agent_example_loads_as_the_service_reads_it() -> None:
    load_yaml(AGENT_YAML)  # no repeated keys
    config = AgentServiceConfig.load(AGENT_YAML)
    scan = ScanConfig.model_validate({"site": config.site, **config.scan})
    assert scan.scopes and scan.site == config.site
    assert config.schedule.cron is not None
    # Where the unit and deploy/README.md put things.
    service = unit_file(AGENT_UNIT)["Service"]
    assert config.state_dir == Path("/var/lib") / service["StateDirectory"][0]
    assert config.creds_file == Path("/etc/asbuilt/credentials.yaml")
    assert scan.credential_cache is not None and scan.credential_cache.parent == config.state_dir


def test_agent_example_scan_section_sets_only_scan_settings() -> None:
    config = AgentServiceConfig.load(AGENT_YAML)
    assert set(config.scan) <= set(ScanConfig.model_fields)
    broken = {**config.scan, "scopes": ["10.20.0.0/24"], "unicast_targets": ["192.0.2.1"]}
    with pytest.raises(ValueError, match="outside the scan scopes"):
        ScanConfig.model_validate(broken)


def test_credentials_example_parses_with_dummy_secrets_bound_to_real_drivers() -> None:
    load_yaml(CREDENTIALS)
    bound = load_credentials_file(CREDENTIALS)
    assert len(bound) >= 5
    drivers = set(load_drivers())
    for entry in bound:
        for binding in entry.credential.drivers:
            assert any(driver_matches([binding], d) for d in drivers), f"{entry.name}: no driver {binding!r}"
    secrets = CredentialBook(bound).secret_values()
    assert secrets and all(s.startswith(DUMMY) for s in secrets), "only dummy secrets may ship"
    creds = [b.credential for b in bound]
    assert any(c.vendors for c in creds) and any(b.targets for b in bound)
    assert any(c.snmp_community for c in creds) and any(c.snmp_v3_user for c in creds)
    assert any(c.enable_secret for c in creds)


def test_agent_env_example_names_real_credential_variables() -> None:
    active, everything = env_file(AGENT_ENV), env_file(AGENT_ENV, commented=True)
    assert {b.name for b in credentials_from_env(active)} == {"env-onvif", "env-snmp"}
    no_file = {k: v for k, v in everything.items() if k != "ASBUILT_CREDS_FILE"}
    assert {b.name for b in credentials_from_env(no_file)} == {
        "env-onvif",
        "env-snmp",
        "env-snmp-v3",
        "env-cli",
    }
    source = inspect.getsource(credentials_from_env)
    for key in everything:
        assert f'"{key}"' in source, f"{key} is not read by agent.credentials"
    secrets = CredentialBook(credentials_from_env(no_file)).secret_values()
    assert all(s.startswith(DUMMY) for s in secrets)


# ------------------------------------------------------------------ collector


def test_collector_env_example_holds_only_collector_settings() -> None:
    everything = env_file(COLLECTOR_ENV, commented=True)
    assert set(everything) <= COLLECTOR_SETTINGS, set(everything) - COLLECTOR_SETTINGS
    config = CollectorConfig.from_env(env_file(COLLECTOR_ENV))
    assert config.data_dir == Path("/var/lib/asbuilt")
    assert config.database_url is not None and config.database_url.startswith("postgresql+asyncpg://")
    # The commented lines say they show the defaults: they must.
    defaults = CollectorConfig()
    commented = set(everything) - set(env_file(COLLECTOR_ENV)) - {"ASBUILT_ADMIN_TOKEN_FILE"}
    for key in commented:
        field = key.removeprefix(ENV_PREFIX).lower()
        assert getattr(CollectorConfig.from_env({key: everything[key]}), field) == getattr(defaults, field), (
            key
        )


async def test_collector_env_example_database_url_form_connects() -> None:
    """The Unix-socket, peer-auth URL form works with asyncpg (here as the test server's role)."""
    url = make_url(CollectorConfig.from_env(env_file(COLLECTOR_ENV)).database_url or "")
    assert url.drivername == "postgresql+asyncpg" and url.password is None
    socket_dir = str(url.query["host"])
    conn = await asyncpg.connect(host=socket_dir, user="root", database="postgres", timeout=10)
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


# ------------------------------------------------------------------ systemd


def unit_environment(service: dict[str, list[str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in service.get("Environment", []):
        for assignment in shlex.split(line):
            key, _, value = assignment.partition("=")
            values[key] = value
    return values


def exec_argvs(path: Path) -> list[list[str]]:
    service = unit_file(path)["Service"]
    env = unit_environment(service)
    argvs = []
    for key in ("ExecStartPre", "ExecStart"):
        for line in service.get(key, []):
            expanded = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], line)
            argvs.append(shlex.split(expanded))
    return argvs


@pytest.mark.parametrize("unit", [COLLECTOR_UNIT, AGENT_UNIT], ids=lambda p: p.name)
def test_unit_commands_are_real_asbuilt_commands(unit: Path) -> None:
    argvs = exec_argvs(unit)
    assert argvs
    for argv in argvs:
        assert argv[0] == INSTALLED_ASBUILT
        done = run([ASBUILT, *argv[1:], "--help"])
        assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr}"


def test_collector_unit_settings() -> None:
    unit = unit_file(COLLECTOR_UNIT)
    service = unit["Service"]
    assert [a[1:3] for a in exec_argvs(COLLECTOR_UNIT)] == [["collector", "migrate"], ["collector", "serve"]]
    assert service["User"] == ["asbuilt"] and service["Restart"] == ["on-failure"]
    assert service["EnvironmentFile"] == ["/etc/asbuilt/collector.env"]
    state = "/var/lib/" + service["StateDirectory"][0]
    assert service["ReadWritePaths"] == [state]
    assert unit_environment(service)["ASBUILT_DATA_DIR"] == state
    assert set(unit_environment(service)) <= COLLECTOR_SETTINGS
    assert service["CapabilityBoundingSet"] == [""], "no capabilities at all"
    for key, value in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                       ("PrivateTmp", "yes"), ("PrivateDevices", "yes")]:  # fmt: skip
        assert service[key] == [value], key
    assert set(service["RestrictAddressFamilies"][0].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_agent_unit_settings() -> None:
    service = unit_file(AGENT_UNIT)["Service"]
    argv = exec_argvs(AGENT_UNIT)[0]
    assert argv[1:] == ["agent", "run", "--config", "/etc/asbuilt/agent.yaml"]
    assert service["User"] == ["asbuilt"] and service["StateDirectory"] == ["asbuilt-agent"]
    assert service["AmbientCapabilities"] == ["CAP_NET_RAW"] == service["CapabilityBoundingSet"]
    assert service["NoNewPrivileges"] == ["yes"] and service["ProtectSystem"] == ["strict"]
    assert service["ReadWritePaths"] == ["/var/lib/asbuilt-agent"]
    families = set(service["RestrictAddressFamilies"][0].split())
    assert {"AF_PACKET", "AF_INET", "AF_NETLINK"} <= families  # ARP frames, discovery, interface lists
    assert "PrivateNetwork" not in service, "the agent must see the site's LAN"
    assert [f.lstrip("-") for f in service["EnvironmentFile"]] == ["/etc/asbuilt/agent.env"]


def systemd_root(tmp_path: Path) -> Path:
    """A root for `systemd-analyze --root`: the system's units, ours, and an executable asbuilt."""
    root = tmp_path / "root"
    system_units = next(
        p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir()
    )
    shutil.copytree(system_units, root / "usr/lib/systemd/system", symlinks=True)
    ours = root / "etc/systemd/system"
    ours.mkdir(parents=True)
    for unit in (COLLECTOR_UNIT, AGENT_UNIT):
        shutil.copy(unit, ours / unit.name)
    binary = root / INSTALLED_ASBUILT.lstrip("/")
    binary.parent.mkdir(parents=True)
    shutil.copy(ASBUILT, binary)
    return root


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_units_pass_systemd_analyze(tmp_path: Path) -> None:
    root = systemd_root(tmp_path)
    names = [COLLECTOR_UNIT.name, AGENT_UNIT.name]
    done = run(["systemd-analyze", "verify", f"--root={root}", *names])
    # verify exits 0 on unknown keys too, warning on stderr: any word from it is a failure here.
    assert done.returncode == 0 and done.stderr == "", done.stderr
    # A misspelt key is caught: the check above can fail.
    broken = root / "etc/systemd/system" / AGENT_UNIT.name
    broken.write_text(broken.read_text().replace("ProtectHome=", "ProtectHomme="))
    assert "Unknown key" in run(["systemd-analyze", "verify", f"--root={root}", AGENT_UNIT.name]).stderr
    broken.write_text(AGENT_UNIT.read_text())
    # Exposure as systemd rates it (0 best, 10 worst); measured 1.4 (collector) and 1.8 (agent).
    for name, limit in [(COLLECTOR_UNIT.name, 2.0), (AGENT_UNIT.name, 2.5)]:
        done = run(["systemd-analyze", "security", "--offline=yes", f"--root={root}", name])
        match = re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout)
        assert match, done.stdout[-500:] + done.stderr
        print(f"{name}: exposure {match.group(1)}")
        assert float(match.group(1)) <= limit


def test_installs_with_one_extra_run_their_commands(tmp_path: Path) -> None:
    """`pip install 'asbuilt[collector]'` and `'asbuilt[agent]'` are enough for the units' commands."""
    done = asbuilt_with_only("collector", "collector", "migrate", "--data-dir", tmp_path / "collector")
    assert done.returncode == 0, done.stderr
    config = AgentServiceConfig.load(AGENT_YAML).model_dump(mode="json")
    config.update(state_dir=str(tmp_path / "agent"), creds_file=str(CREDENTIALS))
    agent_yaml = tmp_path / "agent.yaml"
    agent_yaml.write_text(json.dumps(config))
    done = asbuilt_with_only("agent", "agent", "status", "--config", agent_yaml)
    assert done.returncode == 0, done.stderr
    assert "never" in done.stdout  # no scan yet


@pytest.mark.parametrize(
    ("extra", "modules"),
    [
        ("collector", ["collector.app", "collector.web.routes", "collector.ingest", "collector.diff"]),
        ("agent", ["agent.service_cli", "agent.pipeline", "agent.push", *sorted(DRIVER_MODULES)]),
    ],
)
def test_each_extra_brings_what_its_service_imports(extra: str, modules: list[str]) -> None:
    done = import_with_only(extra, *modules)
    assert done.returncode == 0, done.stderr[-2000:]


# ------------------------------------------------------------------ compose and Docker


def compose() -> dict[str, Any]:
    doc = load_yaml(COMPOSE)
    assert isinstance(doc, dict)
    return doc


def interpolate(value: str) -> str:
    """Compose's ${VAR}, ${VAR:?message} and ${VAR:-default}, with every variable set to 'x'."""
    return re.sub(r"\$\{\w+(?::?[?-][^}]*)?\}", "x", value)


def test_compose_runs_the_collector_on_a_healthy_postgresql() -> None:
    doc = compose()
    db, collector = doc["services"]["db"], doc["services"]["collector"]
    assert re.fullmatch(r"postgres:1[56](\.\d+)?(-\w+)?", db["image"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert collector["depends_on"]["db"]["condition"] == "service_healthy"
    for service in (db, collector):
        for volume in service["volumes"]:
            assert volume.split(":")[0] in doc["volumes"], f"volume {volume} is not a named volume"
    build = collector["build"]
    assert ((COMPOSE.parent / build["context"]).resolve() / build["dockerfile"]) == DOCKERFILE
    assert all(p.startswith("127.0.0.1:") for p in collector["ports"]), "plain HTTP: loopback only"


def test_compose_collector_environment_is_collector_config() -> None:
    doc = compose()
    env = {k: interpolate(str(v)) for k, v in doc["services"]["collector"]["environment"].items()}
    assert set(env) <= COLLECTOR_SETTINGS, set(env) - COLLECTOR_SETTINGS
    config = CollectorConfig.from_env(env)
    url = make_url(config.database_url or "")
    db_env = doc["services"]["db"]["environment"]
    assert url.drivername == "postgresql+asyncpg" and url.host == "db"
    assert (url.username, url.database) == (db_env["POSTGRES_USER"], db_env["POSTGRES_DB"])


def dockerfile() -> list[tuple[str, str]]:
    """Instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def test_dockerfile_installs_the_collector_extra_for_a_non_root_user() -> None:
    instructions = dockerfile()
    assert instructions[0][0] == "FROM" and instructions[0][1].startswith("python:3.11")
    users = [args for kw, args in instructions if kw == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any(kw == "RUN" and "pip install '.[collector]'" in args for kw, args in instructions)
    entry = next(json.loads(args) for kw, args in instructions if kw == "ENTRYPOINT")
    cmd = next(json.loads(args) for kw, args in instructions if kw == "CMD")
    assert entry == ["asbuilt"] and cmd == compose()["services"]["collector"]["command"]
    done = run([ASBUILT, *cmd, "--help"])
    assert done.returncode == 0, done.stderr
    env = " ".join(args for kw, args in instructions if kw == "ENV")
    assert set(re.findall(r"ASBUILT_\w+", env)) <= COLLECTOR_SETTINGS


def test_dockerfile_copies_everything_the_package_build_needs(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    for kw, args in dockerfile():
        if kw == "COPY":
            *sources, _dest = args.split()
            for source in sources:
                src = REPO / source
                assert src.exists(), f"COPY {source}: not in the repository"
                if src.is_dir():
                    shutil.copytree(src, context / source, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(src, context / source)
    # What `pip install .` puts into the image: setuptools' build_py output (packages + package data).
    built = tmp_path / "built"
    setup = "from setuptools import setup; setup()"
    python = ASBUILT.with_name("python")
    done = run([python, "-c", setup, "-q", "build_py", "--build-lib", built], cwd=context)
    assert done.returncode == 0, done.stderr[-2000:]
    for needed in (
        "collector/db/migrations/versions/0001_initial_tables.py",
        "collector/db/migrations/env.py",
        "collector/db/migrations/versions/0002_people.py",
        "collector/web/templates/pages/account/login.html",
        "collector/web/templates/layouts/base.html",
        "collector/web/static/vendor/htmx-2.0.11.min.js",
        "drivers/snapshot.schema.json",
        "asbuilt/cli.py",
    ):
        assert (built / needed).is_file(), f"{needed} is not in the image's package"


async def test_dockerfile_healthcheck_path_answers_without_a_token(tmp_path: Path) -> None:
    healthcheck = next(args for kw, args in dockerfile() if kw == "HEALTHCHECK")
    path = re.search(r"http://127\.0\.0\.1:8080(/[^'\"]+)", healthcheck)
    assert path, healthcheck
    app = create_app(CollectorConfig(data_dir=tmp_path))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        resp = await client.get(path.group(1))
        assert resp.status == 200, await resp.text()


# ------------------------------------------------------------------ reverse proxies


@pytest.mark.parametrize(
    ("name", "body_limit", "upstream"),
    [
        ("nginx-asbuilt.conf", r"client_max_body_size (\d+)m;", r"proxy_pass http://127\.0\.0\.1:(\d+);"),
        ("Caddyfile", r"max_size (\d+)MiB", r"reverse_proxy 127\.0\.0\.1:(\d+)"),
    ],
)
def test_proxy_passes_to_the_collector_with_its_limit(name: str, body_limit: str, upstream: str) -> None:
    """nginx/caddy are not installed here; they were checked with `nginx -t` and `caddy validate`."""
    text = (DEPLOY / "proxy" / name).read_text()
    limit, port = re.search(body_limit, text), re.search(upstream, text)
    assert limit and port, name
    assert int(limit.group(1)) * 1024 * 1024 == CollectorConfig().max_upload_bytes
    service_port = unit_environment(unit_file(COLLECTOR_UNIT)["Service"])["ASBUILT_PORT"]
    assert port.group(1) == service_port == env_file(COLLECTOR_ENV)["ASBUILT_PORT"]
    assert "Set-Cookie" in text or "proxy_cookie_flags ~ secure" in text, "the session cookie must get Secure"


def test_the_extra_check_can_fail() -> None:
    """The check above blocks what the other extras bring: scapy for the collector, SQL for the agent."""
    for extra, module in [("collector", "scapy.layers.l2"), ("agent", "sqlmodel")]:
        done = import_with_only(extra, module)
        assert done.returncode != 0 and "not in this extra" in done.stderr, (extra, module)
