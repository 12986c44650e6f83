"""Quarter partitions. Static keys from calendar.yaml (2025Q1 …): Dagster has no quarterly
time partition, and the office extends the list in configuration when a campaign is added."""

from __future__ import annotations

import warnings

import dagster as dg

from pipelines import periods

# single_run backfill policies are marked beta; they are the point of this layout.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

quarters = dg.StaticPartitionsDefinition([str(q) for q in periods.quarters()])

# Every asset processes a range of quarters in one run, oldest first (history rules need the
# previous quarter loaded), so a backfill of the whole campaign is one run, not one per quarter.
one_run = dg.BackfillPolicy.single_run()

WAREHOUSE_POOL = "warehouse"  # one writer at a time: DuckDB allows a single writing process
