"""The service layer: what the web pages and the API both call.

Each function takes an open database session and the caller's ``Ctx`` (who, from where, when),
applies the permission rule of ``collector.auth`` (scope in the query), writes the audit entry and
checks the revision an edit was made from. Views parse and render; they never call each other.
"""
