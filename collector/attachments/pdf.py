"""A PDF floor plan's first page as a PNG, for pins to sit on.

pdftoppm (Debian's poppler-utils) runs as a separate process: a hostile or broken PDF can hang or
crash it without touching the collector, and a timeout kills it. (pypdfium2 would render in-process,
where a hang cannot be stopped and a crash takes the service down.)
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path

from collector.attachments.errors import UploadRefused

RENDER_TIMEOUT_S = 30.0
RENDER_MAX_PX = 4000  # the longer side of the page image
MAX_STDERR = 2000


def pdftoppm_available() -> bool:
    return shutil.which("pdftoppm") is not None


async def render_first_page(
    src: Path, out_png: Path, *, timeout_s: float = RENDER_TIMEOUT_S, max_px: int = RENDER_MAX_PX
) -> None:
    """Render page 1 of ``src`` into ``out_png`` (which must end in .png); refuse what cannot render."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise UploadRefused(
            503, "renderer_missing", "PDF floor plans need pdftoppm (Debian package poppler-utils)"
        )
    prefix = out_png.with_suffix("")
    argv = [exe, "-f", "1", "-l", "1", "-png", "-singlefile", "-scale-to", str(max_px), str(src), str(prefix)]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError as exc:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise UploadRefused(
            422, "unreadable", f"the PDF's first page did not render within {timeout_s:g} s"
        ) from exc
    if proc.returncode != 0 or not await asyncio.to_thread(_nonempty, out_png):
        detail = err[:MAX_STDERR].decode("utf-8", "replace").strip().splitlines()
        raise UploadRefused(
            422, "unreadable", "the PDF cannot be read" + (f": {detail[-1]}" if detail else "")
        )


def _nonempty(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0
