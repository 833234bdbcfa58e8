"""The quote / bill of materials from a CSV or XLSX file, as the integrator's tools export it.

Headers are matched case-insensitively with the synonyms quotes use ("Qty", "Part No.", "Unit price
(€)", "Hersteller", ...). Each row becomes a ``QuoteItem`` or a ``RowError`` naming its row number as
the spreadsheet shows it; blank rows and total lines are skipped. The file is hostile until proven
otherwise: its size, rows, columns, cell lengths and (for XLSX) unpacked size are bounded while
reading; openpyxl reads read-only (streamed) and through defusedxml.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import load_workbook

MiB = 1024 * 1024


@dataclass(frozen=True)
class QuoteLimits:
    max_bytes: int = 5 * MiB
    max_unpacked_bytes: int = 50 * MiB  # XLSX: all parts, decompressed
    max_rows: int = 5000
    max_columns: int = 60
    max_cell_chars: int = 1000
    max_quantity: int = 100_000
    max_serials: int = 1000
    header_rows: int = 20  # how far down the header row may be (quotes start with a letterhead)
    max_sheets: int = 10


class QuoteFileError(ValueError):
    """The whole file cannot be imported (too big, no header, unreadable); nothing was imported."""


@dataclass(frozen=True)
class QuoteItem:
    row: int
    quantity: int
    part: str | None = None
    vendor: str | None = None
    model: str | None = None
    description: str | None = None
    unit_price: Decimal | None = None
    currency: str | None = None
    serials: tuple[str, ...] = ()
    notes: str | None = None


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        return f"row {self.row}" + (f", {self.column}" if self.column else "") + f": {self.message}"


@dataclass(frozen=True)
class QuoteImport:
    items: tuple[QuoteItem, ...]
    errors: tuple[RowError, ...]
    columns: dict[str, str]  # field → the header text it was read from
    ignored_columns: tuple[str, ...] = ()
    skipped_rows: tuple[int, ...] = field(default=())  # total lines and the like


# Field → the header words that mean it (normalised: lower case, punctuation as spaces).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "part": ("part", "part no", "part number", "part nr", "partno", "part #", "sku", "article", "article no",
             "article number", "art no", "art nr", "item code", "item no", "item number", "product code",
             "order code", "order no", "catalogue no", "catalog no", "cat no", "artikel", "artikelnummer",
             "artikel nr", "bestellnummer", "référence", "reference", "ref"),
    "model": ("model", "model no", "model number", "model nr", "product model", "type", "modell", "typ",
              "modèle", "device model"),
    "vendor": ("vendor", "manufacturer", "make", "brand", "mfr", "mfg", "maker", "hersteller", "marke",
               "fabricant", "marque"),
    "description": ("description", "desc", "item description", "product description", "product", "name",
                    "product name", "item name", "beschreibung", "bezeichnung", "désignation"),
    "quantity": ("qty", "quantity", "count", "units", "pcs", "pieces", "no of units", "menge", "anzahl",
                 "stk", "stück", "qté", "quantité", "qty ordered", "quantity ordered"),
    "unit_price": ("unit price", "price", "unit cost", "price each", "each", "rate", "cost", "list price",
                   "net price", "sell price", "einzelpreis", "preis", "ep", "prix unitaire", "prix"),
    "serials": ("serial", "serials", "serial number", "serial numbers", "serial no", "serial nos", "s n",
                "sn", "seriennummer", "seriennummern", "numéro de série"),
    "notes": ("notes", "note", "comment", "comments", "remarks", "remark", "bemerkung", "bemerkungen",
              "remarques"),
    "currency": ("currency", "cur", "ccy", "währung", "devise"),
}  # fmt: skip
_BY_HEADER = {word: name for name, words in SYNONYMS.items() for word in words}
_CURRENCY_SIGNS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "chf": "CHF"}
_TOTAL_WORDS = re.compile(r"^\s*(sub\s*total|total|sum|summe|gesamt|vat|tax|mwst|ust|grand total)\b", re.I)
_QTY = re.compile(r"^\s*(-?\d{1,9})(?:[.,]0+)?\s*(?:x|pcs?|pce|stk|ea|each|units?|nos?)?\.?\s*$", re.I)


def normalise_header(text: str) -> tuple[str, str | None]:
    """'Unit Price (€)' → ('unit price', 'EUR'); the currency a header names, if any."""
    raw = text.strip().casefold()
    currency = None
    for inner in re.findall(r"\(([^)]*)\)|\[([^\]]*)\]", raw):
        word = "".join(inner).strip()
        currency = _CURRENCY_SIGNS.get(word) or (
            word.upper() if re.fullmatch(r"[a-z]{3}", word) else currency
        )
    raw = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", raw)
    for sign in ("€", "$", "£"):
        if sign in raw:
            currency = _CURRENCY_SIGNS[sign]
            raw = raw.replace(sign, " ")
    words = re.sub(r"[^\w#]+", " ", raw).strip()
    return re.sub(r"\s+", " ", words), currency


def parse_quote(data: bytes, media_type: str, limits: QuoteLimits | None = None) -> QuoteImport:
    """By the sniffed media type (collector.attachments.sniff): XLSX, or CSV/plain text."""
    if "spreadsheetml" in media_type:
        return parse_quote_xlsx(data, limits)
    if media_type in ("text/csv", "text/plain"):
        return parse_quote_csv(data, limits)
    raise QuoteFileError("a quote can be imported from a CSV or XLSX file only")


def parse_quote_csv(data: bytes, limits: QuoteLimits | None = None) -> QuoteImport:
    limits = limits or QuoteLimits()
    _check_size(len(data), limits)
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))

    def rows() -> Iterator[tuple[int, Sequence[Any]]]:
        try:
            for record in reader:
                yield reader.line_num, record
        except csv.Error as exc:
            raise QuoteFileError(f"the CSV file cannot be read near line {reader.line_num}: {exc}") from exc

    return _import(rows(), limits)


def _delimiter(text: str) -> str:
    """The separator the first line uses most (csv.Sniffer guesses wrong on short quotes)."""
    first = next((ln for ln in text[:65536].splitlines() if ln.strip()), "")
    return max(";,\t|", key=first.count)


def parse_quote_xlsx(data: bytes, limits: QuoteLimits | None = None) -> QuoteImport:
    limits = limits or QuoteLimits()
    _check_size(len(data), limits)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except zipfile.BadZipFile as exc:
        raise QuoteFileError("the XLSX file cannot be read (damaged?)") from exc
    if len(infos) > 1000 or sum(i.file_size for i in infos) > limits.max_unpacked_bytes:
        raise QuoteFileError(f"the XLSX file unpacks to more than {limits.max_unpacked_bytes // MiB} MiB")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file; none may escape as a 500
        raise QuoteFileError(f"the XLSX file cannot be read: {type(exc).__name__}") from exc
    try:
        last: QuoteFileError | None = None
        for sheet in book.worksheets[: limits.max_sheets]:
            rows = sheet.iter_rows(max_col=limits.max_columns, values_only=True)
            try:
                return _import(((n, r) for n, r in enumerate(rows, start=1)), limits)
            except QuoteFileError as exc:  # a cover sheet first: try the next one
                last = exc
        raise last or QuoteFileError("the workbook has no sheets")
    finally:
        book.close()


def _check_size(size: int, limits: QuoteLimits) -> None:
    if size > limits.max_bytes:
        raise QuoteFileError(f"a quote file may be at most {limits.max_bytes // MiB} MiB")
    if size == 0:
        raise QuoteFileError("the file is empty")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows


# ---------------------------------------------------------------- rows


def _import(rows: Iterable[tuple[int, Sequence[Any]]], limits: QuoteLimits) -> QuoteImport:
    iterator = iter(rows)
    header: dict[int, str] = {}
    header_texts: list[str] = []
    currency_hint: str | None = None
    first_texts: list[str] = []
    for number, cells in iterator:
        if number > limits.header_rows:
            break
        header, currency_hint, header_texts = _header(cells, limits)
        first_texts = first_texts or [t for t in header_texts if t]
        if header:
            break
    if "quantity" not in header.values() or not {"part", "model", "description"} & set(header.values()):
        seen = ", ".join(repr(t) for t in first_texts) or "none"
        raise QuoteFileError(
            "no header row with a quantity column and a part, model or description column was found in the "
            f"first {limits.header_rows} rows (headers seen: {seen})"
        )
    columns = {name: header_texts[i] for i, name in header.items()}
    ignored = tuple(t for i, t in enumerate(header_texts) if t and i not in header)
    items: list[QuoteItem] = []
    errors: list[RowError] = []
    skipped: list[int] = []
    data_rows = 0
    for number, cells in iterator:
        values = [_text(c) for c in cells[: limits.max_columns]]
        if not any(values):
            continue
        data_rows += 1
        if data_rows > limits.max_rows:
            raise QuoteFileError(f"a quote may have at most {limits.max_rows} lines")
        if _TOTAL_WORDS.match(next(v for v in values if v)):
            skipped.append(number)
            continue
        item, row_errors = _row(number, cells, header, columns, currency_hint, limits)
        if row_errors:
            errors.extend(row_errors)
        elif item is not None:
            items.append(item)
    return QuoteImport(tuple(items), tuple(errors), columns, ignored, tuple(skipped))


def _header(cells: Sequence[Any], limits: QuoteLimits) -> tuple[dict[int, str], str | None, list[str]]:
    found: dict[int, str] = {}
    currency = None
    texts = [_text(c)[:200] for c in cells[: limits.max_columns]]
    for i, text in enumerate(texts):
        words, cur = normalise_header(text)
        name = _BY_HEADER.get(words)
        if name is None or name in found.values():
            continue
        found[i] = name
        if name == "unit_price" and cur:
            currency = cur
    return (found if len(found) >= 2 else {}), currency, texts


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _row(
    number: int,
    cells: Sequence[Any],
    header: dict[int, str],
    columns: dict[str, str],
    currency_hint: str | None,
    limits: QuoteLimits,
) -> tuple[QuoteItem | None, list[RowError]]:
    errors: list[RowError] = []
    raw: dict[str, Any] = {}
    for i, name in header.items():
        value = cells[i] if i < len(cells) else None
        if isinstance(value, str) and len(value) > limits.max_cell_chars:
            errors.append(RowError(number, columns[name], f"longer than {limits.max_cell_chars} characters"))
            continue
        raw[name] = value
    if errors:
        return None, errors
    texts = {name: _text(v) or None for name, v in raw.items()}
    if not (texts.get("part") or texts.get("model") or texts.get("description")):
        return None, [RowError(number, None, "no part, model or description")]
    quantity, problem = _quantity(raw.get("quantity"), limits)
    if problem:
        errors.append(RowError(number, columns["quantity"], problem))
    price, currency, problem = _price(raw.get("unit_price"))
    if problem:
        errors.append(RowError(number, columns["unit_price"], problem))
    serials = tuple(s for s in re.split(r"[,;\s]+", texts.get("serials") or "") if s)
    if len(serials) > limits.max_serials:
        errors.append(RowError(number, columns["serials"], f"more than {limits.max_serials} serial numbers"))
    if len(serials) > quantity and not errors:
        errors.append(
            RowError(number, columns["serials"], f"{len(serials)} serial numbers for quantity {quantity}")
        )
    currency = (texts.get("currency") or currency or currency_hint or "").upper()[:3] or None
    if errors:
        return None, errors
    return (
        QuoteItem(
            row=number,
            quantity=quantity,
            part=texts.get("part"),
            vendor=texts.get("vendor"),
            model=texts.get("model"),
            description=texts.get("description"),
            unit_price=price,
            currency=currency,
            serials=serials,
            notes=texts.get("notes"),
        ),
        [],
    )


def _quantity(value: Any, limits: QuoteLimits) -> tuple[int, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0, "quantity is missing"
    if isinstance(value, bool):
        return 0, f"quantity {value} is not a number"
    if isinstance(value, int | float | Decimal):
        if value != int(value):
            return 0, f"quantity {value} is not a whole number"
        number = int(value)
    else:
        match = _QTY.match(str(value))
        if match is None:
            return 0, f"quantity {str(value)[:40]!r} is not a whole number"
        number = int(match.group(1))
    if number < 0:
        return 0, f"quantity {number} is negative"
    if number > limits.max_quantity:
        return 0, f"quantity {number} is more than {limits.max_quantity}"
    return number, None


def _price(value: Any) -> tuple[Decimal | None, str | None, str | None]:
    """(amount, currency, problem): '€ 1.234,56' → 1234.56 EUR; floats from XLSX by their repr."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None, None
    currency = None
    if isinstance(value, bool):
        return None, None, f"unit price {value} is not an amount"
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    else:
        text = str(value).strip()
        for sign, code in _CURRENCY_SIGNS.items():
            if text.lower().startswith(sign) or text.lower().endswith(sign):
                currency = code
                text = text.lower().replace(sign, "")
        if m := re.search(r"\b([A-Za-z]{3})\b", text):
            currency, text = m.group(1).upper(), text.replace(m.group(1), "")
        parsed = _amount(text.strip())
        if parsed is None:
            return None, None, f"unit price {str(value)[:40]!r} is not an amount"
        amount = parsed
    if amount < 0:
        return None, None, f"unit price {amount} is negative"
    if amount != amount.quantize(Decimal("0.01")):
        return None, None, f"unit price {amount} has more than 2 decimals"
    if amount >= Decimal(10) ** 10:
        return None, None, f"unit price {amount} is implausibly large"
    return amount.quantize(Decimal("0.01")), currency, None


def _amount(text: str) -> Decimal | None:
    """'1,234.56', '1.234,56', '1 234,56', '1234' → Decimal; the last separator is the decimal one
    when 1-2 digits follow it (a lone ',' with 3 digits after it is a thousands separator)."""
    text = text.replace("\u00a0", " ").replace(" ", "").replace("'", "")
    if not re.fullmatch(r"\d[\d.,]*", text):
        return None
    last = max(text.rfind("."), text.rfind(","))
    if last != -1 and 1 <= len(text) - last - 1 <= 2:
        whole, frac = text[:last], text[last + 1 :]
        whole = whole.replace(".", "").replace(",", "")
        text = f"{whole}.{frac}"
    else:
        text = text.replace(".", "").replace(",", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
