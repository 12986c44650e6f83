"""History rules: checks that need the submitter's earlier quarters or its peers.

Pure functions over polars frames, so they are tested without a warehouse. The loader builds the
input: one row per value of the returns being loaded, with the same cell of the submitter's
latest earlier official return beside it (`prev_*`) and the windows of both quarters:

    submission_id, quarter, submitter, submitter_type, form, row_key, column_id, value, cell,
    received_at, window_name, window_start, quarter_start, adjacent_quarter,
    prev_quarter, prev_value, prev_window_start

- cumulative_decrease (error): a cumulative column below the previous official value counted
  from the same window start (periods.same_window); across a window reset nothing is compared.
- stock_swing (warning): a stock that moved by ≥ min_absolute_change and by more than
  max_relative_change of the previous value.
- outlier (warning): a quarter-on-quarter increment far from the submitter's own earlier
  increments or from its peers' (same type, form, row and column, this quarter), by the modified
  z-score 0.6745·(x − median) / MAD (Iglewicz & Hoaglin). Needs at least min_points reference
  increments and MAD > 0 (with no spread there is nothing to be far from).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipelines import config, periods
from pipelines.forms import FormSpec, get_form
from pipelines.rules.messages import fmt, render, severity, where

KEY = ["submitter", "form", "row_key", "column_id"]
Z_FACTOR = 0.6745


@dataclass(frozen=True, slots=True)
class Thresholds:
    max_relative_change: float
    min_absolute_change: float
    modified_z: float
    min_points: int

    @classmethod
    def from_config(cls) -> Thresholds:
        h = config.load("rules.yaml")["history"]
        return cls(
            max_relative_change=float(h["stock_swing"]["max_relative_change"]),
            min_absolute_change=float(h["stock_swing"]["min_absolute_change"]),
            modified_z=float(h["outlier"]["modified_z"]),
            min_points=int(h["outlier"]["min_points"]),
        )


_STOCK = pl.col("window_name") == "stock"


def cumulative_decreases(frame: pl.DataFrame) -> pl.DataFrame:
    """Cumulative values below the previous official value of the same window."""
    return frame.filter(
        ~_STOCK
        & pl.col("prev_value").is_not_null()
        & (pl.col("window_start") == pl.col("prev_window_start"))
        & (pl.col("value") < pl.col("prev_value"))
    )


def stock_swings(frame: pl.DataFrame, t: Thresholds) -> pl.DataFrame:
    """Stocks that moved sharply since the previous official value."""
    change = (pl.col("value") - pl.col("prev_value")).abs()
    return frame.filter(
        _STOCK
        & pl.col("prev_value").is_not_null()
        & (change >= t.min_absolute_change)
        & ((pl.col("prev_value") == 0) | (change > t.max_relative_change * pl.col("prev_value")))
    )


def with_increments(frame: pl.DataFrame) -> pl.DataFrame:
    """Adds `increment`: what happened during the quarter. For a cumulative column whose window
    opens this quarter, the value itself; otherwise value − previous, when the previous official
    return is the adjacent quarter's and counts from the same start; else null."""
    opens_now = ~_STOCK & (pl.col("window_start") >= pl.col("quarter_start"))
    comparable = (
        pl.col("prev_value").is_not_null()
        & (pl.col("prev_quarter") == pl.col("adjacent_quarter"))
        & (_STOCK | (pl.col("window_start") == pl.col("prev_window_start")))
    )
    return frame.with_columns(
        increment=pl.when(opens_now)
        .then(pl.col("value"))
        .when(comparable)
        .then(pl.col("value") - pl.col("prev_value"))
        .otherwise(None)
    )


def _robust_stats(frame: pl.DataFrame, by: list[str], value: str) -> pl.DataFrame:
    """median, MAD and count of `value` per group."""
    med = frame.group_by(by).agg(pl.col(value).median().alias("median"), pl.len().alias("points"))
    dev = frame.join(med, on=by).with_columns(
        (pl.col(value) - pl.col("median")).abs().alias("_dev")
    )
    mad = dev.group_by(by).agg(pl.col("_dev").median().alias("mad"))
    return med.join(mad, on=by)


def _z(increment: pl.Expr) -> pl.Expr:
    return Z_FACTOR * (increment - pl.col("median")) / pl.col("mad")


def peer_outliers(frame: pl.DataFrame, t: Thresholds) -> pl.DataFrame:
    """Increments far from the peers' of the same quarter (same type, form, row, column). Each
    submitter counts once, with its latest version received; the point itself is in the set."""
    inc = frame.filter(pl.col("increment").is_not_null())
    group = ["quarter", "submitter_type", "form", "row_key", "column_id"]
    peers = inc.sort("received_at").unique(subset=["quarter", *KEY], keep="last")
    stats = _robust_stats(peers, group, "increment")
    return (
        inc.join(stats, on=group)
        .filter((pl.col("points") - 1 >= t.min_points) & (pl.col("mad") > 0))
        .with_columns(z=_z(pl.col("increment")))
        .filter(pl.col("z").abs() > t.modified_z)
    )


def own_outliers(frame: pl.DataFrame, earlier: pl.DataFrame, t: Thresholds) -> pl.DataFrame:
    """Increments far from the submitter's own earlier increments (`earlier`: KEY + increment)."""
    inc = frame.filter(pl.col("increment").is_not_null())
    ref = earlier.filter(pl.col("increment").is_not_null())
    if inc.is_empty() or ref.is_empty():
        return inc.clear().with_columns(z=pl.lit(None, pl.Float64))
    stats = _robust_stats(ref, KEY, "increment")
    return (
        inc.join(stats, on=KEY)
        .filter((pl.col("points") >= t.min_points) & (pl.col("mad") > 0))
        .with_columns(z=_z(pl.col("increment")))
        .filter(pl.col("z").abs() > t.modified_z)
    )


def earlier_increments(values: pl.DataFrame) -> pl.DataFrame:
    """Increments of earlier official quarters. `values`: KEY + quarter, value, window_name,
    window_start, quarter_start, adjacent_quarter (one row per official value)."""
    ordered = values.sort([*KEY, "quarter"])
    prev = ordered.with_columns(
        prev_quarter=pl.col("quarter").shift(1).over(KEY),
        prev_value=pl.col("value").shift(1).over(KEY),
        prev_window_start=pl.col("window_start").shift(1).over(KEY),
    )
    return with_increments(prev).select([*KEY, "quarter", "increment"])


# ---- issues -------------------------------------------------------------------------------


def _row_label(form: FormSpec, row_key: str) -> str:
    for r in form.rows:
        if r.key == row_key:
            return r.display
        if r.group == row_key:
            return r.group_label or row_key
    return row_key


def _where(row: dict) -> str:
    form = get_form(row["form"])
    return where(form, _row_label(form, row["row_key"]), form.column(row["column_id"]), row["cell"])


def _issue(row: dict, rule: str, **params: object) -> dict:
    return {
        "submission_id": row["submission_id"],
        "severity": severity(rule),
        "rule": rule,
        "cell": row["cell"],
        "row_key": row["row_key"],
        "column_id": row["column_id"],
        "value": fmt(row["value"]),
        "message": render(rule, where=_where(row), **params),
    }


def issues(frame: pl.DataFrame, earlier: pl.DataFrame | None, t: Thresholds) -> list[dict]:
    """Every history issue for the values in `frame`, as dicts ready for validation_issues."""
    out: list[dict] = []
    for row in cumulative_decreases(frame).iter_rows(named=True):
        out.append(
            _issue(
                row,
                "cumulative_decrease",
                found=fmt(row["value"]),
                prev_quarter=row["prev_quarter"],
                prev=fmt(row["prev_value"]),
                window=periods.window_label(row["window_name"]),
            )
        )
    for row in stock_swings(frame, t).iter_rows(named=True):
        out.append(
            _issue(
                row,
                "stock_swing",
                found=fmt(row["value"]),
                prev_quarter=row["prev_quarter"],
                prev=fmt(row["prev_value"]),
            )
        )
    inc = with_increments(frame)
    if earlier is not None:
        for row in own_outliers(inc, earlier, t).iter_rows(named=True):
            out.append(
                _issue(
                    row,
                    "outlier",
                    found=fmt(row["increment"]),
                    basis="本单位以往各季度的新增",
                    z=f"{row['z']:.1f}",
                )
            )
    for row in peer_outliers(inc, t).iter_rows(named=True):
        out.append(
            _issue(
                row,
                "outlier",
                found=fmt(row["increment"]),
                basis=f"同类单位（{row['submitter_type']}）本季度的新增",
                z=f"{row['z']:.1f}",
            )
        )
    return out
