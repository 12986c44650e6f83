"""Integrity of what is about to be published: the official figures obey every form rule, and each
return has exactly one official version. Validated returns cannot break these, so a breach means
the load went wrong; the warehouse asset refuses to publish such a build, and the Dagster checks
re-run the same functions on the published file.

One exception, the office's own: a cell the office accepted with an explanation (强制上报, an
explainable rule in rules.yaml) breaks its rule on purpose. Exactly those breaches — the same
return, rule, row and column as an `explained` issue — are skipped; every other breach of the
same return, and every schema failure (negatives, fractions: never explainable), still refuses.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from pipelines.forms import get_form, load_forms
from pipelines.rules import cross, schema
from pipelines.rules.messages import fmt, where


class IntegrityError(RuntimeError):
    """The build breaks a form rule or has two official versions: do not publish it."""


def official_breaches(
    con: duckdb.DuckDBPyConnection, quarters: Sequence[str] | None = None
) -> list[cross.Breach | tuple]:
    """Re-run the schema and cross-cell rules over official_values, per form; breaches of cells
    the office explained are not breaches. Only over `quarters` when given (a build changes
    official versions only in the quarters it settles: stored.changed_quarters)."""
    out: list = []
    scope = "" if quarters is None else "and quarter in (select unnest(?::varchar[]))"
    explained = explained_cells(con)
    for form_id, form in load_forms().items():
        long = pl.DataFrame(
            con.sql(
                "select submission_id, row_key, column_id, value from official_values "
                f"where form = ? {scope}",
                params=[form_id] if quarters is None else [form_id, list(quarters)],
            )
        )
        if long.is_empty():
            continue
        wide = long.pivot(on="column_id", index=["submission_id", "row_key"], values="value")
        cols = [c.id for c in form.value_columns]
        frame = wide.select(
            pl.col("submission_id").cast(pl.Int64).alias("_ret"),
            pl.col("row_key").alias("_row"),
            *[
                (pl.col(c) if c in wide.columns else pl.lit(None)).cast(pl.Float64).alias(c)
                for c in cols
            ],
        )
        out += schema.schema_failures(form_id, frame)
        out += [
            b
            for b in cross.check(form_id, frame)
            if b.severity == "error" and (b.ret, b.rule_id, b.row_key, b.column_id) not in explained
        ]
    return out


def explained_cells(con: duckdb.DuckDBPyConnection) -> set[tuple[int, str, str, str]]:
    """(submission, rule, row, column) of every explained issue of an official version."""
    rows = con.execute(
        "select i.submission_id, i.rule, i.row_key, i.column_id from validation_issues as i "
        "join submissions as s on s.submission_id = i.submission_id "
        "where s.is_official and i.status = 'explained'"
    ).fetchall()
    return {(int(s), r, k, c) for s, r, k, c in rows}


def duplicate_officials(
    con: duckdb.DuckDBPyConnection, quarters: Sequence[str] | None = None
) -> list[tuple]:
    scope = "" if quarters is None else "and quarter in (select unnest(?::varchar[]))"
    return con.execute(
        f"select submitter, form, quarter, count(*) from submissions where is_official {scope} "
        "group by all having count(*) > 1",
        [] if quarters is None else [list(quarters)],
    ).fetchall()


def _place(con: duckdb.DuckDBPyConnection, ret: int, row_key: str, column_id: str) -> str:
    """「bad.xlsx（临江街道，2025Q3）表一 街道行「整改隐患数量（条）」(K7)」"""
    name, submitter, quarter, form_id, cell = con.execute(
        "select s.original_name, s.submitter, s.quarter, s.form, v.cell from submissions as s "
        "left join return_values as v on v.submission_id = s.submission_id "
        "and v.row_key = ? and v.column_id = ? where s.submission_id = ?",
        [row_key, column_id, ret],
    ).fetchone()
    form = get_form(form_id)
    label = form.row_label(row_key)
    return f"{name}（{submitter}，{quarter}）{where(form, label, form.column(column_id), cell)}"


def describe(
    con: duckdb.DuckDBPyConnection, breaches: list[cross.Breach | tuple], dupes: list[tuple]
) -> list[str]:
    """Each breach and duplicate in words: the file, submitter, cell and what is wrong."""
    out = []
    for b in breaches:
        if isinstance(b, cross.Breach):
            bound = "不应大于" if b.kind in ("le", "le_sum") else "应为"
            place = _place(con, b.ret, b.row_key, b.column_id)
            out.append(
                f"{place} 为 {fmt(b.found)}，{bound} {fmt(b.expected)}（表内规则 {b.rule_id}）"
            )
        else:
            ret, row_key, column_id, check = b
            out.append(f"{_place(con, ret, row_key, column_id)} 不符合数值要求（{check}）")
    out += [f"{s} {get_form(f).name} {q} 有 {n} 个正式版本" for s, f, q, n in dupes]
    return out


def assert_publishable(
    con: duckdb.DuckDBPyConnection, quarters: Sequence[str] | None = None
) -> None:
    """Raise IntegrityError (Chinese message) when the build must not be published; `quarters`
    limits the check to those (None: everything)."""
    breaches, dupes = official_breaches(con, quarters), duplicate_officials(con, quarters)
    if breaches or dupes:
        first = "；".join(describe(con, breaches[:3], dupes[:3]))
        raise IntegrityError(
            f"数据仓库未发布：正式数据违反表内规则 {len(breaches)} 处，"
            f"同一报表有多个正式版本 {len(dupes)} 处。前几处：{first}。"
            "已发布的数据仓库保持不变；这说明入库程序有误（通过校验的报表不会出现这种情况），"
            "请将本信息交给系统维护人员。"
        )
