"""The console: the office's board, the submitters' upload page and the leaders' reports, in a
browser (Django). It drives the same library functions as the CLI and Dagster — the front door,
the one receipt, the run queue, the office's decisions, the outbox — and holds no copy of a
step. Django's own database (data/console/) keeps accounts and sessions only; the warehouse is
opened read-only.

Apps, one per concern: `accounts` (roles, units, the one access rule), `uploads` (the
submitter's page), `board` (the office's page), `leaders` (reports).
"""
