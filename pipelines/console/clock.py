"""The office's clock: receipt times are Asia/Shanghai wall-clock time, naive, like every time in
the ledger, whatever time zone the server machine is set to."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

OFFICE_TZ = ZoneInfo("Asia/Shanghai")


def office_now() -> dt.datetime:
    return dt.datetime.now(OFFICE_TZ).replace(tzinfo=None, microsecond=0)


def office_today() -> dt.date:
    return office_now().date()
