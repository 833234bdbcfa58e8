"""Quote import from CSV and XLSX (synonyms, row errors, hostile files) and reconciliation with a scan."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import pytest
from openpyxl import Workbook

from collector.record.quote_import import (
    QuoteFileError,
    QuoteItem,
    QuoteLimits,
    normalise_header,
    parse_quote,
    parse_quote_csv,
    parse_quote_xlsx,
)
from collector.record.reconcile import reconcile
from tests.collector.factory import camera, depot, edit

HIK = "DS-2CD2T47G2-L"
GATE_SERIAL = "DS-2CD2T47G2-L20230702AAWRJ80000001"


def xlsx(rows: list[list[object]], *, cover: bool = False) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    if cover:  # a cover sheet first, as many quotes have
        sheet.title = "Cover"
        sheet.append(["Quote 2026-117 for Depot Nord"])
        sheet = book.create_sheet("Items")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


QUOTE_ROWS: list[list[object]] = [
    ["Meridian Security Ltd — Quotation 2026-117"],
    [],
    ["Pos", "Art.-Nr.", "Hersteller", "Modell", "Beschreibung", "Menge", "Einzelpreis (€)", "Seriennummer"],
    [1, "02503-001", "Axis", "P3245-LVE", "Dome 2MP", 1, 649.0, None],
    [2, HIK, "Hikvision", f"{HIK}(4mm)", "Bullet 4MP", "2 Stk", "389,90", GATE_SERIAL],
    [3, "CAT6-305", None, None, "Cat6 cable 305 m", 2, 119.5, None],
    [4, None, None, None, None, 3, None, None],  # no part, model or description
    [5, "Q1798-LE", "Axis", "Q1798-LE", "Bullet 10MP", "two", 1999, None],  # quantity in words
    [6, "M3106", "Axis", "M3106-L Mk II", "Mini dome", 1, 12.345, None],  # three decimals
    [None, None, None, None, None, None, None, None],
    ["Summe", None, None, None, None, None, 1935.3, None],
]


def test_header_words_are_matched_with_synonyms_and_currencies():
    assert normalise_header(" Unit Price (€) ") == ("unit price", "EUR")
    assert normalise_header("Qty.") == ("qty", None)
    assert normalise_header("Part #") == ("part #", None)
    assert normalise_header("Price [USD]") == ("price", "USD")


def test_xlsx_quote_with_a_cover_sheet_row_errors_and_a_total_line():
    got = parse_quote_xlsx(xlsx(QUOTE_ROWS, cover=True))
    rows = [
        (i.row, i.part, i.vendor, i.model, i.quantity, i.unit_price, i.currency, i.serials) for i in got.items
    ]
    assert rows == [
        (4, "02503-001", "Axis", "P3245-LVE", 1, Decimal("649.00"), "EUR", ()),
        (5, HIK, "Hikvision", f"{HIK}(4mm)", 2, Decimal("389.90"), "EUR", (GATE_SERIAL,)),
        (6, "CAT6-305", None, None, 2, Decimal("119.50"), "EUR", ()),
    ]  # fmt: skip
    assert [str(e) for e in got.errors] == [
        "row 7: no part, model or description",
        "row 8, Menge: quantity 'two' is not a whole number",
        "row 9, Einzelpreis (€): unit price 12.345 has more than 2 decimals",
    ]
    assert got.skipped_rows == (11,) and got.ignored_columns == ("Pos",)
    assert got.columns["quantity"] == "Menge" and got.columns["part"] == "Art.-Nr."


def test_csv_quote_semicolons_cp1252_and_row_numbers():
    data = (
        "Part Number;Manufacturer;Model;Qty;Unit price;Serial numbers;Comments\r\n"
        "02503-001;Axis;P3245-LVE;1;€ 649,00;;Eingang\r\n"
        f"{HIK};Hikvision;{HIK};2;389.90;{GATE_SERIAL}, SER-2, SER-3;too many serials\r\n"
        "SW-24;Cisco;C2960X;-1;1.234,00;;\r\n"
        "\r\n"
        "M3106;Axis;M3106-L Mk II;1;$1,299.00;;Lobby\r\n"
    ).encode("cp1252")
    got = parse_quote(data, "text/csv")
    assert [(i.row, i.model, i.quantity, i.unit_price, i.currency, i.notes) for i in got.items] == [
        (2, "P3245-LVE", 1, Decimal("649.00"), "EUR", "Eingang"),
        (6, "M3106-L Mk II", 1, Decimal("1299.00"), "USD", "Lobby"),
    ]
    assert [str(e) for e in got.errors] == [
        "row 3, Serial numbers: 3 serial numbers for quantity 2",
        "row 4, Qty: quantity -1 is negative",
    ]


def test_a_file_without_a_recognisable_header_is_refused_whole():
    with pytest.raises(QuoteFileError, match=r"no header row .* \(headers seen: 'Foo', 'Bar'\)"):
        parse_quote_csv(b"Foo,Bar\n1,2\n")
    with pytest.raises(QuoteFileError, match="CSV or XLSX"):
        parse_quote(b"%PDF-1.7", "application/pdf")


@pytest.mark.parametrize(
    ("data", "limits", "says"),
    [
        (b"Model,Qty\n" + b"X,1\n" * 30, QuoteLimits(max_rows=20), "at most 20 lines"),
        (b"Model,Qty\n" + b"X,1\n" * 300, QuoteLimits(max_bytes=1024), "at most 0 MiB"),
        (b"", QuoteLimits(), "empty"),
    ],
)
def test_hostile_csv_files_are_bounded(data: bytes, limits: QuoteLimits, says: str):
    with pytest.raises(QuoteFileError, match=says):
        parse_quote_csv(data, limits)


def test_a_long_cell_is_a_row_error_not_a_crash():
    got = parse_quote_csv(
        b"Model,Qty,Notes\nX,1," + b"n" * 5000 + b"\nY,2,ok\n", QuoteLimits(max_cell_chars=1000)
    )
    assert [str(e) for e in got.errors] == ["row 2, Notes: longer than 1000 characters"]
    assert [i.model for i in got.items] == ["Y"]


def test_an_xlsx_bomb_is_refused_before_openpyxl_unpacks_it():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b" " * (60 * 1024 * 1024))  # 60 MiB of nothing, packed small
    assert len(out.getvalue()) < 1024 * 1024
    with pytest.raises(QuoteFileError, match="unpacks to more than 50 MiB"):
        parse_quote_xlsx(out.getvalue())
    with pytest.raises(QuoteFileError, match="cannot be read"):
        parse_quote_xlsx(b"PK\x03\x04 not a zip at all")


# ---------------------------------------------------------------- reconciliation


def line(model: str | None, quantity: int, *, vendor: str | None = None, serials: tuple[str, ...] = (),
         part: str | None = None) -> QuoteItem:  # fmt: skip
    return QuoteItem(row=0, quantity=quantity, part=part, vendor=vendor, model=model, serials=serials)


def test_reconciliation_serial_first_then_model_counts():
    snap = (
        depot()
    )  # cams: AXIS P3245-LVE, AXIS M3106-L Mk II, HIK DS-2CD2T47G2-L (gate), AXIS Q1798-LE; NVR; 2 switches
    quote = [
        line(f"{HIK}(4mm)", 2, vendor="Hikvision", serials=(GATE_SERIAL, "GONE-123")),
        line("P3245-LVE", 1, vendor="Axis Communications"),
        line("M3106-L MkII", 2, vendor="Axis"),  # spelled differently, one more than installed
        line(None, 2, part="CAT6-305"),  # cable: no scan sees it
        line("C2960X", 1, vendor="Cisco"),
        line("Q1798-LE", 1, vendor="Hanwha"),  # the vendor contradicts: not this camera
    ]
    got = reconcile(quote, snap.devices)
    gate = next(d for d in snap.devices if d.identity.serial == GATE_SERIAL)
    assert got.lines[0].by_serial == (gate.id,) and got.lines[0].serials_not_seen == ("GONE-123",)
    assert got.lines[0].by_model == () and got.lines[0].shortfall == 1
    assert [(s.installed, s.shortfall) for s in got.lines] == [(1, 1), (1, 0), (1, 1), (0, 2), (1, 0), (0, 1)]
    assert [(u.label, u.reason) for u in got.unquoted] == [
        ("Camera cam-parking (AXIS Q1798-LE)", "model not on the quote"),
        ("Recorder nvr-main (HIKVISION DS-7616NI-I2/16P)", "model not on the quote"),
        ("Switch sw-yard (Aruba 2530-24G-PoEP)", "model not on the quote"),
    ]
    assert not got.complete and len(got.shortfalls) == 4


def test_reconciliation_more_installed_than_quoted():
    extra = camera("cam-extra", "ac:cc:8e:5a:09:09", "10.77.0.99", port=9, vendor="AXIS", model="P3245-LVE")
    snap = depot()
    devices = (*snap.devices, edit(extra))
    got = reconcile([line("P3245-LVE", 1)], devices)
    assert got.lines[0].installed == 1
    assert ("Camera cam-extra (AXIS P3245-LVE)", "more installed than quoted (1 quoted)") in [
        (u.label, u.reason) for u in got.unquoted
    ]


def test_a_serial_claims_its_device_before_any_model_count():
    # Two identical cameras; the quote's second line names one by serial: the first line gets the other.
    a = camera("cam-a", "ac:cc:8e:5a:0a:01", "10.77.0.51", port=5, serial="S-A")
    b = camera("cam-b", "ac:cc:8e:5a:0a:02", "10.77.0.52", port=6, serial="S-B")
    got = reconcile([line(HIK, 1), line(HIK, 1, serials=("s-a",))], [a, b])
    assert got.lines[0].by_model == (b.id,) and got.lines[1].by_serial == (a.id,)
    assert got.complete


@pytest.mark.parametrize(
    ("price", "amount", "currency"),
    [
        ("1.234,56", "1234.56", None),
        ("1,234.56", "1234.56", None),
        ("1 234,5", "1234.5", None),
        ("CHF 1'250.00", "1250.00", "CHF"),
        ("€ 649", "649", "EUR"),
        ("649.00 EUR", "649.00", "EUR"),
        ("1,234", "1234", None),  # a lone comma with three digits after it groups thousands
    ],
)
def test_price_spellings(price: str, amount: str, currency: str | None):
    got = parse_quote_csv(f"Model;Qty;Price\nX;1;{price}\n".encode())
    assert not got.errors and got.items[0].unit_price == Decimal(amount) and got.items[0].currency == currency
