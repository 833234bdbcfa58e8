"""Deliverables: the as-built record as a handover PDF, a wiring diagram, XLSX/CSV/JSON exports.

Everything is rendered from one view model (``AsBuiltRecord``) built by a pure function from a
snapshot, the diff against the baseline and what the collector knows about the site. Rendering is
blocking (Graphviz, WeasyPrint, openpyxl): the ``*_async`` functions run it in a worker thread.
"""
