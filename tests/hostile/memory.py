"""Peak memory of a child process, from the kernel's own high-water mark (VmHWM in /proc)."""

from __future__ import annotations

from pathlib import Path


def peak_rss_mib(pid: int) -> float:
    """The most resident memory the process has had at any moment since it started, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
