-- The official_values, unit_values and new_activity views as main defined them before the stored
-- official figures (commit 89b5f4f, sql/11 and sql/26), derived from the ledger in every query.
-- tests/test_stored.py puts them back on a copy of a warehouse to compare every indicator view's
-- answers before and after. Kept verbatim; comments on views dropped.

-- official_values: the figures that count. One row per value of the official version (the latest
-- accepted one) of each submitter × form × quarter. Only the rows of the submitter's own type are
-- kept (a 街道 fills the 街道 row; the other type's row in its return is ignored); the office's
-- consolidated return keeps every row.
-- 正式数据：每个单位每张表每个季度最新通过版本的数据，只保留本单位类型所填的行。

create or replace view official_values as
with official as (
    select submission_id, quarter, campaign, submitter, submitter_type, form, received_at
    from submissions
    where is_official
),

own_rows as (
    select form_rows.form, form_rows.row_key, submitter_types.submitter_type
    from form_rows
    join submitter_types
        on submitter_types.submitter_type = form_rows.submitter_type
        or submitter_types.consolidates
),

joined as (
    select
        official.quarter,
        official.campaign,
        official.submitter,
        official.submitter_type,
        official.form,
        return_values.row_key,
        return_values.column_id,
        return_values.value,
        official.submission_id,
        official.received_at
    from official
    join return_values on return_values.submission_id = official.submission_id
    join own_rows
        on own_rows.form = official.form
        and own_rows.row_key = return_values.row_key
        and own_rows.submitter_type = official.submitter_type
)

select * from joined;



-- unit_values: official values of the reporting units (街道 and 成员单位) only. The office's
-- consolidated return would count every figure twice, so indicators read this view.
-- 报送单位（街道、成员单位）的正式数据，不含办公室汇总表；各指标视图以此为数据源。

create or replace view unit_values as
with source as (
    select * from official_values
),

units as (
    select submitter_type from submitter_types where not consolidates
)

select source.*
from source
where source.submitter_type in (select submitter_type from units);

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
with windowed as (
    select
        unit_values.*,
        column_windows.window_name,
        column_windows.window_start,
        quarters.quarter_start,
        quarters.prev_quarter
    from unit_values
    join column_windows
        on column_windows.campaign = unit_values.campaign
        and column_windows.form = unit_values.form
        and column_windows.column_id = unit_values.column_id
    join quarters on quarters.quarter = unit_values.quarter
    where column_windows.window_start is not null
),

paired as (
    select
        this_quarter.*,
        case
            when this_quarter.window_start >= this_quarter.quarter_start then 'window_start'
            when last_quarter.window_start = this_quarter.window_start then 'difference'
        end as basis,
        -- Only a value counted from the same start is a previous value; across a reset there is
        -- none to compare with.
        case
            when this_quarter.window_start < this_quarter.quarter_start
                and last_quarter.window_start = this_quarter.window_start
                then last_quarter.value
        end as prev_value
    from windowed as this_quarter
    left join windowed as last_quarter
        on last_quarter.quarter = this_quarter.prev_quarter
        and last_quarter.submitter = this_quarter.submitter
        and last_quarter.form = this_quarter.form
        and last_quarter.row_key = this_quarter.row_key
        and last_quarter.column_id = this_quarter.column_id
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
        case basis
            when 'window_start' then value
            when 'difference' then value - prev_value
        end as new_value,
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

