"""Cross-cell rules from rules.yaml: totals equal their parts, parts stay within the base,
rectified ≤ found, 表四's 总数 row equals the nine rows. Plain functions over the batch frame."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from pipelines.forms import get_form
from pipelines.rules.breach import Breach, rules_for
from pipelines.rules.breach import tolerance as _tol

__all__ = ["Breach", "check", "rules_for"]


def check(form_id: str, frame: pl.DataFrame) -> Iterator[Breach]:
    """Breaches in a batch frame (one row per return × row key; nulls are skipped: a blank is
    reported by the cell rules already)."""
    for rule in rules_for(form_id):
        kind = rule["kind"]
        sev = rule.get("severity", "error")
        if kind == "sum":
            parts = rule["parts"]
            tol = _tol(form_id, [rule["total"], *parts])
            sub = frame.select(
                "_ret", "_row", rule["total"], pl.sum_horizontal(parts).alias("_exp")
            )
            ok = frame.select(
                pl.all_horizontal(pl.col([rule["total"], *parts]).is_not_null())
            ).to_series()
            sub = sub.filter(ok)
            bad = sub.filter((pl.col(rule["total"]) - pl.col("_exp")).abs() > tol)
            for ret, row, found, exp in bad.iter_rows():
                yield Breach(
                    rule["id"], kind, sev, ret, row, rule["total"], found, exp, {"parts": parts}
                )
        elif kind == "le":
            right = rule["right"]
            for left in rule["left"]:
                tol = _tol(form_id, [left, right])
                bad = frame.filter(
                    pl.col(left).is_not_null()
                    & pl.col(right).is_not_null()
                    & (pl.col(left) > pl.col(right) + tol)
                ).select("_ret", "_row", left, right)
                for ret, row, found, bound in bad.iter_rows():
                    yield Breach(
                        rule["id"], kind, sev, ret, row, left, found, bound, {"right": right}
                    )
        elif kind == "le_sum":
            parts, right = rule["parts"], rule["right"]
            ok = pl.all_horizontal(pl.col([*parts, right]).is_not_null())
            bad = frame.filter(ok & (pl.sum_horizontal(parts) > pl.col(right))).select(
                "_ret", "_row", pl.sum_horizontal(parts).alias("_sum"), right
            )
            for ret, row, found, bound in bad.iter_rows():
                yield Breach(
                    rule["id"],
                    kind,
                    sev,
                    ret,
                    row,
                    parts[0],
                    found,
                    bound,
                    {"parts": parts, "right": right},
                )
        elif kind == "total_row":
            yield from _total_row(form_id, rule, frame)
        else:
            raise ValueError(f"unknown rule kind {kind!r} in rules.yaml")


def _total_row(form_id: str, rule: dict, frame: pl.DataFrame) -> Iterator[Breach]:
    form = get_form(form_id)
    total_key = next(r.key for r in form.rows if r.is_total)
    parts = [r.key for r in form.rows if not r.is_total]
    cols = [c.id for c in form.value_columns]
    body = frame.filter(pl.col("_row").is_in(parts))
    sums = body.group_by("_ret").agg(
        [pl.col(c).sum().alias(c) for c in cols]
        + [pl.col(c).null_count().alias(f"{c}__nulls") for c in cols]
    )
    totals = frame.filter(pl.col("_row") == total_key)
    joined = totals.join(sums, on="_ret", suffix="__sum")
    for row in joined.iter_rows(named=True):
        for c in cols:
            found, exp = row[c], row[f"{c}__sum"]
            if found is None or row[f"{c}__nulls"]:
                continue
            tol = _tol(form_id, [c])
            if abs(found - exp) > tol:
                yield Breach(
                    rule["id"],
                    "total_row",
                    rule.get("severity", "error"),
                    row["_ret"],
                    total_key,
                    c,
                    found,
                    exp,
                    {},
                )
