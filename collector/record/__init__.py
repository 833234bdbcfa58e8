"""The site record people keep beside the scans: placement on floor plans, attachments' rows, the
quote and its reconciliation against the scan, service visits. Pure functions decide; the ``*_db``
helpers read and write the tables in collector/db/record_tables.py inside the caller's session."""
