"""A build whose official figures break a form rule is never published: the warehouse asset runs
`assert_publishable` inside the build, so the published file stays as it was."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pytest

from pipelines.paths import Paths
from pipelines.periods import Quarter
from pipelines.warehouse import load_batches, publish
from pipelines.warehouse.integrity import (
    IntegrityError,
    assert_publishable,
    duplicate_officials,
    official_breaches,
)
from pipelines.warehouse.synthetic import make_return, received_for

Q = "2025Q3"
WHEN = dt.datetime(2025, 10, 8, 9, 30)


def batch(*results):
    return (Quarter.parse(Q), [received_for(r, WHEN) for r in results], list(results), None)


def clean():
    return make_return("form1", "常泰街道", Q, {"hazards_found": 900, "hazards_fixed": 850})


def breaking():
    """Accepted by a (hypothetically) broken front door although 整改 > 自查."""
    return make_return(
        "form1", "临江街道", Q, {"hazards_found": 900, "hazards_fixed": 912}, file="bad.xlsx"
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_clean_build_passes_and_is_published(tmp_path: Path):
    paths = Paths(tmp_path)

    def build(con):
        load_batches(con, [batch(clean())])
        assert_publishable(con)

    publish(paths, build)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert official_breaches(con) == [] and duplicate_officials(con) == []
        assert con.execute("select count(*) from submissions where is_official").fetchone()[0] == 1


def test_official_value_breaking_a_rule_stops_publication(tmp_path: Path):
    paths = Paths(tmp_path)
    publish(paths, lambda con: load_batches(con, [batch(clean())]))
    before = digest(paths.warehouse)

    def build(con):
        load_batches(con, [batch(clean(), breaking())])
        assert_publishable(con)

    with pytest.raises(IntegrityError, match="数据仓库未发布") as raised:
        publish(paths, build)
    message = str(raised.value)  # names the file, the submitter, the cell and both figures
    for text in ("bad.xlsx", "临江街道", "表一", "整改隐患数量", "912", "900"):
        assert text in message, (text, message)
    assert "Breach(" not in message
    assert digest(paths.warehouse) == before
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        names = [r[0] for r in con.execute("select original_name from submissions").fetchall()]
    assert "bad.xlsx" not in names
