-- target_progress: 十百千万 progress per 街道 and for the district (街道 summed).
-- actual: official 表二 values of the 街道 summed over all levels (市级、区级、街道级: each case is
-- reported once, at its highest level); 达标岗位 adds the four post kinds, which are merged over
-- the level rows and stored once under the type key. Columns per measure: target_measures.
-- share = actual ÷ target; pace = share of the year elapsed (target_pace); pace_ratio = share ÷
-- pace; status = the highest band of target_status_bands whose min_ratio ≤ pace_ratio.
-- A 街道 without an official 表二 this quarter has actual NULL; a measure with target 0 has
-- share and status NULL (nothing to reach). Quarters: those with any official return.
-- 十百千万进度：完成数、任务数、完成比例、时间进度与进度状态（达到进度/略慢于进度/落后于进度）。

create or replace view target_progress as
with quarters_reported as (
    select distinct submissions.quarter, submissions.campaign, quarters.q
    from submissions
    join quarters on quarters.quarter = submissions.quarter
    where submissions.is_official
),

actuals as (
    select
        unit_values.quarter,
        unit_values.submitter,
        target_measures.measure,
        sum(unit_values.value) as actual
    from unit_values
    join target_measures
        on target_measures.form = unit_values.form
        and target_measures.column_id = unit_values.column_id
    where unit_values.submitter in (select submitter from targets)
    group by unit_values.quarter, unit_values.submitter, target_measures.measure
),

by_street as (
    select
        'submitter' as level,
        quarters_reported.quarter,
        quarters_reported.campaign,
        quarters_reported.q,
        targets.submitter,
        targets.measure,
        actuals.actual,
        targets.target,
        null::double as district_goal,
        (actuals.actual is not null)::int as streets_reported
    from quarters_reported
    join targets on targets.campaign = quarters_reported.campaign
    left join actuals
        on actuals.quarter = quarters_reported.quarter
        and actuals.submitter = targets.submitter
        and actuals.measure = targets.measure
),

district as (
    select
        'district' as level,
        by_street.quarter,
        by_street.campaign,
        by_street.q,
        '全区（街道合计）' as submitter,
        by_street.measure,
        sum(by_street.actual) as actual,
        sum(by_street.target) as target,
        any_value(district_goals.goal) as district_goal,
        sum(by_street.streets_reported) as streets_reported
    from by_street
    left join district_goals on district_goals.measure = by_street.measure
    group by by_street.quarter, by_street.campaign, by_street.q, by_street.measure
),

measured as (
    select
        combined.*,
        measures.label as measure_label,
        measures.unit,
        combined.actual / nullif(combined.target, 0) as share,
        target_pace.pace,
        combined.actual / nullif(combined.target, 0) / target_pace.pace as pace_ratio
    from (select * from by_street union all by name select * from district) as combined
    left join target_pace on target_pace.q = combined.q
    left join (select distinct measure, label, unit from target_measures) as measures
        on measures.measure = combined.measure
),

final as (
    select
        level,
        quarter,
        campaign,
        submitter,
        measure,
        measure_label,
        unit,
        actual,
        target,
        share,
        pace,
        pace_ratio,
        (
            select bands.status
            from target_status_bands as bands
            where measured.pace_ratio >= bands.min_ratio
            order by bands.min_ratio desc
            limit 1
        ) as status,
        district_goal,
        streets_reported
    from measured
)

select * from final;

comment on view target_progress is '十百千万引领工程进度：每季度每街道每项指标一行，另有全区（街道合计）行。十百千万 progress per 街道 and district total.';
comment on column target_progress.level is 'submitter：街道；district：全区（街道合计）。Row level.';
comment on column target_progress.quarter is '季度。Quarter.';
comment on column target_progress.campaign is '专项行动年度。Campaign year.';
comment on column target_progress.submitter is '街道，或「全区（街道合计）」。Subdistrict, or the district total.';
comment on column target_progress.measure is '指标标识。Measure id.';
comment on column target_progress.measure_label is '指标：样板街道 / 标杆企业 / 评审达标企业 / 达标岗位。Measure label.';
comment on column target_progress.unit is '单位。Unit.';
comment on column target_progress.actual is '完成数（表二街道行各层级之和）；未报表二为空。Actual from official 表二, levels summed; NULL if not reported.';
comment on column target_progress.target is '年度任务数（全区行为各街道之和）。Target (district: sum of 街道 targets).';
comment on column target_progress.share is '完成比例＝完成数÷任务数；任务为 0 时为空。Share of target reached.';
comment on column target_progress.pace is '时间进度（季度末已过年度比例）。Share of the year elapsed.';
comment on column target_progress.pace_ratio is '完成比例÷时间进度。Share ÷ pace.';
comment on column target_progress.status is '进度状态：达到进度 / 略慢于进度 / 落后于进度（target_status_bands）。Status.';
comment on column target_progress.district_goal is '通知正文中的全区目标（仅全区行）。District headline goal (district row only).';
comment on column target_progress.streets_reported is '已报表二的街道数。街道 with an official 表二.';
