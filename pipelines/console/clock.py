"""The console's clock is the office's (pipelines.clock): receipt times are Asia/Shanghai
wall-clock time, naive, like every time in the ledger, whatever zone the server is set to."""

from __future__ import annotations

import datetime as dt

from pipelines import clock

OFFICE_TZ = clock.zone()


def office_now() -> dt.datetime:
    return clock.now()


def receipt_time() -> dt.datetime:
    return clock.receipt_time()


def office_today() -> dt.date:
    return clock.today()
