"""Dagster assets, one module per stretch of the road: ingest (raw files → returns → warehouse),
indicators, outputs (report, consolidated return, alerts)."""
