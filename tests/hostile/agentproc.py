"""Run the attacked agent as a child process and read its exact peak memory (ru_maxrss from wait4),
with a hard time budget; run the hostile site beside it, also as a child."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.collectorproc import clean_env

ASBUILT = Path(sys.executable).with_name("asbuilt")


@dataclass(frozen=True)
class Run:
    returncode: int
    peak_mib: float
    seconds: float
    killed: bool
    stdout: str
    stderr: str


# The measured program is started by this small launcher, not by pytest itself: a child's peak RSS
# (ru_maxrss) counts the address space it was forked with before exec, so a child forked from a
# large test process would be charged for it. The launcher is small when it forks the scan, reads
# the scan's own rusage with wait4, and hands it back on its last line of stderr.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\nasbuilt-launcher maxrss_kib={usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


def run_measured(args: list[str], budget_s: float, cwd: Path) -> Run:
    """Run ``args``; kill it after ``budget_s``. Peak RSS is the kernel's account for the program
    itself (see LAUNCHER)."""
    out, err = cwd / "stdout.txt", cwd / "stderr.txt"
    with open(out, "wb") as fo, open(err, "wb") as fe:
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER, *args],
            stdout=fo,
            stderr=fe,
            env=clean_env(),
            cwd=cwd,
            start_new_session=True,  # the launcher and the scan: one group, killed together
        )
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(budget_s, kill)
    started = time.monotonic()
    timer.start()
    try:
        proc.wait()
    finally:
        timer.cancel()
    stderr = err.read_text(errors="replace")
    marker = stderr.rsplit("asbuilt-launcher maxrss_kib=", 1)
    peak_kib = int(marker[1].split()[0]) if len(marker) == 2 else 0
    return Run(
        returncode=proc.returncode,
        peak_mib=peak_kib / 1024,
        seconds=time.monotonic() - started,
        killed=killed.is_set(),
        stdout=out.read_text(errors="replace"),
        stderr=marker[0],
    )


def with_suppress_kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@contextmanager
def hostile_site(network: str, http_port: int, per_mode: int) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m lab.hostile`` in a child; stopped (by its PID) whatever happens."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab.hostile", network, str(http_port), str(per_mode)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=clean_env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        if not line.startswith("ready"):
            raise RuntimeError(f"hostile site did not start: {line!r}")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
