"""Deliverables: the as-built record as a handover PDF, a wiring diagram, XLSX/CSV/JSON exports.

Everything is rendered from one view model (``AsBuiltRecord``) built by a pure function from a
snapshot, the diff against the baseline and what the collector knows about the site. Rendering is
blocking (Graphviz, WeasyPrint, openpyxl): the ``*_async`` functions run it in a worker thread.

    record = build_record(snapshot, SiteInfo(...), generated_at=now, baseline=..., diff=...)
    pdf = await handover_pdf_async(record, branding=Branding(...))
"""

from collector.documents.branding import Branding
from collector.documents.build import build_record
from collector.documents.diagram import (
    DiagramError,
    topology_svg,
    topology_svg_async,
    wiring_svg,
    wiring_svg_async,
)
from collector.documents.exports import devices_csv, export_json, record_xlsx, record_xlsx_async
from collector.documents.model import (
    AsBuiltRecord,
    BaselineInfo,
    SealedCredential,
    SiteInfo,
    SiteRecordExtras,
)
from collector.documents.pdf import handover_html, handover_pdf, handover_pdf_async

__all__ = [
    "AsBuiltRecord",
    "BaselineInfo",
    "Branding",
    "DiagramError",
    "SealedCredential",
    "SiteInfo",
    "SiteRecordExtras",
    "build_record",
    "devices_csv",
    "export_json",
    "handover_html",
    "handover_pdf",
    "handover_pdf_async",
    "record_xlsx",
    "record_xlsx_async",
    "topology_svg",
    "topology_svg_async",
    "wiring_svg",
    "wiring_svg_async",
]
