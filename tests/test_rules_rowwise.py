"""The batch rules over plain rows (small batches) give what the frame-wide pandera/polars
checks give (large batches): the same issues, in the same order, on the whole sample and on
random batches full of nulls, negatives, fractions and broken totals."""

from __future__ import annotations

import copy
import random

import pytest

from pipelines.forms import FORM_IDS, get_form
from pipelines.reader import read_workbook
from pipelines.rules import cross, rowwise, schema
from pipelines.validate import _apply_batch_rules, _Pending, _unpack, collect_files, examine


@pytest.fixture(scope="module")
def sample_pending(tmp_path_factory) -> list[_Pending]:
    from pipelines.sample import write_sample

    folder = tmp_path_factory.mktemp("sample") / "raw"
    write_sample(folder)
    pending = []
    for path in collect_files([folder]):
        for packed in examine(str(path), read_workbook(path)):
            result, rows = _unpack(packed)
            if rows is not None:
                pending.append(_Pending(result, get_form(result.form), rows))
    return pending


def _issues(pending: list[_Pending], frames: bool) -> list[list[tuple]]:
    mine = copy.deepcopy(pending)
    _apply_batch_rules(mine, frames=frames)
    return [[(i.rule, i.cell, i.message, i.value) for i in p.result.issues] for p in mine]


def test_the_sample_gets_the_same_issues_either_way(sample_pending):
    by_rows, by_frames = _issues(sample_pending, False), _issues(sample_pending, True)
    assert by_rows == by_frames
    rules = {r for issues in by_rows for r, *_ in issues}
    assert {"form1.fixed_le_found", "form4.total_row_sum", "form1.colours_within_base"} <= rules


def _random_rows(form_id: str, rng: random.Random, n: int) -> list[tuple[int, str, dict]]:
    form = get_form(form_id)
    keys = [r.key for r in form.rows] + list(dict.fromkeys(r.group for r in form.rows if r.group))
    rows = []
    for ret in range(n):
        for key in rng.sample(keys, k=rng.randint(1, len(keys))):
            vals = {}
            for col in form.value_columns:
                pick = rng.random()
                if pick < 0.1:
                    continue  # column absent
                vals[col.id] = (
                    None
                    if pick < 0.2
                    else -rng.randint(1, 5)
                    if pick < 0.25
                    else rng.randint(0, 40) + (0.5 if pick < 0.3 else 0.0)
                    if not col.is_amount
                    else round(rng.uniform(0, 9), 4)
                )
            rows.append((ret, key, vals))
    return rows


def _comparable(form_id: str, breaches):
    """Breaches as each return receives them: rule after rule, and within a rule in the order
    found (polars may visit the returns of a total-row rule in any order; each return's own
    issues are what must agree)."""
    order = {r["id"]: i for i, r in enumerate(cross.rules_for(form_id))}
    got = [
        (b.rule_id, b.ret, b.row_key, b.column_id, b.found, round(b.expected, 6)) for b in breaches
    ]
    return sorted(got, key=lambda b: (order[b[0]], b[1]))


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_random_batches_break_the_same_rules_either_way(form_id):
    rng = random.Random(form_id)
    for _ in range(5):
        rows = _random_rows(form_id, rng, 12)
        frame = schema.batch_frame(form_id, rows)
        assert rowwise.schema_failures(form_id, rows) == schema.schema_failures(form_id, frame)
        assert _comparable(form_id, rowwise.check(form_id, rows)) == _comparable(
            form_id, cross.check(form_id, frame)
        )
