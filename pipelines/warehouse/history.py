"""History rules: checks that need the submitter's earlier quarters or its peers.

Pure functions over polars frames, so they are tested without a warehouse. The loader builds the
input: one row per value of the returns being judged, with the same cell of the submitter's
latest earlier official return beside it (`prev_*`), the windows of both quarters, and `scale`,
the submitter's size this quarter (see below):

    submission_id, quarter, submitter, submitter_type, form, row_key, column_id, value, cell,
    received_at, window_name, window_start, quarter_start, adjacent_quarter,
    prev_quarter, prev_value, prev_window_start, scale

Rules (thresholds in config/rules.yaml › history):

- cumulative_decrease (error): a cumulative column below the previous official value counted
  from the same window start; across a window reset (calendar.yaml: the campaign windows restart
  each 1 January) nothing is compared.
- stock_swing (warning): a stock that moved by ≥ min_absolute_change and by more than
  max_relative_change of the previous value.
- outlier (warning), on quarter-on-quarter increments of cumulative columns (what happened during
  the quarter: this cumulative − the adjacent quarter's in the same window, or the value itself
  when the window opens this quarter). Two comparisons, each by the modified z-score
  M = 0.6745·(x − median) / MAD of Iglewicz & Hoaglin (1993), flagged when |M| > modified_z
  (3.5, their recommendation):

  * peers: submitters differ in size by a factor of 30 (a department with 31 enterprises, one with
    415), so raw increments are not comparable. Each increment is divided by the submitter's own
    size — its 企业基数 (表一 总数) for 表一–表三, the category's 底数 for a 表四 row — and the
    intensity (e.g. inspections per enterprise) is compared with the same type's submitters in the
    same quarter, form, row and column (one version each). Skipped with fewer than min_peers
    submitters or MAD = 0 (no spread: nothing to be far from). A submitter whose intensity last
    quarter was of the same order (within min_ratio) is not reported: being unlike its peers is
    then how it works (a small 街道 that trains every enterprise twice), not a slip this quarter.
  * own history: the intensity against the submitter's own earlier quarters' intensities of the
    same cell (so a base that grew does not make every increment look large; the base's own jump
    is the stock_swing rule's business). Needs min_history earlier increments and MAD > 0.

  A z-score alone flags trivia when the spread is tiny, so a value is reported only when it is
  also material: it differs from the expected increment (median intensity × own size) by at least
  min_absolute_change units (min_amount_change for 万元), and by a factor of at least min_ratio
  (≥ min_ratio × expected, or ≤ expected ÷ min_ratio). Stocks, 总数 rows and 总数 columns (sums
  the form rules check) are left out: their movements are those of their parts. Forms without a
  configured size compare raw increments. One warning per cell, naming every comparison that
  flagged it, the value, the increment, and what to check.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipelines import config, periods
from pipelines.forms import FORM_IDS, get_form
from pipelines.rules.messages import fmt, render, severity, where

KEY = ["submitter", "form", "row_key", "column_id"]
CELL = ["submission_id", "row_key", "column_id"]
Z_FACTOR = 0.6745


@dataclass(frozen=True, slots=True)
class Scale:
    """The stock that measures a submitter's size for one form (config: outlier › scale)."""

    form: str  # the form judged
    scale_form: str  # where the size is read
    column: str
    same_row: bool  # 表四: each category row has its own 底数
    label: str  # 企业基数, 该类场所底数 …
    unit: str  # 家


@dataclass(frozen=True, slots=True)
class Thresholds:
    """rules.yaml › history, read once per load (no defaults here: the configuration is the
    one place a threshold is set)."""

    max_relative_change: float
    min_absolute_change: float
    modified_z: float
    min_peers: int
    min_history: int
    outlier_min_change: float
    outlier_min_amount: float
    min_ratio: float
    scales: tuple[Scale, ...]

    @classmethod
    def from_config(cls) -> Thresholds:
        h = config.load("rules.yaml")["history"]
        o = h["outlier"]
        scales = tuple(
            Scale(
                form=form,
                scale_form=spec["form"],
                column=spec["column"],
                same_row=bool(spec.get("same_row", False)),
                label=spec["label"],
                unit=spec.get("unit", ""),
            )
            for form, spec in (o.get("scale") or {}).items()
        )
        return cls(
            max_relative_change=float(h["stock_swing"]["max_relative_change"]),
            min_absolute_change=float(h["stock_swing"]["min_absolute_change"]),
            modified_z=float(o["modified_z"]),
            min_peers=int(o["min_peers"]),
            min_history=int(o["min_history"]),
            outlier_min_change=float(o["min_absolute_change"]),
            outlier_min_amount=float(o["min_amount_change"]),
            min_ratio=float(o["min_ratio"]),
            scales=scales,
        )

    def scale_of(self, form: str) -> Scale | None:
        return next((s for s in self.scales if s.form == form), None)


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


def _aggregates() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(form, row) of 总数 rows and (form, column) of 总数 columns (totals of `sum` rules)."""
    rows = {(f, r.key) for f in FORM_IDS for r in get_form(f).rows if r.is_total}
    cols = {
        (r["form"], r["total"])
        for r in config.load("rules.yaml")["rules"]
        if r.get("kind") == "sum" and r.get("total")
    }
    return rows, cols


def outlier_candidates(frame: pl.DataFrame) -> pl.DataFrame:
    """Increments the outlier rule judges: cumulative columns, not 总数 rows or columns."""
    rows, cols = _aggregates()
    skip_rows = pl.struct("form", "row_key").is_in(
        [{"form": f, "row_key": r} for f, r in sorted(rows)]
    )
    skip_cols = pl.struct("form", "column_id").is_in(
        [{"form": f, "column_id": c} for f, c in sorted(cols)]
    )
    if "increment" not in frame.columns:
        frame = with_increments(frame)
    return frame.filter(
        ~_STOCK & pl.col("increment").is_not_null() & ~skip_rows.fill_null(False)
    ).filter(~skip_cols.fill_null(False))


def _robust_stats(frame: pl.DataFrame, by: list[str], value: str) -> pl.DataFrame:
    """median, MAD and count of `value` per group."""
    med = frame.group_by(by).agg(pl.col(value).median().alias("median"), pl.len().alias("points"))
    dev = frame.join(med, on=by).with_columns(
        (pl.col(value) - pl.col("median")).abs().alias("_dev")
    )
    mad = dev.group_by(by).agg(pl.col("_dev").median().alias("mad"))
    return med.join(mad, on=by)


def _material(t: Thresholds, x: pl.Expr, expected: pl.Expr) -> pl.Expr:
    """Far enough from `expected` to be worth a person's time: by units and by a factor."""
    floor = pl.when(pl.col("is_amount")).then(t.outlier_min_amount).otherwise(t.outlier_min_change)
    return ((x - expected).abs() >= floor) & (
        (x >= t.min_ratio * expected) | (x * t.min_ratio <= expected)
    )


def _with_is_amount(frame: pl.DataFrame) -> pl.DataFrame:
    amounts = [
        {"form": f, "column_id": c.id} for f in FORM_IDS for c in get_form(f).columns if c.is_amount
    ]
    return frame.with_columns(
        is_amount=pl.struct("form", "column_id").is_in(amounts).fill_null(False)
    )


PEER_GROUP = ["quarter", "submitter_type", "form", "row_key", "column_id"]


def _sized(frame: pl.DataFrame, t: Thresholds) -> pl.DataFrame:
    """`scale` as 1 for forms without a configured size (raw increments), and `rate`."""
    sized = [s.form for s in t.scales]
    if "scale" not in frame.columns:
        frame = frame.with_columns(scale=pl.lit(None, pl.Float64))
    frame = frame.with_columns(
        scale=pl.when(pl.col("form").is_in(sized)).then(pl.col("scale")).otherwise(1.0)
    )
    return frame.filter(pl.col("scale") > 0).with_columns(
        rate=pl.col("increment") / pl.col("scale")
    )


def peer_outliers(
    frame: pl.DataFrame,
    t: Thresholds,
    peers: pl.DataFrame | None = None,
    earlier: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Increments whose intensity (increment ÷ scale) is far from the same type's submitters'
    this quarter. `peers` (same columns as `frame`, one version per submitter) defaults to the
    latest version per submitter in `frame`; the judged submitter is part of the set, as in
    Iglewicz & Hoaglin. With `earlier` (see earlier_increments), a submitter whose intensity the
    quarter before was of the same order is left out. Adds rate, median (of rates), mad, points,
    z and expected."""
    inc = _sized(_with_is_amount(outlier_candidates(frame)), t)
    ref = _sized(outlier_candidates(frame if peers is None else peers), t)
    ref = ref.sort("received_at").unique(subset=["quarter", *KEY], keep="last")
    if inc.is_empty() or ref.is_empty():
        return inc.clear().with_columns(z=pl.lit(None, pl.Float64))
    stats = _robust_stats(ref, PEER_GROUP, "rate")
    out = (
        inc.join(stats, on=PEER_GROUP)
        .filter((pl.col("points") >= t.min_peers) & (pl.col("mad") > 0))
        .with_columns(
            z=Z_FACTOR * (pl.col("rate") - pl.col("median")) / pl.col("mad"),
            expected=pl.col("median") * pl.col("scale"),
        )
        .filter(
            (pl.col("z").abs() > t.modified_z)
            & _material(t, pl.col("increment"), pl.col("expected"))
        )
    )
    if earlier is None or out.is_empty():
        return out
    last = _sized(earlier.filter(pl.col("increment").is_not_null()), t).select(
        *KEY, adjacent_quarter=pl.col("quarter"), prev_rate=pl.col("rate")
    )
    r, p = pl.col("rate"), pl.col("prev_rate")
    same_order = (r <= t.min_ratio * p) & (p <= t.min_ratio * r)
    return (
        out.join(last, on=[*KEY, "adjacent_quarter"], how="left")
        .filter(~same_order.fill_null(False))
        .drop("prev_rate")
    )


def own_outliers(frame: pl.DataFrame, earlier: pl.DataFrame, t: Thresholds) -> pl.DataFrame:
    """Intensities far from the submitter's own earlier ones (`earlier`: see
    earlier_increments). Adds rate, median (of rates), mad, points, z and expected."""
    inc = _sized(_with_is_amount(outlier_candidates(frame)), t)
    ref = _sized(earlier.filter(pl.col("increment").is_not_null()), t)
    if inc.is_empty() or ref.is_empty():
        return inc.clear().with_columns(z=pl.lit(None, pl.Float64))
    stats = _robust_stats(ref, KEY, "rate")
    return (
        inc.join(stats, on=KEY)
        .filter((pl.col("points") >= t.min_history) & (pl.col("mad") > 0))
        .with_columns(
            z=Z_FACTOR * (pl.col("rate") - pl.col("median")) / pl.col("mad"),
            expected=pl.col("median") * pl.col("scale"),
        )
        .filter(
            (pl.col("z").abs() > t.modified_z)
            & _material(t, pl.col("increment"), pl.col("expected"))
        )
    )


def earlier_increments(values: pl.DataFrame) -> pl.DataFrame:
    """Increments of earlier official quarters. `values`: KEY + quarter, value, window_name,
    window_start, quarter_start, adjacent_quarter and optionally scale (one row per official
    value). Returns KEY + quarter, increment, scale."""
    if "scale" not in values.columns:
        values = values.with_columns(scale=pl.lit(None, pl.Float64))
    ordered = values.sort([*KEY, "quarter"])
    prev = ordered.with_columns(
        prev_quarter=pl.col("quarter").shift(1).over(KEY),
        prev_value=pl.col("value").shift(1).over(KEY),
        prev_window_start=pl.col("window_start").shift(1).over(KEY),
    )
    return with_increments(prev).select([*KEY, "quarter", "increment", "scale"])


# ---- issues -------------------------------------------------------------------------------


def _where(row: dict) -> str:
    form = get_form(row["form"])
    return where(form, form.row_label(row["row_key"]), form.column(row["column_id"]), row["cell"])


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


def _num(x: float) -> str:
    """A figure for a sentence: whole numbers plain, others to two significant decimals."""
    if abs(x - round(x)) < 1e-9:
        return str(round(x))
    return f"{x:.2f}" if abs(x) < 10 else f"{x:.1f}"


def _increment_text(row: dict) -> str:
    if row["window_start"] is not None and row["window_start"] >= row["quarter_start"]:
        return render(
            "outlier_increment_window_start",
            window=periods.window_label(row["window_name"]),
            increment=fmt(row["increment"]),
        )
    return render(
        "outlier_increment",
        prev_quarter=row["prev_quarter"],
        prev=fmt(row["prev_value"]),
        increment=fmt(row["increment"]),
    )


def _comparison(kind: str, row: dict, t: Thresholds) -> str:
    """One comparison that flagged the cell (kind: outlier_peers / outlier_own), per unit of
    the submitter's size when its form has one."""
    # Increments of counts (家, 人次, 场次 …) are whole: a typical or expected count is rounded,
    # never 「约新增 4.38（人次）」; per-unit rates keep their decimals. z is how far off, as a size.
    whole = not get_form(row["form"]).column(row["column_id"]).is_amount
    s = t.scale_of(row["form"])
    median = row["median"]  # of increments, or (scaled) of per-unit rates
    figures = {
        "submitter_type": row["submitter_type"],
        "points": row["points"],
        "median": _num(round(median) if whole and s is None else median),
        "z": f"{abs(row['z']):.1f}",
    }
    if s is None:
        return render(kind, **figures)
    return render(
        f"{kind}_scaled",
        label=s.label,
        unit=s.unit,
        scale=fmt(row["scale"]),
        rate=_num(row["rate"]),
        expected=_num(round(row["expected"]) if whole else row["expected"]),
        **figures,
    )


def _outlier_issues(
    frame: pl.DataFrame, earlier: pl.DataFrame | None, t: Thresholds, peers: pl.DataFrame | None
) -> list[dict]:
    """One warning per cell, naming each comparison (peers, own history) that flagged it."""
    found: dict[tuple, tuple[dict, list[str]]] = {}
    for row in peer_outliers(frame, t, peers, earlier).iter_rows(named=True):
        key = tuple(row[k] for k in CELL)
        found.setdefault(key, (row, []))[1].append(_comparison("outlier_peers", row, t))
    if earlier is not None:
        for row in own_outliers(frame, earlier, t).iter_rows(named=True):
            key = tuple(row[k] for k in CELL)
            found.setdefault(key, (row, []))[1].append(_comparison("outlier_own", row, t))
    return [
        _issue(
            row,
            "outlier",
            found=fmt(row["value"]),
            increment=_increment_text(row),
            comparison="；".join(texts),
        )
        for _, (row, texts) in sorted(found.items(), key=lambda kv: str(kv[0]))
    ]


def issues(
    frame: pl.DataFrame,
    earlier: pl.DataFrame | None,
    t: Thresholds,
    peers: pl.DataFrame | None = None,
) -> list[dict]:
    """Every history issue for the values in `frame`, as dicts ready for validation_issues.
    `peers`: the quarter's values, one version per submitter (default: `frame` itself)."""
    frame = frame.sort(CELL)  # stable issue order (seq) whatever order the query returned
    out: list[dict] = []
    for row in cumulative_decreases(frame).iter_rows(named=True):
        out.append(
            _issue(
                row,
                "cumulative_decrease",
                found=fmt(row["value"]),
                quarter=row["quarter"],
                prev_quarter=row["prev_quarter"],
                prev=fmt(row["prev_value"]),
                window=periods.window_label(row["window_name"]),
            )
        )
    for row in stock_swings(frame, t).iter_rows(named=True):
        change = row["value"] - row["prev_value"]
        share = f"，{change / row['prev_value']:+.0%}" if row["prev_value"] else ""
        out.append(
            _issue(
                row,
                "stock_swing",
                found=fmt(row["value"]),
                quarter=row["quarter"],
                prev_quarter=row["prev_quarter"],
                prev=fmt(row["prev_value"]),
                change=f"{'增加' if change > 0 else '减少'} {fmt(abs(change))}{share}",
            )
        )
    out.extend(_outlier_issues(frame, earlier, t, peers))
    return out
