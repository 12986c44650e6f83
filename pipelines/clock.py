"""The office's clock. Every time the ledger, the journal, the outbox and the mailbox record is the
office's wall-clock time (automation.yaml › schedules.timezone, Asia/Shanghai), naive, whatever
time zone the server machine is set to — a receipt at 08:30 in 泉州 is 08:30 on every page, letter
and row, even on a machine left on UTC. `JIBAO_TODAY` stands in for today's date (to rerun a
quarter as of a past day, or in tests)."""

from __future__ import annotations

import datetime as dt
import functools
import os
import zoneinfo

from pipelines import config

TODAY_ENV = "JIBAO_TODAY"
DEFAULT_ZONE = "Asia/Shanghai"


class BadToday(config.ConfigError, ValueError):
    """JIBAO_TODAY is not a date (a configuration error: the CLI exits 78)."""


@functools.cache
def zone() -> dt.tzinfo:
    """The office's time zone, from the schedules' configuration (they run in it too)."""
    name = ((config.load("automation.yaml") or {}).get("schedules") or {}).get("timezone")
    try:
        return zoneinfo.ZoneInfo(str(name or DEFAULT_ZONE))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise config.ConfigError(
            f"automation.yaml › schedules.timezone「{name}」不是有效的时区名称（例如 {DEFAULT_ZONE}）"
        ) from None


def aware_now() -> dt.datetime:
    """Now, aware, in the office's zone (for mail headers and the outbox's attempt times)."""
    return dt.datetime.now(zone()).replace(microsecond=0)


def now() -> dt.datetime:
    """Now as the office's naive wall-clock time, to the second (the ledger's form)."""
    return aware_now().replace(tzinfo=None)


def receipt_time() -> dt.datetime:
    """Now to the microsecond, office time: a receipt's proof of timeliness, and the order of two
    versions a submitter sends within the same second (the ledger ranks versions by it)."""
    return dt.datetime.now(zone()).replace(tzinfo=None)


def office_time(when: dt.datetime) -> dt.datetime:
    """An aware time (an IMAP INTERNALDATE, say) as the office's naive wall-clock time."""
    if when.tzinfo is None:
        return when.replace(microsecond=0)
    return when.astimezone(zone()).replace(tzinfo=None, microsecond=0)


def from_timestamp(seconds: float) -> dt.datetime:
    """A file's modification time (a POSIX timestamp) as the office's naive wall-clock time."""
    return dt.datetime.fromtimestamp(seconds, zone()).replace(tzinfo=None, microsecond=0)


def today() -> dt.date:
    """The office's today: JIBAO_TODAY (YYYY-MM-DD) when set, else the date in the office's zone."""
    text = os.environ.get(TODAY_ENV, "").strip()
    if text:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise BadToday(f"{TODAY_ENV} 应为 YYYY-MM-DD 格式的日期，现为「{text}」") from None
    return now().date()
