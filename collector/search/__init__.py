"""Search over every site's devices across their history (see collector.db.search_tables).

``terms`` is pure (a device → its normalised search terms; a query → what to look up);
``index`` writes the projection at ingest and for the backfill; ``query`` answers searches with
the caller's scope in the SQL.
"""
