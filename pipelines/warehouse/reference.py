"""Configuration copied into reference tables, so that views stay plain SQL.

Reloaded wholesale on every refresh: the YAML files are the source of truth and a table that
merely mirrors them must never drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb
import polars as pl

from pipelines import config, periods
from pipelines.forms import FORM_IDS, get_form
from pipelines.periods import Quarter
from pipelines.registry import load_registry
from pipelines.warehouse.frames import insert_frame


def _replace(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Sequence]) -> None:
    """Replace the table's rows. Through one Arrow frame, not executemany: a province-scale
    registry (tens of thousands of submitters and targets) would take minutes row by row."""
    con.execute(f"delete from {table}")
    if rows:
        columns = [
            name
            for (name,) in con.execute(
                "select column_name from duckdb_columns() where table_name = ? "
                "order by column_index",
                [table],
            ).fetchall()
        ]
        frame = pl.DataFrame(
            [list(r) for r in rows],
            schema=columns,
            orient="row",
            strict=False,
            infer_schema_length=None,
        )
        # An all-NULL column infers as polars Null, which DuckDB cannot read through Arrow.
        insert_frame(con, table, frame.with_columns(pl.col(pl.Null).cast(pl.String)))


def load(con: duckdb.DuckDBPyConnection) -> None:
    """Reload every configuration table (and the quarters the ledger mentions)."""
    _submitters(con)
    _forms(con)
    _targets(con)
    _scoring(con)
    _states(con)
    load_quarters(con)


def _submitters(con: duckdb.DuckDBPyConnection) -> None:
    types = config.load("submitters.yaml")["types"]
    _replace(
        con,
        "submitter_types",
        [
            (name, t.get("row_key"), list(t.get("forms") or []), bool(t.get("consolidates", False)))
            for name, t in types.items()
        ],
    )
    _replace(
        con,
        "submitters",
        [
            (
                s.name,
                s.code,
                s.type,
                types[s.type].get("row_key"),
                list(s.forms),
                s.enterprise_base,
                s.old_city,
                list(s.aliases),
                s.email,
            )
            for s in load_registry().submitters
        ],
    )


def _forms(con: duckdb.DuckDBPyConnection) -> None:
    forms, rows, columns, windows = [], [], [], []
    campaigns = periods.campaigns()
    for fid in FORM_IDS:
        f = get_form(fid)
        forms.append((f.id, f.number, f.name, f.attachment, f.title_key, list(f.owed_by)))
        for i, r in enumerate(f.rows, 1):
            rows.append(
                (
                    f.id,
                    r.key,
                    i,
                    r.label,
                    r.display,
                    r.submitter_type,
                    r.type_key,
                    r.is_total,
                    False,
                )
            )
        if any(c.scope == "type" for c in f.columns):
            for j, group in enumerate(dict.fromkeys(r.group for r in f.rows if r.group), 1):
                first = next(r for r in f.rows if r.group == group)
                label = first.group_label or group
                rows.append(
                    (
                        f.id,
                        group,
                        len(f.rows) + j,
                        label,
                        label,
                        first.submitter_type,
                        group,
                        False,
                        True,
                    )
                )
        for i, c in enumerate(f.columns, 1):
            kind = "label" if not c.is_value else ("stock" if c.is_stock else "cumulative")
            label = periods.window_label(c.window) if c.window else None
            columns.append(
                (
                    f.id,
                    c.id,
                    i,
                    c.label,
                    " › ".join(c.path[:-1]),
                    c.display,
                    c.unit,
                    kind,
                    c.window,
                    label,
                    c.scope,
                )
            )
            if c.window:
                for year in campaigns:
                    windows.append(
                        (year, f.id, c.id, c.window, periods.window_start(c.window, year))
                    )
    _replace(con, "forms", forms)
    _replace(con, "form_rows", rows)
    _replace(con, "form_columns", columns)
    _replace(con, "column_windows", windows)


def _targets(con: duckdb.DuckDBPyConnection) -> None:
    raw = config.load("targets.yaml")
    measures = raw["measures"]
    _replace(
        con,
        "targets",
        [
            (int(year), street, measure, float(value))
            for year, streets in raw["campaigns"].items()
            for street, by_measure in streets.items()
            for measure, value in by_measure.items()
        ],
    )
    _replace(
        con,
        "target_measures",
        [
            (m, spec["label"], spec.get("unit"), spec.get("form", "form2"), col)
            for m, spec in measures.items()
            for col in spec["columns"]
        ],
    )
    _replace(con, "target_pace", [(int(k.lstrip("Qq")), float(v)) for k, v in raw["pace"].items()])
    status, words = raw["status"], raw["status_labels"]
    _replace(
        con,
        "target_status_bands",
        [
            (words["ahead"], float(status["ahead"])),
            (words["on_track"], float(status["on_track"])),
            (words["behind"], 0.0),
        ],
    )
    _replace(
        con, "district_goals", [(m, float(g)) for m, g in raw.get("district_goals", {}).items()]
    )


def _scoring(con: duckdb.DuckDBPyConnection) -> None:
    raw = config.load("scoring.yaml")
    labels = raw.get("labels", {})
    _replace(
        con,
        "scoring_weights",
        [(k, float(w), labels.get(k, k)) for k, w in raw["weights"].items()],
    )


def _states(con: duckdb.DuckDBPyConnection) -> None:
    states = (config.load("calendar.yaml").get("collection") or {}).get("states") or {}
    _replace(con, "reporting_states", [(k, v, i) for i, (k, v) in enumerate(states.items(), 1)])


def load_quarters(con: duckdb.DuckDBPyConnection, extra: Iterable[str] = ()) -> None:
    """quarters and deadlines: the calendar's quarters plus any the ledger (or `extra`) names."""
    seen = {str(q) for q in periods.quarters()} | set(extra)
    seen |= {
        q
        for (q,) in con.execute(
            "select distinct quarter from submissions where quarter is not null"
        ).fetchall()
    }
    qs = sorted(Quarter.parse(q) for q in seen)
    _replace(
        con,
        "quarters",
        [(str(q), q.year, q.q, q.campaign, q.start, q.end, str(q.prev()), q.label) for q in qs],
    )
    _replace(
        con,
        "deadlines",
        [
            (
                str(q),
                (rule := periods.due(q)).due_date,
                periods.reminder_date(q),
                rule.last_on_time_day,
                rule.inclusive,
                rule.rule,
            )
            for q in qs
        ],
    )
