"""Change alerts: a digest per new version that differs from its baseline, or per overdue scan,
sent by e-mail (SMTP with STARTTLS) to subscribers and by signed webhook to endpoints.

- ``digest``: pure — a ``ChangeReport`` (collector/changes_words.py) or an overdue scan in, the
  subject, the plain text and the JSON payload of one digest out;
- ``signing``: pure — the webhook signature (HMAC-SHA256 over ``<timestamp>.<body>``) and its check;
- ``mail`` / ``webhook``: one delivery attempt each, bounded by timeouts;
- ``fanout``: who gets a digest (subscriptions re-checked against the subscriber's scope, endpoints);
- ``tasks``: the durable jobs (collector/jobs): ``alerts.version`` and ``alerts.overdue`` make the
  digest and its deliveries, ``alerts.deliver`` tries one delivery, retried with backoff.

Ingest only queues ``alerts.version`` after its transaction committed: nothing here runs inside a push.
"""
