"""What a file is, from its own bytes: the declared name and content type are checked, never trusted.

Accepted: JPEG, PNG, WebP, HEIC (an iPhone's photos, through pillow-heif; stored as JPEG), PDF, XLSX,
DOCX, CSV and plain text. Refused with a reason: HTML and SVG (a browser runs their script), XML,
executables and scripts, other archives, macro-enabled documents, anything unrecognised. A declared
extension or content type that names another accepted type is a mismatch, and refused too: a PNG
called plan.pdf is someone's mistake or someone's trick, and either way not what the page will say.
"""

from __future__ import annotations

import codecs
import importlib.util
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePath

from collector.attachments.errors import UploadRefused

MAX_ZIP_MEMBERS = 10_000


@dataclass(frozen=True)
class FileType:
    media_type: str
    label: str  # what a person calls it
    suffix: str  # the usual extension, for a name the stored file is given
    extensions: frozenset[str]
    declared_ok: frozenset[str]  # content types browsers send for it (besides the exact one)
    family: str  # image | pdf | office | text

    @property
    def is_image(self) -> bool:
        return self.family == "image"


def _t(media: str, label: str, exts: str, family: str, declared: str = "") -> FileType:
    return FileType(
        media, label, exts.split()[0], frozenset(exts.split()), frozenset(declared.split()), family
    )


JPEG = _t("image/jpeg", "JPEG image", ".jpg .jpeg .jpe .jfif", "image", "image/pjpeg image/jpg")
PNG = _t("image/png", "PNG image", ".png", "image", "image/x-png")
WEBP = _t("image/webp", "WebP image", ".webp", "image")
HEIC = _t(
    "image/heic", "HEIC photo", ".heic .heif", "image", "image/heif image/heic-sequence image/heif-sequence"
)
PDF = _t("application/pdf", "PDF document", ".pdf", "pdf", "application/x-pdf")
XLSX = _t(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "Excel workbook (XLSX)",
    ".xlsx",
    "office",
    "application/zip application/x-zip-compressed",
)
DOCX = _t(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "Word document (DOCX)",
    ".docx",
    "office",
    "application/zip application/x-zip-compressed",
)
CSV = _t(
    "text/csv",
    "CSV table",
    ".csv",
    "text",
    "text/plain text/x-csv application/csv application/vnd.ms-excel",
)
TEXT = _t("text/plain", "text file", ".txt .text .log .md", "text", "text/markdown text/x-log text/csv")
ACCEPTED = (JPEG, PNG, WEBP, HEIC, PDF, XLSX, DOCX, CSV, TEXT)
_ALWAYS_OK_DECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})

_MARKUP = re.compile(rb"<\s*(!doctype\s+html|html|head|body|script|svg|iframe|\?xml)\b", re.IGNORECASE)
_EXECUTABLES: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"\xfe\xed\xfa\xce", "a macOS program"),
    (b"\xfe\xed\xfa\xcf", "a macOS program"),
    (b"\xcf\xfa\xed\xfe", "a macOS program"),
    (b"\xce\xfa\xed\xfe", "a macOS program"),
    (b"\xca\xfe\xba\xbe", "a macOS program or Java class"),
    (b"#!", "a script"),
)
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1")
HEIF_SUPPORTED = importlib.util.find_spec("pillow_heif") is not None


def refused(message: str) -> UploadRefused:
    return UploadRefused(415, "type_refused", message)


def sniff(head: bytes, path: Path) -> FileType:
    """The type of the staged file at ``path`` whose first bytes are ``head``; refused types raise."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        if HEIF_SUPPORTED:
            return HEIC
        raise refused("HEIC photos need pillow-heif on the server: set the phone camera to 'Most compatible'")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"%PDF-"):  # no other bytes first: no polyglots
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _office(path)
    for magic, what in _EXECUTABLES:
        if head.startswith(magic):
            raise refused(f"this file is {what}; programs and scripts are not accepted")
    if head.startswith((b"PK", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"BZh", b"\xfd7zXZ")):
        raise refused("archives are not accepted: upload the files themselves")
    return _text(head, path)


def _office(path: Path) -> FileType:
    """XLSX and DOCX are zip files with [Content_Types].xml and their own part folder."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise refused("this zip file has too many parts to be an office document")
            names = {i.filename for i in infos}
    except zipfile.BadZipFile as exc:
        raise UploadRefused(422, "unreadable", "this looks like a zip file but cannot be read") from exc
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise refused("documents with macros are not accepted: save it as a plain .xlsx or .docx")
    if "[Content_Types].xml" in names:
        if any(n.startswith("xl/") for n in names):
            return XLSX
        if any(n.startswith("word/") for n in names):
            return DOCX
    raise refused("zip archives are not accepted (only XLSX and DOCX office documents)")


def _text(head: bytes, path: Path) -> FileType:
    """UTF-8 (or plain ASCII) text without NUL bytes, and not markup: read through to the end."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as f:
        first = True
        while chunk := f.read(256 * 1024):
            if b"\x00" in chunk:
                raise refused("this file type is not recognised (binary data); accepted: " + accepted_list())
            if first and _MARKUP.search(chunk[:4096]):
                raise refused(
                    "HTML, SVG and XML files are not accepted (a browser would run their script); "
                    "export a PDF or PNG instead"
                )
            first = False
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise refused("a text file must be UTF-8; save it again as 'CSV UTF-8'") from exc
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise refused("a text file must be UTF-8; save it again as 'CSV UTF-8'") from exc
    if not head.strip():
        raise UploadRefused(422, "empty", "the file is empty")
    return TEXT


def accepted_list() -> str:
    return ", ".join(t.label for t in ACCEPTED)


def resolve(sniffed: FileType, filename: str, declared_type: str | None) -> FileType:
    """The stored type: ``sniffed``, when the declared name and type agree with it; else refused.

    Text is the one case the name decides: a text file named .csv is stored as CSV.
    """
    found = sniffed
    ext = PurePath(filename).suffix.lower()
    if sniffed is TEXT and ext in CSV.extensions:
        found = CSV
    by_ext = next((t for t in ACCEPTED if ext in t.extensions), None)
    if ext and by_ext is None:
        raise refused(f"files named {ext} are not accepted; accepted: {accepted_list()}")
    if by_ext is not None and by_ext is not found:
        raise refused(
            f"the file is named {ext} but its content is a {found.label}: rename it or export it again"
        )
    declared = (declared_type or "").split(";")[0].strip().lower()
    if (
        declared not in _ALWAYS_OK_DECLARED
        and declared != found.media_type
        and declared not in found.declared_ok
    ):
        raise refused(f"the file was sent as {declared} but its content is a {found.label}")
    return found
