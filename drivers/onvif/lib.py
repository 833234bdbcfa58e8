"""The one place that imports onvif-zeep-async, and undoes what its import does to the process.

`onvif.client` calls ``logging.basicConfig(level=INFO)`` at import time: it adds a stderr handler to
the root logger and lowers the root level, so every library in the agent would start printing INFO
lines. We restore the root logger exactly as it was. Only ``__main__`` configures logging.

We deliberately do not use ``ONVIFCamera``: its constructor deletes ``http_proxy``/``https_proxy``
from ``os.environ`` (the agent may need a proxy to reach the collector) and opens a snapshot HTTP
session we never use. ``ONVIFService`` per service is all the driver needs.
"""

from __future__ import annotations

import logging

_root = logging.getLogger()
_handlers_before = list(_root.handlers)
_level_before = _root.level

import onvif  # noqa: E402  - must come after the snapshot of the root logger
from onvif.client import _WSDL_PATH, ONVIFService, _cached_document  # noqa: E402
from onvif.definition import SERVICES  # noqa: E402
from onvif.exceptions import ONVIFError, ONVIFTimeoutError  # noqa: E402
from onvif.util import is_auth_error, stringify_onvif_error  # noqa: E402

for _handler in list(_root.handlers):
    if _handler not in _handlers_before:
        _root.removeHandler(_handler)
_root.setLevel(_level_before)

WSDL_DIR = _WSDL_PATH
# Parses a WSDL into the library's process-wide document cache (unlocked: see drivers/onvif/wsdl.py).
cached_document = _cached_document

__all__ = [
    "SERVICES",
    "WSDL_DIR",
    "ONVIFError",
    "ONVIFService",
    "ONVIFTimeoutError",
    "cached_document",
    "is_auth_error",
    "onvif",
    "stringify_onvif_error",
]
