"""Fleet reports: what no single-vendor tool shows across one customer's sites.

Pure computations over the latest snapshot of each site (and its approved baseline), no database,
no HTTP: ``versions`` compares firmware strings, ``reports`` builds the four reports (firmware
currency per model, clock skew with NTP settings, recording-integrity drift against the baseline,
PoE budget per switch), ``charts`` draws them as small server-side SVG, ``tables`` turns a report
into rows for XLSX and CSV. ``collector/services/fleet.py`` loads the sites (scoped) and audits.
"""
