"""The warehouse schema lives in `sql/` as plain files analysts read; this module applies them.

Files run in name order (tables, then views, then indicators). The wide per-form views
(`sql/10_form_values.sql`) are generated from the form definitions, because one column per
column id must follow config/forms/*.yaml: regenerate with `python -m pipelines.warehouse.schema`
after a form changes (a test fails while the file is stale).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import duckdb

from pipelines.forms import FORM_IDS, ColumnSpec, FormSpec, get_form

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
FORM_VIEWS_FILE = SQL_DIR / "10_form_values.sql"


def sql_files() -> list[Path]:
    return sorted(SQL_DIR.glob("*.sql"))


def _views_in(paths: list[Path]) -> tuple[str, ...]:
    pattern = re.compile(r"^create or replace view (\w+)", re.MULTILINE)
    return tuple(v for p in paths for v in pattern.findall(p.read_text(encoding="utf-8")))


# The indicator views (sql/2*.sql), in file order: what the pipeline checks and benchmarks time.
INDICATOR_VIEWS = _views_in([p for p in sql_files() if p.name.startswith("2")])


def apply(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and (re)create every view, with their comments. Idempotent."""
    for path in sql_files():
        con.execute(path.read_text(encoding="utf-8"))


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def column_comment(col: ColumnSpec) -> str:
    """「落实全员安全生产责任制数量 › 健全三张清单 › 自查隐患数量（条）｜条｜本年度累计」"""
    from pipelines import periods

    parts = [" › ".join(col.path)]
    if col.unit:
        parts.append(col.unit)
    if col.window:
        parts.append(periods.window_label(col.window))
    return "｜".join(parts)


def _form_view(form: FormSpec) -> str:
    name = f"{form.id}_values"
    pivots = ",\n".join(
        f"        max(value) filter (where column_id = '{c.id}') as {c.id}"
        for c in form.value_columns
    )
    comments = [
        f"comment on view {name} is "
        + _quote(
            f"{form.name}（{form.attachment}）宽表：每个报表版本的每一行一条记录，每列一个列标识；"
            f"列的中文含义见列注释或 form_columns。Wide view of {form.id}: one row per return "
            "version and row key, one column per column id (all versions; filter on "
            "submissions.is_official or use official_values for official figures)."
        )
        + ";",
        f"comment on column {name}.submission_id is '报表版本标识。Return version.';",
        f"comment on column {name}.quarter is '季度。Quarter.';",
        f"comment on column {name}.submitter is '报送单位。Submitter.';",
        f"comment on column {name}.row_key is '行标识（form_rows.row_key）。Row key.';",
    ]
    comments += [
        f"comment on column {name}.{c.id} is {_quote(column_comment(c))};"
        for c in form.value_columns
    ]
    return (
        f"-- {form.name} ({form.id}), {form.attachment}\n"
        f"create or replace view {name} as\n"
        "with source as (\n"
        "    select v.submission_id, s.quarter, s.submitter, v.row_key, v.column_id, v.value\n"
        "    from return_values as v\n"
        "    join submissions as s on s.submission_id = v.submission_id\n"
        f"    where s.form = '{form.id}'\n"
        "),\n"
        "pivoted as (\n"
        "    select\n"
        "        submission_id,\n"
        "        quarter,\n"
        "        submitter,\n"
        "        row_key,\n"
        f"{pivots}\n"
        "    from source\n"
        "    group by submission_id, quarter, submitter, row_key\n"
        ")\n"
        "select * from pivoted;\n\n" + "\n".join(comments) + "\n"
    )


def render_form_views() -> str:
    head = (
        "-- GENERATED from pipelines/config/forms/*.yaml by `python -m pipelines.warehouse.schema`.\n"
        "-- Do not edit by hand. 由表格定义自动生成，请勿手工修改。\n"
        "-- form1_values … form4_values: one row per return version × row key, one column per\n"
        "-- column id; each column's Chinese label is its column comment (see duckdb_columns()).\n\n"
    )
    return head + "\n".join(_form_view(get_form(f)) for f in FORM_IDS)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render_form_views()
    if "--check" in argv:
        ok = FORM_VIEWS_FILE.read_text(encoding="utf-8") == text
        print("up to date" if ok else f"{FORM_VIEWS_FILE} is stale")
        return 0 if ok else 1
    FORM_VIEWS_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {FORM_VIEWS_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
