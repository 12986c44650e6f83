-- performance_scores: the quarterly performance score (绩效评分, 0–100) of every submitter that
-- owes returns, a transparent weighted sum of five shares in [0, 1] (weights: scoring_weights).
--   timeliness      forms owed that were accepted on time ÷ forms owed          (reporting_status;
--                   only once they are due: a quarter is scored after its deadline)
--   data_quality    accepted returns without open warnings ÷ returns received  (all versions;
--                   0 when nothing was received)
--   target_pace     mean over the 十百千万 measures with a target of min(1, share ÷ pace); a
--                   measure not reported counts 0                               (target_progress)
--   hazard_closure  min(1, 整改 ÷ 自查) of 表一                                  (hazard_closure)
--   risk_coverage   min(1, 四色合计 ÷ 企业基数) of 表一                           (risk_distribution)
-- A component that does not apply is NULL and its weight is spread over the others pro rata:
-- target_pace for departments (no targets) and for a 街道 whose targets are all 0; hazard_closure
-- when no hazard was found; risk_coverage when the base is 0. Without an official 表一 both 表一
-- components count 0 (not reporting earns nothing).
-- score = 100 × Σ(weight × share) ÷ Σ(weight of the components that apply).
-- 季度绩效评分：按时报送、数据质量、十百千万进度、隐患整改、风险评定覆盖五项加权，权重见 scoring_weights。

create or replace view performance_scores as
with weights as (
    select
        max(weight) filter (where component = 'timeliness') as w_timeliness,
        max(weight) filter (where component = 'data_quality') as w_data_quality,
        max(weight) filter (where component = 'target_pace') as w_target_pace,
        max(weight) filter (where component = 'hazard_closure') as w_hazard_closure,
        max(weight) filter (where component = 'risk_coverage') as w_risk_coverage
    from scoring_weights
),

units as (
    select
        quarter,
        any_value(campaign) as campaign,
        submitter,
        any_value(submitter_type) as submitter_type,
        count(*) filter (where expected and due) as forms_expected,
        count(*) filter (where expected and due and on_time) as forms_on_time
    from reporting_status
    where submitter_type in (select submitter_type from submitter_types where not consolidates)
    group by quarter, submitter
    having count(*) filter (where expected and due) > 0
),

open_warnings as (
    select submission_id, count(*) as warnings
    from validation_issues
    where severity = 'warning' and status = 'open'
    group by submission_id
),

quality as (
    select
        submissions.quarter,
        submissions.submitter,
        count(*) as returns_received,
        count(*) filter (
            where submissions.status = 'accepted' and open_warnings.warnings is null
        ) as clean_returns
    from submissions
    left join open_warnings on open_warnings.submission_id = submissions.submission_id
    where submissions.form is not null and submissions.submitter is not null
    group by submissions.quarter, submissions.submitter
),

pace as (
    select
        units.quarter,
        units.submitter,
        avg(least(1.0, coalesce(progress.share, 0) / target_pace.pace)) as target_pace
    from units
    join quarters on quarters.quarter = units.quarter
    join target_pace on target_pace.q = quarters.q
    join targets
        on targets.campaign = quarters.campaign
        and targets.submitter = units.submitter
        and targets.target > 0
    left join target_progress as progress
        on progress.level = 'submitter'
        and progress.quarter = units.quarter
        and progress.submitter = units.submitter
        and progress.measure = targets.measure
    group by units.quarter, units.submitter
),

hazard as (
    -- DuckDB's least() skips NULLs (least(1, NULL) = 1): keep "nothing found" NULL explicitly.
    select quarter, submitter, case when rate is not null then least(1.0, rate) end as hazard_closure
    from hazard_closure
    where level = 'submitter' and form = 'form1' and kind = 'self_inspection'
),

risk as (
    select
        quarter,
        submitter,
        case when coverage is not null then least(1.0, coverage) end as risk_coverage
    from risk_distribution
    where level = 'submitter' and form = 'form1'
),

components as (
    select
        units.quarter,
        units.campaign,
        units.submitter,
        units.submitter_type,
        units.forms_on_time / units.forms_expected as timeliness,
        coalesce(quality.clean_returns / quality.returns_received, 0) as data_quality,
        pace.target_pace,
        case when hazard.submitter is null then 0 else hazard.hazard_closure end as hazard_closure,
        case when risk.submitter is null then 0 else risk.risk_coverage end as risk_coverage
    from units
    left join quality on quality.quarter = units.quarter and quality.submitter = units.submitter
    left join pace on pace.quarter = units.quarter and pace.submitter = units.submitter
    left join hazard on hazard.quarter = units.quarter and hazard.submitter = units.submitter
    left join risk on risk.quarter = units.quarter and risk.submitter = units.submitter
),

scored as (
    select
        components.*,
        weights.w_timeliness * timeliness
            + weights.w_data_quality * data_quality
            + coalesce(weights.w_target_pace * target_pace, 0)
            + coalesce(weights.w_hazard_closure * hazard_closure, 0)
            + coalesce(weights.w_risk_coverage * risk_coverage, 0) as points,
        weights.w_timeliness
            + weights.w_data_quality
            + case when target_pace is null then 0 else weights.w_target_pace end
            + case when hazard_closure is null then 0 else weights.w_hazard_closure end
            + case when risk_coverage is null then 0 else weights.w_risk_coverage end as weight_applied
    from components
    cross join weights
)

select
    quarter,
    campaign,
    submitter,
    submitter_type,
    timeliness,
    data_quality,
    target_pace,
    hazard_closure,
    risk_coverage,
    weight_applied,
    100 * points / weight_applied as score,
    rank() over (partition by quarter, submitter_type order by points / weight_applied desc) as rank_in_type
from scored;

comment on view performance_scores is '季度绩效评分（0–100）：五项得分率按 scoring_weights 加权；不适用的项（空）其权重按比例分摊到其余各项。Quarterly performance score per submitter.';
comment on column performance_scores.quarter is '季度。Quarter.';
comment on column performance_scores.campaign is '专项行动年度。Campaign year.';
comment on column performance_scores.submitter is '报送单位。Submitter.';
comment on column performance_scores.submitter_type is '单位类型。Submitter type.';
comment on column performance_scores.timeliness is '按时报送率＝按时通过的应报表÷应报表。Timeliness share.';
comment on column performance_scores.data_quality is '数据质量＝无待确认提示的通过报表÷收到的报表（含各版本）。Data-quality share.';
comment on column performance_scores.target_pace is '十百千万进度＝各有任务指标 min(1, 完成比例÷时间进度) 的平均；成员单位为空。Target pace share (街道 only).';
comment on column performance_scores.hazard_closure is '自查隐患整改率（表一，封顶 1）；未发现隐患时为空。Self-inspection closure (capped at 1).';
comment on column performance_scores.risk_coverage is '风险评定覆盖率（表一四色合计÷企业基数，封顶 1）。Risk-grading coverage (capped at 1).';
comment on column performance_scores.weight_applied is '实际适用的权重合计（不适用项不计）。Weights of the components that apply.';
comment on column performance_scores.score is '绩效得分（0–100）。Score.';
comment on column performance_scores.rank_in_type is '同类单位中的名次。Rank among submitters of the same type.';
