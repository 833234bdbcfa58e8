"""HTTP plumbing the JSON API (``collector/api/``) and the pages (``collector/web/``) share.

Both kinds of view parse the same request parameters, read the same caller off the request, hand the
same deliverables back as files and point at the same share page. That code lives here, below both,
so neither side imports the other ("views call a service layer, never each other"): a rule about a
parameter or a download is written once. Nothing here decides anything a service should: each helper
reads the request, calls ``collector/services/``, and turns the answer into an aiohttp response.
"""
