"""The leaders' progress report: figures match SQL, nothing external, submitter text escaped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipelines import config
from pipelines.registry import load_registry

HOSTILE = "<script>alert(1)</script>"
HOSTILE_FILE = '<img src=x onerror="alert(2)">.xlsx'
QUARTERS = ("2025Q1", "2025Q2", "2025Q3")
QUARTER = "2025Q3"

CATEGORIES = ("small_factory", "beauty_bath", "internet_cafe", "karaoke", "hotel", "restaurant",
              "shop", "clinic", "school")  # fmt: skip
RESTAURANT_CLOSURE = {1: 0.6, 2: 0.75, 3: 0.85}
PROGRESS = {"常泰街道": 0.33, "浮桥街道": 0.9}  # share of pace reached; others 1.1
LOW_CLOSURE = {"金龙街道": 0.5, "区住建局": 0.6}  # self-inspection closure; others 0.92


def _street_values(name: str, i: int, base: int, q: int) -> dict[str, dict[tuple[str, str], float]]:
    assessed = round(base * (0.5 + 0.15 * q))
    red = max(1, round(base * 0.05)) + (4 if (name, q) == ("江南街道", 3) else 0)
    orange = round(assessed * 0.15)
    yellow = round(assessed * 0.3)
    found = round(base * q * 0.8)
    small, medium = round(base * 0.8), round(base * 0.15)
    form1 = {"ent_small": small, "ent_medium": medium, "ent_large": base - small - medium,
             "ent_total": base, "risk_red": red, "risk_orange": orange, "risk_yellow": yellow,
             "risk_blue": max(0, assessed - red - orange - yellow), "hazards_found": found,
             "hazards_fixed": round(found * LOW_CLOSURE.get(name, 0.92))}  # fmt: skip
    form3 = {"hazards_inspect_found": 10 * q + i, "hazards_urged_fixed": round((10 * q + i) * 0.85),
             "penalty_hazards": 2 * q, "penalty_hazards_fixed": q}  # fmt: skip
    out = {
        "form1": {("street", k): v for k, v in form1.items()},
        "form3": {("street", k): v for k, v in form3.items()},
    }
    targets = config.load("targets.yaml")["campaigns"][2025][name]
    factor = PROGRESS.get(name, 1.1)
    done = {m: round(t * q / 4 * factor) for m, t in targets.items()}
    out["form2"] = {
        ("street_district", "top10_count"): done["model_street"],
        ("street_district", "top100_large"): done["benchmark_enterprise"],
        ("street_district", "review_large"): done["reviewed_enterprise"],
        ("street", "posts_party"): done["model_post"],
    }
    form4: dict[tuple[str, str], float] = {}
    for k, cat in enumerate(CATEGORIES):
        vbase = 5 + (i + k) % 7
        vfound = 3 * q + k
        rate = RESTAURANT_CLOSURE[q] if cat == "restaurant" else 0.9
        row = {"venues_base": vbase, "risk_red": k % 2, "risk_orange": 1, "risk_yellow": 1,
               "risk_blue": 1, "hazards_found": vfound, "hazards_fixed": round(vfound * rate)}  # fmt: skip
        form4 |= {(cat, c): v for c, v in row.items()}
    for c in ("venues_base", "risk_red", "risk_orange", "risk_yellow", "risk_blue",
              "hazards_found", "hazards_fixed"):  # fmt: skip
        form4[("total", c)] = sum(form4[(cat, c)] for cat in CATEGORIES)
    out["form4"] = form4
    return out


def _dept_values(name: str, j: int, q: int) -> dict[str, dict[tuple[str, str], float]]:
    base = 30 + 5 * j
    found = 12 * q + j
    form1 = {"ent_total": base, "risk_red": 1 + j % 2, "risk_orange": 3, "risk_yellow": 5,
             "risk_blue": base - 12, "hazards_found": found,
             "hazards_fixed": round(found * LOW_CLOSURE.get(name, 0.92))}  # fmt: skip
    form3 = {"hazards_inspect_found": 6 * q, "hazards_urged_fixed": 5 * q,
             "penalty_hazards": q, "penalty_hazards_fixed": q}  # fmt: skip
    return {
        "form1": {("dept", k): v for k, v in form1.items()},
        "form2": {("dept_district", "top100_large"): 0, ("dept", "posts_party"): 0},
        "form3": {("dept", k): v for k, v in form3.items()},
    }


_SUBMISSION_COLS = (
    "submission_id, sha256, original_path, original_name, received_at, received_at_source, "
    "submitter, submitter_type, form, quarter, campaign, sheet, validated_status, status, "
    "is_official, superseded_by, on_time, submitter_text"
)
_ids = iter(range(1, 1_000_000))


def _submit(con, quarter, submitter, sub_type, form, values, *, received, status="accepted",
            name=None, superseded_by=None) -> int:  # fmt: skip
    """One return version in the ledger, as the warehouse loader records it."""
    sid = next(_ids)
    due = dt.datetime.fromisoformat(
        {"1": "2025-04-01", "2": "2025-07-01", "3": "2025-10-01"}[quarter[-1]]
    )
    official = status == "accepted" and superseded_by is None
    name = name or f"{submitter}{form}.xlsx"
    con.execute(
        f"insert into submissions ({_SUBMISSION_COLS}) values "
        "(?, ?, ?, ?, ?, 'received.csv', ?, ?, ?, ?, ?, 'Sheet1', ?, ?, ?, ?, ?, ?)",
        [sid, f"{sid:064x}", f"data/raw/{quarter}/{name}", name, received, submitter, sub_type,
         form, quarter, int(quarter[:4]), status, status, official, superseded_by,
         received.date() <= due.date(), submitter],
    )  # fmt: skip
    con.executemany(
        "insert into return_values values (?, ?, ?, ?, null)",
        [[sid, rk, cid, v] for (rk, cid), v in values.items()],
    )
    return sid


def _issue(con, sid, severity, rule, cell, message, status="open") -> None:
    con.execute(
        "insert into validation_issues (issue_id, submission_id, seq, source, severity, rule, "
        "cell, message, status) values (?, ?, 1, 'validate', ?, ?, ?, ?, ?)",
        [next(_ids), sid, severity, rule, cell, message, status],
    )


def build_fixture_warehouse(path: Path) -> Path:
    """A small warehouse whose storyline the tests know: 2025Q1–Q3; 常泰街道 behind pace;
    金龙街道 and 区住建局 close few hazards; 江南街道's red count rises in Q3; 临江街道 misses
    表四 and 区民政局 everything in Q3; 区城管局 is late in Q3; 浮桥街道's 表一 is rejected then
    resubmitted; 常泰街道 sends 表二 three times in Q2; a hostile-named department reports."""
    from pipelines.warehouse import reference, schema

    con = duckdb.connect(str(path))
    schema.apply(con)
    reference.load(con)
    con.execute(
        "insert into submitters values (?, 'hostile', ?, 'dept', ?, null, false, [], null)",
        [HOSTILE, "区安委会成员单位", ["form1", "form2", "form3"]],
    )
    subs = [s for s in load_registry().submitters if s.type in ("街道", "区安委会成员单位")]
    for qi, quarter in enumerate(QUARTERS, start=1):
        on_time = dt.datetime(2025, 3 * qi + 1, 1, 9) - dt.timedelta(days=3)
        streets = [s for s in subs if s.is_street]
        depts = [s for s in subs if not s.is_street]
        for i, s in enumerate(streets):
            values = _street_values(s.name, i, s.enterprise_base or 0, qi)
            for form in s.forms:
                if (s.name, form, quarter) == ("临江街道", "form4", "2025Q3"):
                    continue
                if (s.name, form, quarter) == ("浮桥街道", "form1", "2025Q3"):
                    bad = _submit(con, quarter, s.name, s.type, form, values[form],
                                  received=on_time - dt.timedelta(days=5), status="rejected")  # fmt: skip
                    _issue(con, bad, "error", "blank", "F7", "表一F7为空白。", status="resolved")
                if (s.name, form, quarter) == ("常泰街道", "form2", "2025Q2"):
                    newest = _submit(con, quarter, s.name, s.type, form, values[form],
                                     received=on_time)  # fmt: skip
                    for days in (6, 4):
                        _submit(con, quarter, s.name, s.type, form, values[form],
                                received=on_time - dt.timedelta(days=days), superseded_by=newest)  # fmt: skip
                    continue
                sid = _submit(con, quarter, s.name, s.type, form, values[form], received=on_time)
                if (s.name, form, quarter) == ("海滨街道", "form1", "2025Q3"):
                    _issue(con, sid, "warning", "number_as_text", "G7", "表一G7数字以文本形式保存")
        for j, s in enumerate(depts):
            if (s.name, quarter) == ("区民政局", "2025Q3"):
                continue
            late = (s.name, quarter) == ("区城管局", "2025Q3")
            received = on_time + dt.timedelta(days=8 if late else 0)
            values = _dept_values(s.name, j, qi)
            for form in s.forms:
                _submit(con, quarter, s.name, s.type, form, values[form], received=received)
        if quarter == "2025Q3":
            sid = _submit(con, quarter, HOSTILE, "区安委会成员单位", "form1",
                          _dept_values(HOSTILE, 0, qi)["form1"], received=on_time,
                          name=HOSTILE_FILE)  # fmt: skip
            _issue(con, sid, "warning", "stock_swing", "D7", "<b>变化幅度较大</b>，请确认")
    con.close()
    return path
