"""Quarters, campaigns, cumulative windows and due dates, from config/calendar.yaml."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import total_ordering

from pipelines import clock, config

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


@dataclass(frozen=True, slots=True)
class DueRule:
    """When one quarter's returns are due (calendar.yaml › campaigns.<year>.due)."""

    due_date: dt.date  # the date the rule names (「4月1日」, 「4月30日」)
    inclusive: bool  # whether a return received on due_date itself is on time
    rule: str  # the rule in words, as letters state it (「每季度首月1日前」)

    @property
    def last_on_time_day(self) -> dt.date:
        return self.due_date if self.inclusive else self.due_date - dt.timedelta(days=1)


def _campaign_due(year: int) -> dict:
    """The `due` block of campaign `year`; a campaign the calendar does not list uses the latest
    listed one before it (so a stray 2027 return still gets a due date instead of a crash)."""
    listed = _cal()["campaigns"]
    known = sorted(y for y in listed if "due" in (listed[y] or {}))
    if not known:
        raise KeyError("calendar.yaml 未配置任何专项行动年度的报送期限（campaigns.<年度>.due）")
    pick = max((y for y in known if y <= year), default=known[0])
    return listed[pick]["due"]


def _month_day(year: int, month: int, day: object) -> dt.date:
    first = dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    if str(day) == "last":
        nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)
    return first.replace(day=int(day))  # type: ignore[arg-type]


def due(quarter: Quarter) -> DueRule:
    """The due rule of `quarter`: its campaign's `due` (month, day, per-quarter exceptions) and
    the on-time boundary (the campaign's `on_time_inclusive`, else calendar.yaml ›
    due.on_time_inclusive: false, strictly before the due date, as the notice's 「1日前」)."""
    raw = _campaign_due(quarter.campaign)
    spec = {**raw, **((raw.get("quarters") or {}).get(quarter.q) or {})}
    last_month = 3 * quarter.q  # the quarter's last month, 3 … 12
    day = _month_day(quarter.year, last_month + int(spec.get("month", 1)), spec.get("day", 1))
    inclusive = spec.get("on_time_inclusive")
    if inclusive is None:
        inclusive = (_cal().get("due") or {}).get("on_time_inclusive", False)
    if not isinstance(inclusive, bool):
        raise ValueError(
            f"calendar.yaml 中 on_time_inclusive 应为 true 或 false，现为「{inclusive}」"
        )
    return DueRule(day, inclusive, str(spec.get("rule", "")))


def due_date(quarter: Quarter) -> dt.date:
    """The date the campaign's rule names for `quarter` (2025: the 1st of the next quarter's
    first month; 2026: the last day of the month the schedule lists)."""
    return due(quarter).due_date


def on_time_inclusive(quarter: Quarter) -> bool:
    """Whether a return received on the due date itself is on time."""
    return due(quarter).inclusive


def last_on_time_day(quarter: Quarter) -> dt.date:
    """The last day on which a return for `quarter` still arrives on time."""
    return due(quarter).last_on_time_day


def due_rule(quarter: Quarter | None = None) -> str:
    """The due rule as submitters are told (campaigns.<year>.due.rule); without a quarter, the
    rule of the quarter being collected today."""
    return due(quarter or collecting_quarter(today())).rule


def due_words(quarter: Quarter) -> str:
    """「2025年4月1日前」 or 「2026年4月30日（含当日）前」: the deadline as a letter states it."""
    d = due(quarter)
    day = f"{d.due_date.year}年{d.due_date.month}月{d.due_date.day}日"
    return f"{day}（含当日）前" if d.inclusive else f"{day}前"


def is_on_time(quarter: Quarter, received: dt.date) -> bool:
    return received <= last_on_time_day(quarter)


def is_due(quarter: Quarter, day: dt.date) -> bool:
    """Whether `quarter`'s returns are owed by `day`: the last on-time day has passed. Before
    that a return not yet received is 未到期, not missing."""
    return day > last_on_time_day(quarter)


TODAY_ENV = clock.TODAY_ENV


def today() -> dt.date:
    """The office's today (pipelines.clock: JIBAO_TODAY when set, else the office's date)."""
    return clock.today()


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
