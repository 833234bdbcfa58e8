"""Durable background work: jobs that survive a restart and run once, even with several collectors.

- ``tasks``: the registry — a task is an async function with a name and a retry budget;
- ``local``: the embedded default on SQLite — a job table and an in-process runner (one collector
  process per SQLite file, as SQLite itself wants);
- ``pg``: on PostgreSQL, procrastinate (LISTEN/NOTIFY, ``FOR UPDATE SKIP LOCKED``, retries, stalled
  worker detection) on the database the collector already has;
- ``queue``: ``open_queue`` picks one by the database URL; the app starts it in its cleanup context.

Ingest never waits on a job: ``defer`` only inserts a row.
"""
