"""great-tables tables of the progress report, rendered to HTML fragments.

Each builder takes a tidy polars frame prepared by `report.py` and returns HTML. great-tables
escapes cell text, labels and notes, so submitter-supplied names cannot inject markup. Ids are
fixed so that the report is reproducible byte for byte.

Two marks, each with one meaning, in every table: 「—」 (NA) where there is nothing to show (no
task, no hazard found, a form not owed, a rate with nothing to divide by) and 「未报」 (NO_RETURN)
where a unit owes the figure and no return of it has been accepted. Cells that need either are
formatted here (`count`, `percent`) before the frame reaches great-tables, so a missing value is
never left for great-tables to guess at.
"""

from __future__ import annotations

import polars as pl
from great_tables import GT, loc, style

from pipelines import config
from pipelines.outputs.charts import FONT

NA = "—"
NO_RETURN = "未报"
STATUS_FILL = {"done": "#c4ecc4", "ahead": "#d9f2d9", "on_track": "#fff1c2", "behind": "#f9d0cc"}
# The words target_progress.status carries (target_status_bands), by targets.yaml › status key.
STATUS_LABEL: dict[str, str] = dict(config.load("targets.yaml")["status_labels"])
ALERT_FILL = "#f9d0cc"
WARN_FILL = "#fff1c2"


def count(value: float | None, missing: str = NA) -> str:
    """A count as the page shows it: whole, with thousands separators; `missing` when None."""
    return missing if value is None else f"{round(value):,}"


def amount(value: float | None, missing: str = NA) -> str:
    """A figure that may be a decimal (万元): at most two decimals."""
    if value is None:
        return missing
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def percent(value: float | None, digits: int = 0, missing: str = NA) -> str:
    return missing if value is None else f"{value:.{digits}%}"


def _finish(gt: GT, note: str | None = None, *, numbers: list[str] | None = None) -> str:
    if note:
        gt = gt.tab_source_note(note)
    if numbers:
        gt = gt.cols_align("right", columns=numbers)
    gt = gt.opt_table_font(font=[part.strip(' "') for part in FONT.split(",")]).tab_options(
        table_width="100%",
        table_font_size="14px",
        column_labels_font_weight="bold",
        row_group_font_weight="bold",
        data_row_padding="4px",
        container_overflow_x="auto",
    )
    return gt.as_raw_html()


def _rows(frame: pl.DataFrame, mask: pl.Expr) -> list[int]:
    return frame.with_row_index("_i").filter(mask)["_i"].to_list()


def _fill(gt: GT, frame: pl.DataFrame, column: str, mask: pl.Expr, colour: str) -> GT:
    rows = _rows(frame, mask)
    if not rows:
        return gt
    return gt.tab_style(style.fill(color=colour), loc.body(columns=column, rows=rows))


def _bold_rows(gt: GT, frame: pl.DataFrame, mask: pl.Expr) -> GT:
    rows = _rows(frame, mask)
    return gt.tab_style(style.text(weight="bold"), loc.body(rows=rows)) if rows else gt


def target_progress(wide: pl.DataFrame, measures: list[tuple[str, str]], pace: float) -> str:
    """十百千万 per 街道, then the district against 附件1's sums and against the notice's goals.
    `wide` has unit, kind (street / district / goal) and, per measure key m, the display texts
    m_actual, m_target, m_share and the status key m_status; `measures` lists (key, label)."""
    cols = ["unit"] + [f"{m}_{part}" for m, _ in measures for part in ("actual", "target", "share")]
    gt = GT(wide.select(cols), rowname_col="unit", id="tbl-targets")
    for m, label in measures:
        gt = gt.tab_spanner(label, columns=[f"{m}_actual", f"{m}_target", f"{m}_share"])
        gt = gt.cols_label(
            **{f"{m}_actual": "完成", f"{m}_target": "目标", f"{m}_share": "完成比例"}
        )
        for status, colour in STATUS_FILL.items():
            gt = _fill(gt, wide, f"{m}_share", pl.col(f"{m}_status") == status, colour)
    gt = _bold_rows(gt, wide, pl.col("kind") != "street").tab_stubhead("街道")
    note = (
        f"完成比例 = 完成数 ÷ 全年目标；本季度时序进度 {pace:.0%}。"
        "绿色：达到进度（深绿：已完成目标）；黄色：略慢于进度；红色：落后于进度；"
        f"「{NA}」：无该项任务；「{NO_RETURN}」：表二尚未报送或未通过校验。"
        "「全区（附件1任务合计）」为各街道之和（均为街道口径）；「全区（通知目标）」对照通知提出的"
        "全区目标（「≥」即通知所说「以上」，达到即完成），进度状态按通知目标判断。"
    )
    return _finish(gt, note, numbers=cols[1:])


def closure_rates(wide: pl.DataFrame, low: float, floor: float) -> str:
    """Hazard closure per unit, grouped by submitter type; each group ends with its own subtotal
    (territorial and sectoral are never added). Columns: unit, unit_type and, per kind k in
    self_inspection/inspection/penalty, the texts k_found, k_fixed, k_rate and the numbers
    k_rate_value, k_found_value (for the colouring)."""
    kinds = [
        ("self_inspection", "自查隐患（表一）", "自查", "整改"),
        ("inspection", "执法检查（表三）", "发现", "督促整改"),
        ("penalty", "行政处罚（表三）", "处罚隐患", "整改"),
    ]
    shown = ["unit", "unit_type"] + [
        f"{k}_{p}" for k, *_ in kinds for p in ("found", "fixed", "rate")
    ]
    gt = GT(wide.select(shown), rowname_col="unit", groupname_col="unit_type", id="tbl-closure")
    for k, label, found, fixed in kinds:
        gt = gt.tab_spanner(label, columns=[f"{k}_found", f"{k}_fixed", f"{k}_rate"])
        gt = gt.cols_label(**{f"{k}_found": found, f"{k}_fixed": fixed, f"{k}_rate": "整改率"})
        weak = (pl.col(f"{k}_rate_value") < low) & (pl.col(f"{k}_found_value") >= floor)
        gt = _fill(gt, wide, f"{k}_rate", weak, ALERT_FILL)
    gt = _bold_rows(gt, wide, pl.col("unit").str.ends_with("合计")).tab_stubhead("单位")
    note = (
        f"整改率为本年度累计口径；红色：整改率低于 {low:.0%}（隐患不少于 {floor:.0f} 条时标注）；"
        f"「{NA}」：未发现隐患，无整改率；「{NO_RETURN}」：该表尚未报送或未通过校验。"
        "各类型合计行只在本类型内相加。"
    )
    return _finish(gt, note, numbers=shown[2:])


def venues(frame: pl.DataFrame) -> str:
    """九小场所 by category, summed over the 街道 (display texts: category, base, red, orange,
    yellow, blue, coverage, found, fixed, rate); the last row is 总数."""
    gt = GT(frame, rowname_col="category", id="tbl-venues")
    gt = gt.tab_spanner(
        "四色风险分级（家）", columns=["red", "orange", "yellow", "blue", "coverage"]
    )
    gt = gt.tab_spanner("自查隐患（条）", columns=["found", "fixed", "rate"])
    gt = gt.cols_label(
        base="底数（家）",
        red="红",
        orange="橙",
        yellow="黄",
        blue="蓝",
        coverage="评定覆盖率",
        found="自查",
        fixed="整改",
        rate="整改率",
    )
    gt = gt.tab_style(style.text(weight="bold"), loc.body(rows=[frame.height - 1]))
    gt = gt.tab_stubhead("场所类别")
    note = (
        "数据来源：各街道已采用的表四；评定覆盖率 = 四色评定场所合计 ÷ 底数；"
        f"「{NA}」：底数为 0 或未发现隐患，无比例。"
    )
    return _finish(gt, note, numbers=list(frame.columns[1:]))


# Score components by scoring.yaml key; their short name is the part of the label before 「：」.
SCORE_PARTS: dict[str, str] = {
    k: v.split("：", 1)[0] for k, v in config.load("scoring.yaml")["labels"].items()
}


def scores(frame: pl.DataFrame, weights: dict[str, float]) -> str:
    """Performance score per submitter with its components, grouped by type (display texts:
    unit, unit_type, one per SCORE_PARTS key, score, rank_in_type)."""
    gt = GT(frame, rowname_col="unit", groupname_col="unit_type", id="tbl-scores")
    parts = list(SCORE_PARTS)
    gt = gt.tab_spanner("各项得分率（权重）", columns=parts)
    gt = gt.cols_label(
        **{k: f"{v}（{weights.get(k, 0):g}）" for k, v in SCORE_PARTS.items()},
        score="绩效评分",
        rank_in_type="同类排名",
    )
    gt = gt.tab_style(style.text(weight="bold"), loc.body(columns="score"))
    gt = gt.tab_stubhead("单位")
    note = (
        "绩效评分 = 100 × Σ（权重 × 得分率）÷ 适用项权重之和；"
        f"「{NA}」：该项不适用（如成员单位无十百千万任务），其权重按比例分摊。口径见附录二。"
    )
    return _finish(gt, note, numbers=[*parts, "score", "rank_in_type"])


BAD_STATES = ("未报送", "退回待重报", "已报送未通过")
LATE_STATES = ("逾期报送",)


def data_quality(frame: pl.DataFrame, forms: list[tuple[str, str]]) -> str:
    """Per submitter: each form's collection-window state, open errors and warnings (columns:
    unit, unit_type, one column per form id, errors, warnings)."""
    gt = GT(frame, rowname_col="unit", groupname_col="unit_type", id="tbl-quality")
    gt = gt.cols_label(**dict(forms), errors="待更正错误", warnings="待确认提示")
    gt = gt.tab_spanner("各表状态", columns=[f for f, _ in forms])
    for f, _ in forms:
        bad = pl.any_horizontal(pl.col(f).str.starts_with(s) for s in BAD_STATES)
        late = pl.any_horizontal(pl.col(f).str.starts_with(s) for s in LATE_STATES)
        gt = _fill(gt, frame, f, bad, ALERT_FILL)
        gt = _fill(gt, frame, f, late, WARN_FILL)
    gt = _fill(gt, frame, "errors", pl.col("errors") > 0, ALERT_FILL)
    gt = _fill(gt, frame, "warnings", pl.col("warnings") > 0, WARN_FILL)
    gt = gt.fmt_integer(columns=["errors", "warnings"]).sub_missing(missing_text=NA)
    gt = gt.tab_stubhead("单位")
    note = (
        "「按时报送」「逾期报送」：已通过校验并采用；「退回待重报」：存在错误或被办公室退回，待更正后重报；"
        "「未报送」：已过截止日仍未收到；「未到期」：截止日前尚未收到；「锁定后收到」：审核锁定后收到的新版本，"
        f"重新开放前不采用；「{NA}」：无需报送。待更正错误、待确认提示为本季度现行版本中尚未处理的校验问题。"
    )
    return _finish(gt, note, numbers=["errors", "warnings"])
