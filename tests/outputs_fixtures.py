"""Reports of the sample warehouse, rendered once per session for the tests that read and print
them: the last sample quarter after its due date, and the next quarter early in its collection
window (configured, nothing received yet). Import the fixture into a test module to use it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines import periods


@dataclass(frozen=True)
class SampleReports:
    full: Path  # the last sample quarter, read after its due date
    full_quarter: str
    early: Path  # the quarter after it, a month in (before its due date): nothing received
    early_quarter: str
    early_day: dt.date


@pytest.fixture(scope="session")
def sample_reports(sample_warehouse, tmp_path_factory) -> SampleReports:
    from pipelines.outputs.report import write_report

    out = tmp_path_factory.mktemp("sample_reports")
    last = sample_warehouse.quarters[-1]
    early = str(periods.Quarter.parse(last).next())
    early_day = periods.Quarter.parse(early).start + dt.timedelta(days=30)
    after_due = periods.due_date(periods.Quarter.parse(last)) + dt.timedelta(days=20)
    con = sample_warehouse.connect()
    try:
        full = write_report(con, last, out, today=after_due)
        empty = write_report(con, early, out, today=early_day)
    finally:
        con.close()
    return SampleReports(full, last, empty, early, early_day)
