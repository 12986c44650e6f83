"""Same verdicts, same JSON: the front door on the whole sample and the whole corpus gives what
was recorded before its read-once rewrite (tests/front_golden.py says how to re-record)."""

from __future__ import annotations

import json

import pytest

from tests.corpus import CORPUS, present
from tests.front_golden import GOLDEN, corpus_snapshot, sample_snapshot


@pytest.fixture(scope="module")
def recorded() -> dict[str, list[dict]]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def _same(got: list[dict], want: list[dict]) -> None:
    by_key = {(r["file"], r["sheet"], r["form"]): r for r in want}
    diffs = [
        (key, r, by_key.get(key))
        for r in got
        if by_key.get(key := (r["file"], r["sheet"], r["form"])) != r
    ]
    assert len(got) == len(want) and not diffs, (
        f"{len(got)} results (recorded {len(want)}); first differences: {diffs[:3]}. "
        "If the change is meant, re-record: uv run python -m tests.front_golden --write"
    )


def test_the_sample_validates_exactly_as_recorded(tmp_path, recorded):
    _same(sample_snapshot(tmp_path / "raw"), recorded["sample"])


@pytest.mark.skipif(not present("poi"), reason="shared corpus not present")
def test_the_corpus_validates_exactly_as_recorded(recorded):
    _same(corpus_snapshot(CORPUS), recorded["corpus"])
