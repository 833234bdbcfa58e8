"""Thin HTTP views: parse the request, check permission, call a query or a pure module, answer JSON."""
