"""Sample submissions: a realistic, deterministic set of quarterly returns for demos and tests.

Every registered submitter gets a consistent series (stocks drift slowly, cumulative columns rise
inside their windows and restart where a window restarts), written in the official layout, with
the irregularities real submitters produce (config/sample.yaml): blanks and 「无」, numbers as text,
totals that do not add up, aliases and unknown 填报单位, offset tables, renamed sheets, legacy .xls,
file names that say nothing, late and missing returns, resubmissions. `manifest.json` records what
was planted where and what verdict each return should get, so tests can check the front door.

Same seed → same bytes: every random draw comes from `random.Random` seeded with strings, and
workbooks carry fixed timestamps derived from their received_at.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import math
import random
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipelines import config as configuration
from pipelines import periods
from pipelines.forms import get_form
from pipelines.forms.layout import layout
from pipelines.forms.workbook import FormPlan, plan_form, save_plans, sheet_name, write_form_xls
from pipelines.periods import Quarter
from pipelines.registry import Submitter, load_registry
from pipelines.rules.messages import severity

Num = int | float
Values = dict[tuple[str, str], Num]  # (row_key, column_id) → clean number, own rows only

DEFECT_KINDS = (
    "blank",
    "placeholder",
    "number_as_text",
    "full_width_digits",
    "sum_mismatch",
    "fixed_gt_found",
    "colours_over_base",
    "cumulative_decrease",
    "stock_swing",
)
FILE_KINDS = (
    "alias",
    "unknown_submitter",
    "offset_table",
    "extra_empty",
    "renamed_sheets",
    "split_files",
    "legacy_xls",
    "uninformative_name",
    "name_other_quarter",
    "several_forms_one_workbook",
)
HISTORY_KINDS = ("cumulative_decrease", "stock_swing")


# ---------------------------------------------------------------- manifest


@dataclass(slots=True)
class Defect:
    """One planted irregularity. form/row_key/column_id are None for file-level kinds."""

    kind: str
    form: str | None = None
    row_key: str | None = None
    column_id: str | None = None
    cell: str | None = None  # A1 on the form's sheet
    rule_expected: str | None = None  # the validator's rule id; None when nothing should fire
    history_only: bool = False  # detectable only against the submitter's previous quarter
    written: str | None = None  # what the cell holds, as text


@dataclass(slots=True)
class FileEntry:
    file: str  # relative to the sample root: 2025Q3/季报表_2025Q3_常泰街道.xlsx
    quarter: str
    submitter: str  # who really sent it (also for an unknown 填报单位)
    forms: list[str]
    sheets: dict[str, str]  # form → sheet name
    format: str
    received_at: str  # ISO datetime
    late: bool
    header_text: str  # 填报单位 as written
    defects: list[Defect] = field(default_factory=list)
    resubmission_of: str | None = None
    superseded_by: str | None = None
    expected_status: dict[str, str] = field(default_factory=dict)  # incl. history rules
    front_door_status: dict[str, str] = field(default_factory=dict)  # validate_paths alone


@dataclass(slots=True)
class Manifest:
    seed: int
    quarters: list[str]
    files: list[FileEntry]
    missing: list[dict[str, str]]  # {quarter, submitter}
    defect_kinds: list[str]
    root: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def by_file(self) -> dict[str, FileEntry]:
        return {f.file: f for f in self.files}

    @classmethod
    def load(cls, path: Path) -> Manifest:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        files = [
            FileEntry(**{**f, "defects": [Defect(**d) for d in f["defects"]]}) for f in raw["files"]
        ]
        return cls(**{**raw, "files": files})


# ---------------------------------------------------------------- configuration


def sample_config(overrides: dict | None = None) -> dict:
    """config/sample.yaml with `overrides` merged in (one level deep)."""
    cfg = copy.deepcopy(configuration.load("sample.yaml"))
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    return cfg


def _rng(*parts: object) -> random.Random:
    """An independent stream per purpose, so adding a submitter does not reshuffle the others."""
    return random.Random(":".join(str(p) for p in parts))


def _severity(rule: str) -> str:
    """A cross-cell rule's own severity, else the configured one of a cell, structure or
    history rule."""
    for r in configuration.load("rules.yaml")["rules"]:
        if r["id"] == rule:
            return r.get("severity", "error")
    return severity(rule)


# ---------------------------------------------------------------- simulation helpers


def _grow(rng: random.Random, prev: int, cap: float, lo: float = 0.04, hi: float = 0.18) -> int:
    """A count of units that never falls and approaches cap (never exceeds it)."""
    room = max(0, math.floor(cap) - prev)
    return prev + min(room, int(room * rng.uniform(lo, hi) + rng.random()))


def _split(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    """total split by weights into whole parts that add up exactly."""
    if total <= 0:
        return [0] * len(weights)
    jitter = [w * rng.uniform(0.7, 1.3) for w in weights]
    raw = [total * w / sum(jitter) for w in jitter]
    parts = [math.floor(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _add(parts: list[int], delta: list[int]) -> list[int]:
    return [a + b for a, b in zip(parts, delta, strict=True)]


def _timeline(quarters: list[Quarter]) -> list[Quarter]:
    """From the first quarter's campaign start to the last quarter, so cumulative columns of a
    sample that starts mid-year still count from their window's start."""
    q, out = Quarter(min(quarters).year, 1), []
    while q <= max(quarters):
        out.append(q)
        q = q.next()
    return out


def _restarts(prev: Quarter | None, q: Quarter) -> bool:
    """Whether the campaign window restarts at q (the long windows never do in a sample)."""
    return prev is None or not periods.same_window("campaign", prev, q)


# ---------------------------------------------------------------- 表一


_COVER1 = {  # column → (initial share of the base at the start, ceiling share)
    "mgmt_body": ((0.55, 0.8), 0.95),
    "resp_list": ((0.6, 0.85), 0.97),
    "safety_staff": ((0.3, 0.5), 0.7),
    "three_lists": ((0.5, 0.75), 0.92),
    "site_5s": ((0.35, 0.6), 0.85),
    "six_signs": ((0.4, 0.65), 0.88),
    "rescue_team": ((0.15, 0.3), 0.5),
}
_COLOURS = ("risk_red", "risk_orange", "risk_yellow", "risk_blue")
_COLOUR_W = [0.04, 0.11, 0.3, 0.55]
_STARS = ("star_5", "star_4", "star_3", "star_2", "star_1")
_STAR_W = [0.05, 0.15, 0.35, 0.3, 0.15]


def _floor1(st: dict) -> int:
    """The smallest base that keeps every enterprise count within it."""
    return max(
        max(st[c] for c in _COVER1),
        sum(st["colours"]),
        st["std_reviewed"] + st["std_self"],
        sum(st["stars"]),
    )


def _init1(rng: random.Random, base: int) -> dict:
    st: dict[str, Any] = {"base": base, "small": rng.uniform(0.68, 0.8)}
    st["medium"] = rng.uniform(0.12, 0.2)
    for col, ((lo, hi), _ceil) in _COVER1.items():
        st[col] = round(base * rng.uniform(lo, hi))
    st["colours"] = _split(rng, round(base * rng.uniform(0.5, 0.8)), _COLOUR_W)
    st["std_reviewed"] = round(base * rng.uniform(0.03, 0.1))
    st["std_self"] = round(base * rng.uniform(0.12, 0.3))
    st["stars"] = _split(rng, round(base * rng.uniform(0.1, 0.3)), _STAR_W)
    st["found"] = st["fixed"] = 0
    return st


def _drift(
    rng: random.Random, st: dict, floor: int, change: tuple[float, float], swing: bool
) -> int:
    """This quarter's base: a small drift, never below what it must hold; a re-count that jumps
    (a planted stock swing)."""
    st["base"] = max(floor, round(st["base"] * (1 + rng.uniform(*change))))
    if swing:
        st["base"] = round(st["base"] * rng.uniform(1.6, 1.9))
    return st["base"]


def _cover(rng: random.Random, st: dict, cover: dict, base: int, colours_ceiling: float) -> None:
    """Coverage counts and the four risk colours grow towards their ceilings' share of the base."""
    for col, (_init, ceil) in cover.items():
        st[col] = _grow(rng, st[col], ceil * base)
    assessed = _grow(rng, sum(st["colours"]), colours_ceiling * base)
    st["colours"] = _add(st["colours"], _split(rng, assessed - sum(st["colours"]), _COLOUR_W))


def _step1(rng: random.Random, st: dict, restart: bool, swing: bool) -> None:
    b = _drift(rng, st, _floor1(st), (-0.012, 0.025), swing)
    _cover(rng, st, _COVER1, b, 0.92)
    st["std_reviewed"] = _grow(rng, st["std_reviewed"], 0.22 * b, 0.02, 0.1)
    st["std_self"] = _grow(rng, st["std_self"], 0.5 * b)
    rated = _grow(rng, sum(st["stars"]), 0.6 * b)
    st["stars"] = _add(st["stars"], _split(rng, rated - sum(st["stars"]), _STAR_W))
    if restart:
        st["found"] = st["fixed"] = 0
    st["found"] += round(b * rng.uniform(0.3, 1.4))
    st["fixed"] = max(st["fixed"], math.floor(st["found"] * rng.uniform(0.82, 0.97)))


def _out1(st: dict) -> dict[str, Num]:
    b = st["base"]
    small, medium = round(b * st["small"]), round(b * st["medium"])
    out: dict[str, Num] = {
        "ent_small": small,
        "ent_medium": medium,
        "ent_large": b - small - medium,
        "ent_total": b,
        "hazards_found": st["found"],
        "hazards_fixed": st["fixed"],
        "std_reviewed": st["std_reviewed"],
        "std_self": st["std_self"],
        "std_total": st["std_reviewed"] + st["std_self"],
        "star_total": sum(st["stars"]),
    }
    out.update({c: st[c] for c in _COVER1})
    out.update(zip(_COLOURS, st["colours"], strict=True))
    out.update(zip(_STARS, st["stars"], strict=True))
    return out


# ---------------------------------------------------------------- 表三 / 表四 enforcement


_ENFORCE = (
    "inspected",
    "hazards_inspect_found",
    "hazards_urged_fixed",
    "penalty_units",
    "penalty_hazards",
    "penalty_hazards_fixed",
    "fine_units",
    "fine_cents",
    "suspended",
    "licence_revoked",
    "closed",
    "judicial",
    "exposed",
    "warned",
    "incentives",
    "constraints",
)


def _enforce(rng: random.Random, st: dict, size: int, restart: bool) -> None:
    """One quarter of inspections and penalties, cumulative since the campaign start."""
    if restart:
        st.update(dict.fromkeys(_ENFORCE, 0))
    visits = round(size * rng.uniform(0.15, 0.5))
    st["inspected"] += visits
    st["hazards_inspect_found"] += round(visits * rng.uniform(0.6, 2.0))
    share = rng.uniform(0.82, 0.97)
    st["hazards_urged_fixed"] = max(
        st["hazards_urged_fixed"], math.floor(st["hazards_inspect_found"] * share)
    )
    penalties = round(visits * rng.uniform(0.0, 0.05))
    st["penalty_units"] += penalties
    st["penalty_hazards"] += sum(rng.randint(1, 3) for _ in range(penalties))
    share = rng.uniform(0.8, 1.0)
    st["penalty_hazards_fixed"] = max(
        st["penalty_hazards_fixed"], math.floor(st["penalty_hazards"] * share)
    )
    fines = round(penalties * rng.uniform(0.4, 1.0))
    st["fine_units"] += fines
    st["fine_cents"] += sum(rng.randint(20, 300) for _ in range(fines))  # 0.20–3.00 万元 each
    st["suspended"] += int(penalties > 0 and rng.random() < 0.35)
    st["licence_revoked"] += int(penalties > 1 and rng.random() < 0.15)
    st["closed"] += int(penalties > 1 and rng.random() < 0.1)
    st["judicial"] += int(penalties > 2 and rng.random() < 0.08)
    st["exposed"] += int(rng.random() < 0.3) + int(penalties > 3)
    st["warned"] += round(visits * rng.uniform(0.0, 0.04))
    st["incentives"] += rng.randint(0, 2)
    st["constraints"] += penalties // 2 + int(rng.random() < 0.2)


def _out_enforce(st: dict) -> dict[str, Num]:
    out: dict[str, Num] = {k: st[k] for k in _ENFORCE if k != "fine_cents"}
    out["fine_amount"] = st["fine_cents"] / 100
    return out


# ---------------------------------------------------------------- 表二


_LEVELS = ("city", "district", "street")
_LEVEL_W = [0.15, 0.35, 0.5]
_SIZES = ("large", "medium", "small")
_SIZE_W = [0.35, 0.3, 0.35]
_POSTS = ("posts_party", "posts_worker", "posts_youth", "posts_women")
_POST_W = [0.3, 0.3, 0.2, 0.2]
_PUBLICITY = (
    "pub_letters",
    "pub_pledges",
    "training_sessions",
    "training_units",
    "training_people",
    "visit_sessions",
    "visit_units",
    "visit_people",
)


def _init2() -> dict:
    st: dict[str, Any] = {"top10": [0, 0, 0], "posts": [0, 0, 0, 0]}
    st["top100"] = [[0, 0, 0] for _ in _LEVELS]
    st["review"] = [[0, 0, 0] for _ in _LEVELS]
    st.update(dict.fromkeys(_PUBLICITY, 0))
    return st


def _cases(rng: random.Random, cells: list[list[int]], goal: int) -> None:
    """Raise level × size case counts to `goal` in total (never lowering any)."""
    delta = goal - sum(map(sum, cells))
    for li, n in enumerate(_split(rng, max(0, delta), _LEVEL_W)):
        cells[li] = _add(cells[li], _split(rng, n, _SIZE_W))


def _step2(rng: random.Random, st: dict, goals: dict[str, int], base: int) -> None:
    """Goals are cumulative totals for this quarter; publicity scales with the base."""
    st["top10"] = _add(
        st["top10"], _split(rng, goals["model_street"] - sum(st["top10"]), [0.4, 0.6, 0])
    )
    _cases(rng, st["top100"], goals["benchmark_enterprise"])
    _cases(rng, st["review"], goals["reviewed_enterprise"])
    st["posts"] = _add(
        st["posts"], _split(rng, max(0, goals["model_post"] - sum(st["posts"])), _POST_W)
    )
    st["pub_letters"] = _grow(rng, st["pub_letters"], 0.95 * base, 0.15, 0.45)
    st["pub_pledges"] = _grow(rng, st["pub_pledges"], 0.9 * st["pub_letters"], 0.2, 0.6)
    for kind, sessions, per_session in (("training", (1, 4), (4, 20)), ("visit", (0, 2), (3, 12))):
        new = rng.randint(*sessions)
        units = sum(rng.randint(*per_session) for _ in range(new))
        st[f"{kind}_sessions"] += new
        st[f"{kind}_units"] += units
        st[f"{kind}_people"] += round(units * rng.uniform(1.3, 2.8))


def _goals(
    rng: random.Random, targets: dict[str, int], pace: float, factor: float, st: dict
) -> dict:
    """Cumulative totals this quarter: target × pace × factor, never below what was reported."""
    done = {
        "model_street": sum(st["top10"]),
        "benchmark_enterprise": sum(map(sum, st["top100"])),
        "reviewed_enterprise": sum(map(sum, st["review"])),
        "model_post": sum(st["posts"]),
    }
    out = {}
    for measure, target in targets.items():
        goal = round(target * pace * factor + rng.uniform(-0.4, 0.4))
        if measure == "model_street":
            goal = min(goal, target)
        out[measure] = max(done[measure], goal)
    return out


def _dept_goals(rng: random.Random, st: dict, base: int) -> dict:
    """Departments have no 十百千万 targets; their cases grow slowly with the sector's size."""
    scale = max(1, base // 60)
    return {
        "model_street": 0,
        "benchmark_enterprise": sum(map(sum, st["top100"])) + rng.randint(0, scale),
        "reviewed_enterprise": sum(map(sum, st["review"])) + rng.randint(0, 2 * scale),
        "model_post": sum(st["posts"]) + rng.randint(0, 6 * scale),
    }


def _out2(st: dict, type_key: str) -> Values:
    out: Values = {}
    for li, level in enumerate(_LEVELS):
        row = f"{type_key}_{level}"
        out[row, "top10_count"] = st["top10"][li]
        for si, size in enumerate(_SIZES):
            out[row, f"top100_{size}"] = st["top100"][li][si]
            out[row, f"review_{size}"] = st["review"][li][si]
    for col, n in zip(_POSTS, st["posts"], strict=True):
        out[type_key, col] = n
    for col in _PUBLICITY:
        out[type_key, col] = st[col]
    return out


# ---------------------------------------------------------------- 表四


_COVER4 = {  # column → (initial share, ceiling share) of the category's 底数
    "three_lists": ((0.5, 0.8), 0.95),
    "site_5s": ((0.4, 0.7), 0.9),
    "six_signs": ((0.45, 0.7), 0.9),
    "std_reviewed": ((0.03, 0.08), 0.15),
}
_CAMPAIGN4 = ("std_self", "excellent_cases", "found", "fixed", "pub_letters", "pub_pledges")
_CAMPAIGN4 += ("training_units", "training_people", "visit_units", "visit_people")


def _init4(rng: random.Random, base: int) -> dict:
    st: dict[str, Any] = {"base": base}
    for col, ((lo, hi), _c) in _COVER4.items():
        st[col] = round(base * rng.uniform(lo, hi))
    st["colours"] = _split(rng, round(base * rng.uniform(0.5, 0.8)), _COLOUR_W)
    return st


def _floor4(st: dict) -> int:
    return max(max(st[c] for c in _COVER4), sum(st["colours"]), st.get("std_self", 0))


def _step4(rng: random.Random, st: dict, restart: bool, swing: bool) -> None:
    b = _drift(rng, st, _floor4(st), (-0.02, 0.03), swing)
    _cover(rng, st, _COVER4, b, 0.95)
    if restart:
        st.update(dict.fromkeys(_CAMPAIGN4, 0))
    st["std_self"] = _grow(rng, st["std_self"], 0.45 * b, 0.05, 0.2)
    st["excellent_cases"] += int(b >= 15 and rng.random() < 0.2)
    st["found"] += round(b * rng.uniform(0.2, 0.9))
    st["fixed"] = max(st["fixed"], math.floor(st["found"] * rng.uniform(0.85, 0.98)))
    _enforce(rng, st, b, restart)
    st["pub_letters"] = _grow(rng, st["pub_letters"], 0.95 * b, 0.2, 0.5)
    st["pub_pledges"] = _grow(rng, st["pub_pledges"], 0.9 * st["pub_letters"], 0.2, 0.6)
    for kind, share in (("training", (0.05, 0.25)), ("visit", (0.0, 0.1))):
        units = round(b * rng.uniform(*share))
        st[f"{kind}_units"] += units
        st[f"{kind}_people"] += round(units * rng.uniform(1.2, 2.5))


def _out4(st: dict) -> dict[str, Num]:
    out: dict[str, Num] = {"venues_base": st["base"], "hazards_found": st["found"]}
    out["hazards_fixed"] = st["fixed"]
    out.update({c: st[c] for c in _COVER4})
    out.update(zip(_COLOURS, st["colours"], strict=True))
    for col in ("std_self", "excellent_cases", "pub_letters", "pub_pledges"):
        out[col] = st[col]
    for col in ("training_units", "training_people", "visit_units", "visit_people"):
        out[col] = st[col]
    out.update(_out_enforce(st))
    return out


def total_row(values: Values) -> Values:
    """表四's 总数 row = Σ the nine category rows (万元 summed in hundredths, so it is exact)."""
    form = get_form("form4")
    cats = [r.key for r in form.rows if not r.is_total]
    out = dict(values)
    for col in form.value_columns:
        parts = [values[(k, col.id)] for k in cats]
        out["total", col.id] = round(sum(parts), 2) if col.is_amount else sum(parts)
    return out


# ---------------------------------------------------------------- one submitter's series


@dataclass(frozen=True)
class Swing:
    submitter: str
    quarter: Quarter
    form: str
    row_key: str  # own row (表一) or the 九小场所 category (表四)


def _venue_bases(rng: random.Random, sub: Submitter, cfg: dict) -> dict[str, int]:
    venues = cfg["venues"]
    fixed = venues["fixed_old_city"] if sub.old_city else venues["fixed_other"]
    total = (sub.enterprise_base or 50) * rng.uniform(*venues["per_enterprise"])
    total += rng.uniform(*fixed)
    return {
        k: max(1, round(total * w * rng.uniform(0.8, 1.2))) for k, w in venues["weights"].items()
    }


def _base_of(sub: Submitter, cfg: dict) -> int:
    if sub.enterprise_base:
        return int(sub.enterprise_base)
    return int(cfg["department_base"].get(sub.name, 60))


def simulate(
    sub: Submitter, quarters: list[Quarter], cfg: dict, seed: int, swings: Iterable[Swing] = ()
) -> dict[tuple[Quarter, str], Values]:
    """Clean values of every form the submitter owes, per quarter (own rows only)."""
    rng = _rng(seed, "series", sub.code)
    swing_at = {(s.quarter, s.form, s.row_key) for s in swings if s.submitter == sub.name}
    own = sub.row_key
    base = _base_of(sub, cfg)
    st1, st3, st2 = _init1(rng, base), {}, _init2()
    st4 = (
        {k: _init4(rng, b) for k, b in _venue_bases(rng, sub, cfg).items()} if sub.is_street else {}
    )
    factor = {}
    out: dict[tuple[Quarter, str], Values] = {}
    prev: Quarter | None = None
    for q in _timeline(quarters):
        restart = _restarts(prev, q)
        if restart:
            st2 = _init2()
            factor[q.campaign] = rng.uniform(*cfg["pace_factor"])
        _step1(rng, st1, restart, (q, "form1", own) in swing_at)
        _enforce(rng, st3, st1["base"], restart)
        if sub.is_street:
            targets = configuration.load("targets.yaml")["campaigns"][q.campaign][sub.name]
            pace = configuration.load("targets.yaml")["pace"][f"Q{q.q}"]
            goals = _goals(rng, targets, pace, factor[q.campaign], st2)
        else:
            goals = _dept_goals(rng, st2, st1["base"])
        _step2(rng, st2, goals, st1["base"])
        for key, st in st4.items():
            _step4(rng, st, restart, (q, "form4", key) in swing_at)
        if q in quarters:
            forms = {
                "form1": {(own, c): v for c, v in _out1(st1).items()},
                "form2": _out2(st2, own),
                "form3": {(own, c): v for c, v in _out_enforce(st3).items()},
            }
            if st4:
                cats = {(k, c): v for k, st in st4.items() for c, v in _out4(st).items()}
                forms["form4"] = total_row(cats)
            for form_id in sub.forms:
                out[q, form_id] = forms[form_id]
        prev = q
    return out


# ---------------------------------------------------------------- rules (for planting defects)


def rule_breaches(form_id: str, values: Values) -> set[str]:
    """Ids of the cross-cell rules (rules.yaml) that the numbers break, checked by the validator's
    own rules (pipelines.rules.cross). Used to know which rule a planted defect trips and that
    clean returns trip none."""
    from pipelines.rules import cross, schema  # polars: only when planting

    rows: dict[str, dict[str, Num]] = {}
    for (row, col), v in values.items():
        rows.setdefault(row, {})[col] = v
    frame = schema.batch_frame(form_id, ((0, row, vals) for row, vals in rows.items()))
    return {b.rule_id for b in cross.check(form_id, frame)}


# ---------------------------------------------------------------- submissions


@dataclass
class _Return:
    form_id: str
    values: Values  # numbers, with numeric defects applied
    raw: dict[tuple[str, str], object] = field(default_factory=dict)  # text / blank overrides
    defects: list[Defect] = field(default_factory=list)


@dataclass
class _Submission:
    submitter: Submitter
    quarter: Quarter
    returns: dict[str, _Return]
    received_at: dt.datetime = dt.datetime(2000, 1, 1)
    kinds: set[str] = field(default_factory=set)  # file-level kinds (FILE_KINDS)
    other_rows: str = "blank"  # blank | zero | mixed: the other type's rows
    resubmission_of: _Submission | None = None
    superseded_by: _Submission | None = None
    label: str = ""  # 「（修改）」 for a corrected resubmission
    files: list[FileEntry] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.submitter.name, str(self.quarter))


def _front_door(ret: _Return, kinds: set[str]) -> str:
    if "unknown_submitter" in kinds:
        return "rejected"
    bad = [d for d in ret.defects if not d.history_only and d.rule_expected]
    return "rejected" if any(_severity(d.rule_expected) == "error" for d in bad) else "accepted"


def _final(ret: _Return, kinds: set[str]) -> str:
    if _front_door(ret, kinds) == "rejected":
        return "rejected"
    hist = [d for d in ret.defects if d.history_only and d.rule_expected]
    return "rejected" if any(_severity(d.rule_expected) == "error" for d in hist) else "accepted"


# ---------------------------------------------------------------- planting content defects

_FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def _text_of(value: Num) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _plant_cells(rng: random.Random, ret: _Return, kind: str, own: list) -> list[Defect]:
    """Cell-level defects: blank, placeholder, number_as_text, full_width_digits."""
    if kind in ("blank", "placeholder"):
        zeros = [k for k in own if ret.values.get(k) == 0]
        key = rng.choice(zeros if kind == "placeholder" and zeros else own)
        token = None if kind == "blank" else rng.choice(["无", "-", "/", " ", "无", "-"])
        ret.raw[key] = token
        rule = "blank" if token is None or not token.strip() else "blank_token"
        return [Defect(kind, ret.form_id, *key, rule_expected=rule, written=token)]
    nonzero = [k for k in own if ret.values.get(k)] or own
    keys = rng.sample(nonzero, min(len(nonzero), rng.randint(1, 3)))
    out = []
    for key in keys:
        text = _text_of(ret.values[key])
        if kind == "full_width_digits":
            text = text.translate(_FULL_WIDTH)
        ret.raw[key] = text
        out.append(Defect(kind, ret.form_id, *key, rule_expected=kind, written=text))
    return out


_SUM_TARGETS = {"form1": [("ent_total", 1), ("star_total", -1), ("std_total", 1)]}
_FREE4 = ("venues_base", "hazards_found", "hazards_inspect_found", "inspected", "warned", "exposed")


def _plant_numbers(rng: random.Random, ret: _Return, kind: str, row: str) -> list[Defect] | None:
    """Rule defects on the numbers; None when this return cannot carry the kind."""
    v, f = ret.values, ret.form_id
    if kind == "sum_mismatch":
        if f == "form1":
            col, sign = rng.choice(_SUM_TARGETS[f])
            if sign < 0 and v[row, col] < 3:
                col, sign = "ent_total", 1
            key = (row, col)
        elif f == "form4":
            key, sign = ("total", rng.choice(_FREE4)), 1
        else:
            return None
        v[key] += sign * rng.randint(1, 3)
        rule = f"{f}.{'total_row_sum' if f == 'form4' else key[1].replace('total', 'total_sum')}"
        return [Defect(kind, f, *key, rule_expected=rule, written=_text_of(v[key]))]
    if kind == "fixed_gt_found":
        pairs = {
            "form1": [("hazards_fixed", "hazards_found", "form1.fixed_le_found")],
            "form3": [
                ("hazards_urged_fixed", "hazards_inspect_found", "form3.urged_le_found"),
                ("penalty_hazards_fixed", "penalty_hazards", "form3.penalty_fixed_le_found"),
            ],
            "form4": [("hazards_fixed", "hazards_found", "form4.fixed_le_found")],
        }.get(f)
        if not pairs:
            return None
        left, right, rule = rng.choice(pairs)
        v[row, left] = v[row, right] + rng.randint(1, 6)
        return [Defect(kind, f, row, left, rule_expected=rule, written=_text_of(v[row, left]))]
    if kind == "colours_over_base":
        if f not in ("form1", "form4"):
            return None
        base = "ent_total" if f == "form1" else "venues_base"
        over = v[row, base] - sum(v[row, c] for c in _COLOURS) + rng.randint(1, 4)
        v[row, "risk_blue"] += over
        rule = f"{f}.colours_within_base"
        return [
            Defect(
                kind, f, row, "risk_blue", rule_expected=rule, written=_text_of(v[row, "risk_blue"])
            )
        ]
    raise ValueError(kind)


# Cumulative columns a decrease can hit without tripping a same-row rule (left sides, free ones).
_DECREASABLE = {
    "form1": (
        "mgmt_body",
        "resp_list",
        "safety_staff",
        "three_lists",
        "site_5s",
        "six_signs",
        "rescue_team",
        "hazards_fixed",
    ),
    "form2": (
        "top100_small",
        "review_medium",
        "posts_party",
        "pub_letters",
        "training_people",
        "visit_units",
    ),
    "form3": (
        "inspected",
        "hazards_urged_fixed",
        "warned",
        "exposed",
        "incentives",
        "penalty_hazards_fixed",
    ),
    "form4": ("three_lists", "site_5s", "six_signs", "hazards_fixed", "inspected", "pub_pledges"),
}


def _plant_decrease(
    rng: random.Random, ret: _Return, prev: Values, q: Quarter, pq: Quarter
) -> list[Defect] | None:
    """A cumulative below last quarter's value, in the same window."""
    form = get_form(ret.form_id)
    keys = [
        k
        for k in ret.values
        if k[1] in _DECREASABLE[ret.form_id]
        and k[0] != "total"
        and periods.same_window(form.column(k[1]).window, pq, q)
        and prev.get(k, 0) >= 2
    ]
    if not keys:
        return None
    key = rng.choice(sorted(keys))
    ret.values[key] = prev[key] - rng.randint(1, max(1, prev[key] // 4))
    if ret.form_id == "form4":
        ret.values.update(total_row({k: x for k, x in ret.values.items() if k[0] != "total"}))
    return [
        Defect(
            "cumulative_decrease",
            ret.form_id,
            *key,
            rule_expected="cumulative_decrease",
            history_only=True,
            written=_text_of(ret.values[key]),
        )
    ]


def _pick(rng: random.Random, items: list, share: float, minimum: int) -> list:
    """share of items (at least `minimum` when there are any), in a seeded order."""
    if share <= 0 or not items:
        return []
    n = min(len(items), max(minimum, round(share * len(items))))
    return rng.sample(items, n)


# ---------------------------------------------------------------- who sends what, when


_PEOPLE = [
    "陈志强",
    "林晓燕",
    "黄建明",
    "吴丽萍",
    "王俊杰",
    "蔡雅琴",
    "李明辉",
    "郑淑芬",
    "许文彬",
    "张婷婷",
    "洪伟东",
    "苏颖",
    "庄国华",
    "杨帆",
    "施美玲",
    "曾少华",
    "刘海燕",
    "谢振宇",
    "颜丽华",
    "傅建国",
    "柯宇航",
    "戴雪梅",
]
_UNKNOWN_UNITS = ("城区安全生产综合办", "第三网格工作站", "综合执法中队", "安全生产专项整治工作组")
_ODD_NAMES = (
    "新建 Microsoft Excel 工作表",
    "新建 Microsoft Excel 工作表(3)",
    "季报",
    "附件4-7 (2)",
    "工作簿1",
    "季报表",
    "副本 季报表",
    "报表",
)
_RENAMED = (
    ("Sheet1", "Sheet2", "Sheet3", "Sheet4"),
    ("附件4", "附件5", "附件6", "附件7"),
    ("季报表（一）", "季报表（二）", "季报表（三）", "季报表（四）"),
    ("一", "二", "三", "四"),
)
_CN_Q = "一二三四"


def _person(sub: Submitter, q: Quarter, seed: int) -> tuple[str, str]:
    """填表人 and 联系电话: one person per submitter, a new one for some from the 2026 campaign."""
    rng = _rng(
        seed,
        "person",
        sub.code,
        q.campaign if _rng(seed, "turnover", sub.code).random() < 0.3 else 0,
    )
    name = rng.choice(_PEOPLE)
    phone = (
        f"0595-22{rng.randint(100000, 999999)}"
        if rng.random() < 0.6
        else f"13{rng.randint(100000000, 999999999)}"
    )
    return name, phone


def _received(rng: random.Random, q: Quarter, late: bool) -> dt.datetime:
    due = periods.last_on_time_day(q)  # the last day that counts as on time
    day = (
        due + dt.timedelta(days=rng.randint(2, 25))
        if late
        else due - dt.timedelta(days=rng.randint(0, 7))
    )
    return dt.datetime.combine(
        day, dt.time(rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59))
    )


def _header_date(rng: random.Random, received: dt.datetime) -> dt.date:
    """The date written on the form: the day it was sent, or a day or two before."""
    return received.date() - dt.timedelta(days=rng.choice((0, 0, 0, 1, 2)))


def _pairs(subs: list[Submitter], quarters: list[Quarter]) -> list[tuple[Submitter, Quarter]]:
    return [(s, q) for q in quarters for s in subs]


def _pick_missing(rng: random.Random, subs, quarters, count: int) -> set[tuple[str, Quarter]]:
    pairs = [(s.name, q) for s, q in _pairs(subs, quarters) if q != quarters[0]]
    return set(rng.sample(pairs, min(count, len(pairs))))


def _pick_swings(rng, subs, quarters, missing, cfg, seed) -> list[Swing]:
    """Stock swings: a base that jumps and stays (a re-count), where last quarter was sent."""
    cands = []
    for s, q in _pairs(subs, quarters[1:]):
        prev = quarters[quarters.index(q) - 1]
        if (s.name, q) in missing or (s.name, prev) in missing:
            continue
        if _base_of(s, cfg) >= 40:
            cands.append(Swing(s.name, q, "form1", s.row_key))
        if s.is_street:
            bases = _venue_bases(_rng(seed, "series", s.code), s, cfg)  # rough sizes suffice
            cands += [Swing(s.name, q, "form4", k) for k, b in bases.items() if b >= 40]
    chosen: list[Swing] = []
    for sw in _pick(rng, cands, cfg["defects"]["stock_swing"] / 2, cfg["min_each"]):
        if not any(c.submitter == sw.submitter for c in chosen):
            chosen.append(sw)
    return chosen


def _build(subs, quarters, series: dict, missing, swings) -> list[_Submission]:
    out = []
    for s, q in _pairs(subs, quarters):
        if (s.name, q) in missing:
            continue
        returns = {f: _Return(f, dict(series[s.name][q, f])) for f in s.forms}
        out.append(_Submission(s, q, returns))
    for sw in swings:
        sub = next(x for x in out if x.submitter.name == sw.submitter and x.quarter == sw.quarter)
        col = "ent_total" if sw.form == "form1" else "venues_base"
        sub.returns[sw.form].defects.append(
            Defect(
                "stock_swing",
                sw.form,
                sw.row_key,
                col,
                rule_expected="stock_swing",
                history_only=True,
            )
        )
    return out


def _plant_content(rng: random.Random, subs: list[_Submission], cfg: dict) -> None:
    """Content defects, at most one kind per return, each on its share of eligible returns."""
    used: set[tuple[int, str]] = set()
    for kind in DEFECT_KINDS:
        if kind in HISTORY_KINDS:
            continue
        cands = [(i, f) for i, s in enumerate(subs) for f in s.returns if (i, f) not in used]
        if kind in ("sum_mismatch", "colours_over_base"):
            cands = [c for c in cands if c[1] in ("form1", "form4")]
        if kind == "fixed_gt_found":
            cands = [c for c in cands if c[1] in ("form1", "form3", "form4")]
        for i, f in _pick(rng, cands, cfg["defects"][kind], cfg["min_each"]):
            sub, ret = subs[i], subs[i].returns[f]
            if kind in ("blank", "placeholder", "number_as_text", "full_width_digits"):
                ret.defects += _plant_cells(rng, ret, kind, layout(f).own_cells(sub.submitter.type))
            else:
                _plant_rule(rng, ret, kind, sub.submitter)
            used.add((i, f))
    _plant_decreases(rng, subs, cfg, used)


def _plant_rule(rng: random.Random, ret: _Return, kind: str, sub: Submitter) -> None:
    rows = [r.key for r in get_form(ret.form_id).rows_of_type(sub.type) if not r.is_total]
    planted = _plant_numbers(rng, ret, kind, rng.choice(rows))
    if planted is None:
        raise ValueError(f"{kind} cannot be planted on {ret.form_id}")
    if ret.form_id == "form4" and kind != "sum_mismatch":
        ret.values.update(total_row({k: x for k, x in ret.values.items() if k[0] != "total"}))
    broken = rule_breaches(ret.form_id, ret.values)
    if planted[0].rule_expected not in broken:
        raise AssertionError(f"{kind} on {ret.form_id} did not break {planted[0].rule_expected}")
    ret.defects += planted


def _plant_decreases(rng: random.Random, subs: list[_Submission], cfg: dict, used: set) -> None:
    """Cumulative decreases, where last quarter's return of the same form was clean."""
    index = {(s.submitter.name, s.quarter): s for s in subs}
    cands = []
    for i, s in enumerate(subs):
        prev = index.get((s.submitter.name, s.quarter.prev()))
        for f, ret in s.returns.items():
            if (i, f) in used or ret.defects or prev is None or prev.returns[f].defects:
                continue
            cands.append((i, f))
    for i, f in _pick(rng, cands, cfg["defects"]["cumulative_decrease"], cfg["min_each"]):
        s = subs[i]
        prev = index[(s.submitter.name, s.quarter.prev())]
        planted = _plant_decrease(
            rng, s.returns[f], prev.returns[f].values, s.quarter, prev.quarter
        )
        if planted:
            s.returns[f].defects += planted
            used.add((i, f))


def _plant_files(rng: random.Random, subs: list[_Submission], cfg: dict, seed: int) -> None:
    """File-level kinds and reporting behaviour (late, which rows the other type gets)."""
    shares = cfg["files"]
    for kind in FILE_KINDS:
        if kind == "several_forms_one_workbook":
            continue
        cands = [s for s in subs if not (kind == "alias" and "unknown_submitter" in s.kinds)]
        if kind == "unknown_submitter":
            cands = [s for s in cands if "alias" not in s.kinds]
        for s in _pick(rng, cands, shares[kind], cfg["min_each"]):
            s.kinds.add(kind)
    late = set(map(id, _pick(rng, subs, cfg["schedule"]["late"], cfg["min_each"])))
    for s in subs:
        s.received_at = _received(rng, s.quarter, id(s) in late)
        s.other_rows = rng.choice(("blank", "zero", "mixed"))


def _copy_for_resubmission(orig: _Submission, when: dt.datetime, label: str) -> _Submission:
    returns = {f: _Return(f, dict(r.values)) for f, r in orig.returns.items()}
    kinds = orig.kinds - {"unknown_submitter", "name_other_quarter", "uninformative_name"}
    new = _Submission(orig.submitter, orig.quarter, returns, when, kinds, orig.other_rows)
    new.resubmission_of, new.label, orig.superseded_by = orig, label, new
    return new


def _plan_resubmissions(
    rng: random.Random, subs: list[_Submission], series: dict, cfg: dict
) -> list[_Submission]:
    """Corrected files: some rejected submissions, and one accepted one replaced by a fix."""
    sched = cfg["schedule"]
    rejected = [
        s for s in subs if any(_front_door(r, s.kinds) == "rejected" for r in s.returns.values())
    ]
    out = []
    for orig in _pick(rng, rejected, sched["resubmit_rejected"], cfg["min_each"]):
        when = orig.received_at + dt.timedelta(days=rng.randint(1, 8), hours=rng.randint(0, 5))
        new = _copy_for_resubmission(
            orig, when, rng.choice(("（修改）", "（更正）", "_修改版", "(2)"))
        )
        for f, ret in new.returns.items():
            ret.values = dict(series[orig.submitter.name][orig.quarter, f])
        out.append(new)
    clean = [
        s
        for s in subs
        if not s.kinds & {"unknown_submitter"}
        and all(not r.defects for r in s.returns.values())
        and s.superseded_by is None
    ]
    for orig in _pick(rng, clean, 1.0 if sched["resubmit_accepted"] else 0, 0)[
        : sched["resubmit_accepted"]
    ]:
        when = orig.received_at + dt.timedelta(days=rng.randint(1, 5), hours=rng.randint(1, 6))
        new = _copy_for_resubmission(orig, when, "（更正）")
        _correct(rng, new, subs)
        out.append(new)
    return out


def _correct(rng: random.Random, new: _Submission, subs: list[_Submission]) -> None:
    """An accepted return corrected upward where the next quarter leaves room (hazards found)."""
    nxt = next(
        (
            s
            for s in subs
            if s.submitter.name == new.submitter.name and s.quarter == new.quarter.next()
        ),
        None,
    )
    own = new.submitter.row_key
    key = (own, "hazards_found")
    room = 5
    if nxt is not None and periods.same_window("campaign", new.quarter, nxt.quarter):
        room = int(nxt.returns["form1"].values[key] - new.returns["form1"].values[key])
    new.returns["form1"].values[key] += max(0, min(room, rng.randint(1, 5)))


# ---------------------------------------------------------------- writing files


def _header_text(rng: random.Random, s: _Submission) -> str:
    if "unknown_submitter" in s.kinds:
        reg = load_registry()
        units = [u for u in _UNKNOWN_UNITS if reg.resolve(u) is None]
        return rng.choice(units)
    if "alias" in s.kinds and s.submitter.aliases:
        alias = rng.choice(s.submitter.aliases)
        return alias + ("（盖章）" if rng.random() < 0.4 else "")
    return s.submitter.name


def _name_habit(sub: Submitter, seed: int) -> int:
    return _rng(seed, "naming", sub.code).randrange(4)


def _base_name(s: _Submission, q: Quarter, seed: int, forms: list[str]) -> str:
    """How this submitter names its file (each has a habit), for the forms it holds."""
    name, y, cq = s.submitter.name, q.year, _CN_Q[q.q - 1]
    part = ""
    if len(forms) < len(s.returns):
        part = "_" + "".join(get_form(f).name for f in forms)
    habit = _name_habit(s.submitter, seed)
    if habit == 0:
        return f"季报表_{q}_{name}{part}"
    if habit == 1:
        return f"{name}{y}年第{cq}季度季报表{part}"
    if habit == 2:
        return f"{name}_{y}年{cq}季度安全生产标准化提升专项行动进展情况季报表{part}"
    return f"附件4-7 {name}季报表（{y}年第{cq}季度）{part}"


def _file_groups(s: _Submission) -> list[list[str]]:
    forms = list(s.returns)
    return [[f] for f in forms] if "split_files" in s.kinds else [forms]


def _file_name(
    rng: random.Random, s: _Submission, forms: list[str], seed: int, taken: set[str]
) -> str:
    ext = "xls" if "legacy_xls" in s.kinds else "xlsx"
    if "uninformative_name" in s.kinds or "unknown_submitter" in s.kinds:
        stem = rng.choice(_ODD_NAMES)
    else:
        q = s.quarter
        if "name_other_quarter" in s.kinds:  # copied last quarter's file, or mistyped
            q = q.prev() if _rng(seed, "other-q", s.key).random() < 0.7 else q.next()
        stem = _base_name(s, q, seed, forms) + s.label
    name, n = f"{stem}.{ext}", 1
    while name in taken:
        name, n = f"{stem}({n}).{ext}", n + 1
    taken.add(name)
    return name


def _sheet_names(rng: random.Random, s: _Submission, forms: list[str]) -> list[str]:
    if "renamed_sheets" not in s.kinds:
        return [sheet_name(f) for f in forms]
    scheme = rng.choice(_RENAMED)
    return [scheme[int(f[-1]) - 1] for f in forms]


def _cells(s: _Submission, ret: _Return, rng: random.Random) -> dict[tuple[str, str], object]:
    """Every input cell as written: own rows (numbers, or the planted text), the other type's
    rows blank or 0."""
    own = set(layout(ret.form_id).own_cells(s.submitter.type))
    out: dict[tuple[str, str], object] = {}
    blank_rows: dict[str, bool] = {}
    for r, c, _, _ in layout(ret.form_id).value_cells():
        if (r, c) in own:
            out[r, c] = ret.raw[r, c] if (r, c) in ret.raw else ret.values[r, c]
            continue
        if s.other_rows == "mixed":
            blank = blank_rows.setdefault(r, rng.random() < 0.5)
        else:
            blank = s.other_rows == "blank"
        out[r, c] = None if blank else 0
    return out


def _write_submission(
    rng: random.Random, s: _Submission, root: Path, seed: int, taken: set[str]
) -> None:
    header = {
        "submitter_text": _header_text(rng, s),
        "date": _header_date(rng, s.received_at),
    }
    header["filled_by"], header["phone"] = _person(s.submitter, s.quarter, seed)
    origin = rng.choice(((3, 2), (1, 1), (2, 0))) if "offset_table" in s.kinds else (0, 0)
    pad = (rng.randint(1, 3), rng.randint(1, 3)) if "extra_empty" in s.kinds else (0, 0)
    for forms in _file_groups(s):
        name = _file_name(rng, s, forms, seed, taken)
        sheets = _sheet_names(rng, s, forms)
        plans = []
        for f in forms:
            values = _cells(s, s.returns[f], rng)
            plans.append(
                plan_form(
                    f,
                    s.quarter.campaign,
                    submitter=s.submitter,
                    values=values,
                    header=header,
                    origin=origin,
                    pad=pad,
                )
            )
        path = root / str(s.quarter) / name
        if "legacy_xls" in s.kinds:
            _save_xls(path, sheets, forms, s, header, origin, pad, rng)
        else:
            protect = origin == (0, 0) and pad == (0, 0) and "renamed_sheets" not in s.kinds
            save_plans(
                path,
                list(zip(sheets, plans, strict=True)),
                protect=protect,
                when=s.received_at,
                creator=header["filled_by"],
            )
        s.files.append(_entry(s, forms, sheets, plans, name, header["submitter_text"]))


def _save_xls(path: Path, sheets, forms, s: _Submission, header, origin, pad, rng) -> None:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    for name, f in zip(sheets, forms, strict=True):
        sheet = book.add_sheet(name, cell_overwrite_ok=True)
        values = _cells(s, s.returns[f], _rng(rng.random()))
        write_form_xls(
            sheet,
            f,
            s.quarter.campaign,
            submitter=s.submitter,
            values=values,
            header=header,
            origin=origin,
            pad=pad,
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(path))


def _entry(
    s: _Submission, forms, sheets, plans: list[FormPlan], name: str, header_text: str
) -> FileEntry:
    defects: list[Defect] = []
    for f, plan in zip(forms, plans, strict=True):
        refs = {(c.row_key, c.column.id): c.ref.split(":")[0] for c in plan.inputs}
        for d in s.returns[f].defects:
            defects.append(Defect(**{**asdict(d), "cell": refs.get((d.row_key, d.column_id))}))
    kinds = sorted(k for k in s.kinds if k not in ("split_files",) or len(forms) == 1)
    if len(forms) > 1:
        kinds.append("several_forms_one_workbook")
    for kind in kinds:
        rule = "submitter_unknown" if kind == "unknown_submitter" else None
        defects.append(Defect(kind, rule_expected=rule))
    return FileEntry(
        file=f"{s.quarter}/{name}",
        quarter=str(s.quarter),
        submitter=s.submitter.name,
        forms=list(forms),
        sheets=dict(zip(forms, sheets, strict=True)),
        format="xls" if name.endswith(".xls") else "xlsx",
        received_at=s.received_at.isoformat(timespec="seconds"),
        late=not periods.is_on_time(s.quarter, s.received_at.date()),
        header_text=header_text,
        defects=defects,
        expected_status={f: _final(s.returns[f], s.kinds) for f in forms},
        front_door_status={f: _front_door(s.returns[f], s.kinds) for f in forms},
    )


def _link(subs: list[_Submission]) -> None:
    """resubmission_of / superseded_by between file entries (the first file of each)."""
    for s in subs:
        if s.resubmission_of is not None:
            for new, old in zip(s.files, s.resubmission_of.files, strict=False):
                new.resubmission_of = old.file
                old.superseded_by = new.file


def _write_received(root: Path, files: list[FileEntry]) -> None:
    by_q: dict[str, list[FileEntry]] = {}
    for f in files:
        by_q.setdefault(f.quarter, []).append(f)
    for q, entries in by_q.items():
        with open(root / q / "received.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["file", "received_at"])
            for e in sorted(entries, key=lambda e: (e.received_at, e.file)):
                w.writerow([e.file.split("/", 1)[1], e.received_at])


# ---------------------------------------------------------------- entry point


def write_sample(
    out_dir: Path,
    *,
    seed: int | None = None,
    quarters: list[str] | None = None,
    config: dict | None = None,
) -> Manifest:
    """Write the sample into out_dir/<YYYYQn>/ with received.csv per quarter and manifest.json.

    seed and quarters default to config/sample.yaml's; config: overrides of that file
    (e.g. {"defects": {"blank": 0.1}}).
    """
    cfg = sample_config(config)
    seed = int(cfg["seed"]) if seed is None else seed
    qs = [Quarter.parse(q) for q in (quarters or cfg["quarters"])]
    root = Path(out_dir)
    rng = _rng(seed, "plan")
    subs = [s for s in load_registry().submitters if s.forms]
    missing = _pick_missing(rng, subs, qs, int(cfg["schedule"]["missing"]))
    swings = _pick_swings(rng, subs, qs, missing, cfg, seed)
    series = {s.name: simulate(s, qs, cfg, seed, swings) for s in subs}
    submissions = _build(subs, qs, series, missing, swings)
    _plant_content(rng, submissions, cfg)
    _plant_files(rng, submissions, cfg, seed)
    submissions += _plan_resubmissions(rng, submissions, series, cfg)
    submissions.sort(key=lambda s: (s.quarter, s.received_at, s.submitter.name))
    taken: dict[Quarter, set[str]] = {}
    for s in submissions:
        _write_submission(
            _rng(seed, "write", s.submitter.code, s.quarter, s.label),
            s,
            root,
            seed,
            taken.setdefault(s.quarter, set()),
        )
    _link(submissions)
    files = [f for s in submissions for f in s.files]
    _write_received(root, files)
    manifest = Manifest(
        seed=seed,
        quarters=[str(q) for q in qs],
        files=files,
        missing=[
            {"quarter": str(q), "submitter": n}
            for n, q in sorted(missing, key=lambda x: (x[1], x[0]))
        ],
        defect_kinds=[*DEFECT_KINDS, *FILE_KINDS],
        root=str(root),
    )
    (root / "manifest.json").write_text(
        json.dumps(manifest.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return manifest
