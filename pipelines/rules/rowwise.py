"""The batch rules (schema checks and cross-cell rules of rules.yaml) over plain rows, for a
small batch: polars and pandera take most of a second to import, which a submitter checking one
file would wait for. Same rules, same order, same breaches as `schema.schema_failures` and
`cross.check` on the batch frame (tests/test_rules_rowwise.py holds them to it); large batches
keep the frame-wide checks, whose per-check cost is what pays off there.

A row is (return index, row key, {column id: value}); a missing or None value is null and, as
in the frame, skipped by every rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence

from pipelines.forms import get_form
from pipelines.rules.breach import Breach, rules_for
from pipelines.rules.breach import tolerance as _tol

Row = tuple[int, str, Mapping[str, float | None]]

# Check name (rules.yaml › cell_rules) → whether a (non-null) value fails it: the negation of
# schema.CHECKS' expressions, value by value.
FAILS = {
    "negative": lambda v: v < 0,
    "not_whole": lambda v: v != math.floor(v),
}


def _applies(check: str, column) -> bool:
    return check != "not_whole" or not column.is_amount


def schema_failures(form_id: str, rows: Sequence[Row]) -> list[tuple[int, str, str, str]]:
    """(return index, row key, column id, check) of every failing cell, in column order, then
    check order, then row order — as `schema.schema_failures`. Counts and amounts are nearly
    always whole and non-negative: a C-speed pass over each row picks the few to look at."""
    form = get_form(form_id)
    odd = [
        (i, ret, row_key, vals)
        for i, (ret, row_key, vals) in enumerate(rows)
        if any(v is not None and (v < 0 or not v.is_integer()) for v in vals.values())
    ]
    found = []
    for pos, col in enumerate(form.value_columns):
        for order, (name, fails) in enumerate(FAILS.items()):
            if not _applies(name, col):
                continue
            cid = col.id
            for i, ret, row_key, vals in odd:
                v = vals.get(cid)
                if v is not None and fails(v):
                    found.append((pos, order, i, ret, row_key, cid, name))
    found.sort(key=lambda x: x[:3])
    return [(ret, row, col, name) for _, _, _, ret, row, col, name in found]


def check(form_id: str, rows: Sequence[Row]) -> Iterator[Breach]:
    """Breaches of the cross-cell rules, rule after rule, row after row — as `cross.check`."""
    for rule in rules_for(form_id):
        kind = rule["kind"]
        sev = rule.get("severity", "error")
        if kind == "sum":
            total, parts = rule["total"], rule["parts"]
            tol = _tol(form_id, [total, *parts])
            for ret, row, vals in rows:
                got = [vals.get(c) for c in (total, *parts)]
                if any(v is None for v in got):
                    continue
                expected = sum(got[1:])
                if abs(got[0] - expected) > tol:
                    yield Breach(
                        rule["id"], kind, sev, ret, row, total, got[0], expected, {"parts": parts}
                    )
        elif kind == "le":
            right = rule["right"]
            for left in rule["left"]:
                tol = _tol(form_id, [left, right])
                for ret, row, vals in rows:
                    a, b = vals.get(left), vals.get(right)
                    if a is not None and b is not None and a > b + tol:
                        yield Breach(rule["id"], kind, sev, ret, row, left, a, b, {"right": right})
        elif kind == "le_sum":
            parts, right = rule["parts"], rule["right"]
            for ret, row, vals in rows:
                got = [vals.get(c) for c in (*parts, right)]
                if any(v is None for v in got):
                    continue
                total = sum(got[:-1])
                if total > got[-1]:
                    yield Breach(
                        rule["id"],
                        kind,
                        sev,
                        ret,
                        row,
                        parts[0],
                        total,
                        got[-1],
                        {"parts": parts, "right": right},
                    )
        elif kind == "total_row":
            yield from _total_row(form_id, rule, rows)
        else:
            raise ValueError(f"unknown rule kind {kind!r} in rules.yaml")


def _total_row(form_id: str, rule: dict, rows: Sequence[Row]) -> Iterator[Breach]:
    form = get_form(form_id)
    total_key = next(r.key for r in form.rows if r.is_total)
    parts = {r.key for r in form.rows if not r.is_total}
    cols = [c.id for c in form.value_columns]
    body: dict[int, list[Mapping[str, float | None]]] = {}
    for ret, row, vals in rows:
        if row in parts:
            body.setdefault(ret, []).append(vals)
    for ret, row, vals in rows:
        if row != total_key or ret not in body:
            continue
        for c in cols:
            found = vals.get(c)
            column = [b.get(c) for b in body[ret]]
            if found is None or any(v is None for v in column):
                continue
            expected = sum(column)
            if abs(found - expected) > _tol(form_id, [c]):
                sev = rule.get("severity", "error")
                yield Breach(rule["id"], "total_row", sev, ret, total_key, c, found, expected, {})
