"""Quarters, campaigns, cumulative windows and due dates, from config/calendar.yaml."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import total_ordering

from pipelines import config

_QUARTER = re.compile(r"(20\d\d)\s*[Qq]([1-4])")


@total_ordering
@dataclass(frozen=True, slots=True)
class Quarter:
    year: int
    q: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        m = _QUARTER.fullmatch(text.strip())
        if not m:
            raise ValueError(f"not a quarter (YYYYQn): {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def search(cls, text: str) -> Quarter | None:
        """The last YYYYQn in a path or name (a drop folder like data/raw/2025Q3/)."""
        found = _QUARTER.findall(text)
        return cls(int(found[-1][0]), int(found[-1][1])) if found else None

    @classmethod
    def of_date(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"

    def __lt__(self, other: Quarter) -> bool:
        return (self.year, self.q) < (other.year, other.q)

    @property
    def label(self) -> str:
        return f"{self.year}年第{'一二三四'[self.q - 1]}季度"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.q - 2, 1)

    @property
    def end(self) -> dt.date:
        return self.next().start - dt.timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.q == 4 else Quarter(self.year, self.q + 1)

    def prev(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.q == 1 else Quarter(self.year, self.q - 1)

    @property
    def campaign(self) -> int:
        return self.year


@dataclass(frozen=True, slots=True)
class Campaign:
    year: int
    label: str
    name: str
    start: dt.date


def _cal() -> dict:
    return config.load("calendar.yaml")


def campaign(year: int) -> Campaign:
    raw = _cal()["campaigns"].get(year)
    if raw is None:
        raise KeyError(f"no campaign {year} in calendar.yaml")
    return Campaign(year, raw["label"], raw["name"], raw["start"])


def campaigns() -> list[int]:
    return sorted(_cal()["campaigns"])


def quarters() -> list[Quarter]:
    return [Quarter.parse(q) for q in _cal()["quarters"]]


def window_start(window: str, campaign_year: int) -> dt.date | None:
    """First day a cumulative column counts from; None for stocks."""
    raw = _cal()["windows"][window]
    start = raw.get("start")
    if start is None:
        return None
    if start == "campaign":
        return campaign(campaign_year).start
    return start


def window_label(window: str) -> str:
    return _cal()["windows"][window]["label"]


def same_window(window: str, a: Quarter, b: Quarter) -> bool:
    """Whether two quarters' values of a cumulative column count from the same start."""
    return window_start(window, a.campaign) == window_start(window, b.campaign)


def due_date(quarter: Quarter) -> dt.date:
    """Due before the 1st of the first month of the next quarter."""
    due = _cal()["due"]
    return quarter.next().start.replace(day=int(due["day"]))


def due_rule() -> str:
    """The due date as a rule submitters are told (calendar.yaml › due.rule)."""
    return str(_cal()["due"]["rule"])


def is_on_time(quarter: Quarter, received: dt.date) -> bool:
    due = due_date(quarter)
    return received <= due if _cal()["due"]["on_time_inclusive"] else received < due


def reminder_date(quarter: Quarter) -> dt.date:
    return due_date(quarter) - dt.timedelta(days=int(_cal()["reminder_days_before_due"]))


def collection_opens(quarter: Quarter) -> dt.date:
    """First day returns for `quarter` are collected: calendar.yaml › collection says how many
    days before the quarter's end a return may already arrive (early senders)."""
    days = int((_cal().get("collection") or {}).get("opens_days_before_quarter_end", 0))
    return quarter.end - dt.timedelta(days=days)


def collecting_quarter(day: dt.date) -> Quarter:
    """The quarter whose collection window `day` falls in: the latest quarter whose window has
    opened by then. A file that names no quarter is filed under it (upload page, mailbox)."""
    q = Quarter.of_date(day)
    return q if collection_opens(q) <= day else q.prev()
