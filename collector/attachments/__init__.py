"""Attachments: files people add to a site record, stored content-addressed and served only by views
that check permissions first (there is no public static path to the store).

An upload flows through ``upload.store_upload``: streamed to a private temp file with the size limit
enforced while reading (``intake``), its type sniffed from its bytes (``sniff``), the antivirus hook
run on it (``antivirus``), images re-encoded without metadata and thumbnailed (``images``), PDF
floor plans rendered to a PNG (``pdf``), then committed by digest to a ``BlobStore`` (``storage``).
"""
