-- new_activity: what happened during the quarter, from cumulative columns.
-- new_value = this quarter's cumulative value − last quarter's, when both count from the same
-- window start (basis 'difference'). When the column's window opens during this quarter (e.g.
-- 本年度累计 in Q1, after the reset at the campaign start) everything counted so far is new:
-- new_value = the value itself (basis 'window_start'). Without an official return for the
-- previous quarter, or across a window reset that is not at this quarter's start, new_value
-- and basis are NULL: the quarter's activity cannot be told. Stocks (企业基数, 底数) are left out.
-- Type totals (level type_total) add the units whose new_value is known (units_counted).
-- 本季度新增＝本季度累计数−上季度累计数（同一累计口径内）；累计口径本季度起算时取本季度累计数；
-- 无上季度正式数据时为空。

create or replace view new_activity as
-- The pairing of each value with last quarter's is stored at load (stored_increments, see
-- sql/03 and pipelines/warehouse/stored.py); here only the reporting units are kept.
with paired as (
    select *
    from stored_increments
    where submitter_type in (select submitter_type from submitter_types where not consolidates)
),

by_unit as (
    select
        'submitter' as level,
        quarter,
        campaign,
        submitter_type,
        submitter,
        form,
        row_key,
        column_id,
        window_name,
        value,
        prev_quarter,
        prev_value,
        basis,
        new_value,
        1 as units_counted
    from paired
),

by_type as (
    select
        'type_total' as level,
        quarter,
        campaign,
        submitter_type,
        submitter_type || '合计' as submitter,
        form,
        row_key,
        column_id,
        window_name,
        sum(value) filter (where new_value is not null) as value,
        any_value(prev_quarter) as prev_quarter,
        sum(prev_value) filter (where basis = 'difference') as prev_value,
        null as basis,
        sum(new_value) as new_value,
        count(new_value) as units_counted
    from by_unit
    group by quarter, campaign, submitter_type, form, row_key, column_id, window_name
)

select
    combined.*,
    form_columns.display_label as column_label
from (select * from by_unit union all by name select * from by_type) as combined
left join form_columns
    on form_columns.form = combined.form and form_columns.column_id = combined.column_id;

comment on view new_activity is '本季度新增（累计列）：同一累计口径内本季度累计数减上季度累计数；口径本季度起算时取本季度累计数；无上季度正式数据时为空。New activity this quarter from cumulative columns.';
comment on column new_activity.level is 'submitter：单位；type_total：单位类型合计（仅计新增已知的单位）。Row level.';
comment on column new_activity.quarter is '季度。Quarter.';
comment on column new_activity.campaign is '专项行动年度。Campaign year.';
comment on column new_activity.submitter_type is '单位类型。Submitter type.';
comment on column new_activity.submitter is '单位，或「<类型>合计」。Submitter, or the type total.';
comment on column new_activity.form is '表标识。Form id.';
comment on column new_activity.row_key is '行标识。Row key.';
comment on column new_activity.column_id is '列标识。Column id.';
comment on column new_activity.window_name is '累计口径。Cumulative window.';
comment on column new_activity.value is '本季度累计数（合计行只含新增已知的单位）。Cumulative value this quarter.';
comment on column new_activity.prev_quarter is '上一季度。Previous quarter.';
comment on column new_activity.prev_value is '上季度累计数（同一口径）。Previous cumulative value.';
comment on column new_activity.basis is 'difference：本季−上季；window_start：口径本季度起算，取本季累计数；空：无法计算。How new_value was obtained.';
comment on column new_activity.new_value is '本季度新增。New this quarter; NULL when unknown.';
comment on column new_activity.units_counted is '计入的单位数。Units counted.';
comment on column new_activity.column_label is '列名称。Column label.';
