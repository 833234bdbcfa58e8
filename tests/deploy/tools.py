"""Helpers for the deploy tests: where the shipped files are, how to read them, how to run `asbuilt`."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
ASBUILT = Path(sys.executable).with_name("asbuilt")  # the console script of the venv running pytest
INSTALLED_ASBUILT = "/opt/asbuilt/bin/asbuilt"  # where deploy/README.md installs it
ENV_LINE = re.compile(r"^\s*(#\s*)?(ASBUILT_[A-Z0-9_]+)=(.*)$")


def run(
    argv: list[str | Path],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run a command with a bounded time; output captured as text."""
    # Hermetic: settings come from the test, never from the shell that started pytest.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ASBUILT_")}
    full_env = {**inherited, "PATH": f"{ASBUILT.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    full_env.update(env or {})
    argv_text = [str(a) for a in argv]
    return subprocess.run(
        argv_text, env=full_env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def asbuilt(*args: str | Path, env: dict[str, str] | None = None) -> str:
    """Run `asbuilt ARGS` from the venv; its stdout. Fails the test on a non-zero exit."""
    done = run([ASBUILT, *args], env=env)
    assert done.returncode == 0, f"asbuilt {' '.join(map(str, args))}: {done.stdout}\n{done.stderr}"
    return done.stdout


def env_file(path: Path, *, commented: bool = False) -> dict[str, str]:
    """The ASBUILT_* assignments of an environment file; with `commented`, also the `#ASBUILT_X=` ones."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = ENV_LINE.match(line)
        if match and (commented or not match.group(1)):
            values[match.group(2)] = match.group(3).strip().strip("\"'")
    return values


def unit_file(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit as section -> key -> values (systemd keys may repeat; configparser cannot say so)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path}: {raw!r} is outside any section"
        key, sep, value = line.partition("=")
        assert sep, f"{path}: {raw!r} is not KEY=VALUE"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


class UniqueKeyLoader(yaml.SafeLoader):
    """yaml.safe_load keeps the last of two equal keys without a word; a shipped example must not."""


def _mapping_without_duplicates(loader: UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    keys = [loader.construct_object(key) for key, _ in node.value]
    repeated = sorted({str(k) for k in keys if keys.count(k) > 1})
    if repeated:
        raise yaml.constructor.ConstructorError(None, None, f"repeated keys {repeated}", node.start_mark)
    return loader.construct_mapping(node)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=UniqueKeyLoader)


# Run `asbuilt` as an install with only one extra would: importing a distribution that only the other
# extras bring raises ModuleNotFoundError, as it would there.
_ONLY_EXTRA = """
import importlib.abc, sys
blocked = set(sys.argv.pop(1).split(","))
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (not in this extra)", name=name)
        return None
sys.meta_path.insert(0, Missing())
if sys.argv[1] == "--import":
    import importlib
    for module in sys.argv[2:]:
        importlib.import_module(module)
    sys.exit(0)
sys.argv[0] = "asbuilt"
from asbuilt.cli import main
main()
"""


def foreign_modules(extra: str) -> set[str]:
    """Import names of the distributions that the other extras bring and `extra` and the base lack."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]

    def names(requirements: list[str]) -> set[str]:
        return {Requirement(r).name.lower().replace("_", "-") for r in requirements if "asbuilt" not in r}

    mine = names(extras[extra]) | names(project["dependencies"])
    others = set().union(*(names(reqs) for name, reqs in extras.items() if name not in (extra, "dev", "all")))
    modules: set[str] = set()
    for module, dists in importlib.metadata.packages_distributions().items():
        if any(d.lower().replace("_", "-") in others - mine for d in dists):
            modules.add(module)
    return modules


def asbuilt_with_only(extra: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    blocked = ",".join(sorted(foreign_modules(extra)))
    return run([sys.executable, "-c", _ONLY_EXTRA, blocked, *args])


def import_with_only(extra: str, *modules: str) -> subprocess.CompletedProcess[str]:
    """Import `modules` as an install with only `extra` would."""
    blocked = ",".join(sorted(foreign_modules(extra)))
    return run([sys.executable, "-c", _ONLY_EXTRA, blocked, "--import", *modules])
