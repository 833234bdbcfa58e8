"""The optional antivirus hook: a configured command that reads the file on its stdin.

E.g. ``clamdscan --fdpass -`` (ClamAV's daemon client) or ``clamscan --no-summary -``. Exit 0 means
clean; any other exit, a timeout or a command that cannot start refuses the upload (fail closed).
Without a command the check is skipped, and the stored verdict says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
from dataclasses import dataclass
from pathlib import Path

from collector.attachments.errors import UploadRefused

SCAN_TIMEOUT_S = 60.0
MAX_OUTPUT = 4000
NOT_CONFIGURED = "not scanned (no antivirus configured)"


@dataclass(frozen=True)
class AntivirusHook:
    command: tuple[str, ...] = ()
    timeout_s: float = SCAN_TIMEOUT_S

    @classmethod
    def from_setting(cls, value: str | None, timeout_s: float = SCAN_TIMEOUT_S) -> AntivirusHook:
        """From a setting such as ``ASBUILT_ANTIVIRUS_COMMAND='clamdscan --fdpass -'``."""
        return cls(tuple(shlex.split(value or "")), timeout_s)

    @property
    def configured(self) -> bool:
        return bool(self.command)

    async def check(self, path: Path) -> str:
        """The verdict to store ('clean (clamdscan)' or NOT_CONFIGURED); raises UploadRefused otherwise."""
        if not self.command:
            return NOT_CONFIGURED
        name = Path(self.command[0]).name
        try:
            with path.open("rb") as stdin:
                proc = await asyncio.create_subprocess_exec(
                    *self.command,
                    stdin=stdin,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT,
                )
                try:
                    out, _ = await asyncio.wait_for(proc.communicate(), self.timeout_s)
                except TimeoutError as exc:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await proc.wait()
                    raise _refused(
                        f"the virus scan ({name}) did not finish within {self.timeout_s:g} s"
                    ) from exc
        except OSError as exc:
            raise _refused(
                f"the virus scanner {name} could not run ({exc.strerror}); the file was not stored"
            ) from exc
        if proc.returncode != 0:
            lines = out[:MAX_OUTPUT].decode("utf-8", "replace").strip().splitlines()
            said = next((ln for ln in lines if "FOUND" in ln), lines[0] if lines else "")
            raise _refused(f"the virus scan ({name}) refused this file" + (f": {said[:200]}" if said else ""))
        return f"clean ({name})"


def _refused(message: str) -> UploadRefused:
    return UploadRefused(422, "antivirus", message)
