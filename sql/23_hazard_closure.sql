-- hazard_closure: hazards closed ÷ hazards found, cumulative within the columns' window.
--   self_inspection 自查隐患整改率 = 整改隐患数量 ÷ 自查隐患数量        (表一 own row; 表四 总数 row)
--   inspection      督促整改率     = 督促整改隐患 ÷ 发现隐患            (表三 own row; 表四 总数 row)
--   penalty         处罚隐患整改率 = 行政处罚隐患整改数量 ÷ 隐患数量    (表三 own row; 表四 总数 row)
-- Per submitter and quarter, and per submitter type (level type_total: sums, then the ratio).
-- rate is NULL when nothing was found.
-- 隐患整改率：自查整改、督促整改、处罚隐患整改，按单位和单位类型合计。

create or replace view hazard_closure as
with pairs (form, kind, kind_label, found_column, fixed_column) as (
    values
        ('form1', 'self_inspection', '自查隐患整改率', 'hazards_found', 'hazards_fixed'),
        ('form4', 'self_inspection', '自查隐患整改率', 'hazards_found', 'hazards_fixed'),
        ('form3', 'inspection', '督促整改率', 'hazards_inspect_found', 'hazards_urged_fixed'),
        ('form4', 'inspection', '督促整改率', 'hazards_inspect_found', 'hazards_urged_fixed'),
        ('form3', 'penalty', '处罚隐患整改率', 'penalty_hazards', 'penalty_hazards_fixed'),
        ('form4', 'penalty', '处罚隐患整改率', 'penalty_hazards', 'penalty_hazards_fixed')
),

-- Each pair's two columns as rows, so that values join on equality (form, column).
pair_columns as (
    select form, kind, kind_label, found_column, fixed_column, found_column as column_id from pairs
    union all
    select form, kind, kind_label, found_column, fixed_column, fixed_column as column_id from pairs
),

source as (
    select
        unit_values.*,
        pair_columns.kind,
        pair_columns.kind_label,
        pair_columns.found_column,
        pair_columns.fixed_column
    from unit_values
    join pair_columns
        on pair_columns.form = unit_values.form
        and pair_columns.column_id = unit_values.column_id
    where unit_values.form <> 'form4' or unit_values.row_key = 'total'
),

by_unit as (
    select
        'submitter' as level,
        quarter,
        campaign,
        submitter_type,
        submitter,
        form,
        kind,
        kind_label,
        sum(value) filter (where column_id = found_column) as found,
        sum(value) filter (where column_id = fixed_column) as fixed
    from source
    group by quarter, campaign, submitter_type, submitter, form, kind, kind_label
),

by_type as (
    select
        'type_total' as level,
        quarter,
        campaign,
        submitter_type,
        submitter_type || '合计' as submitter,
        form,
        kind,
        kind_label,
        sum(found) as found,
        sum(fixed) as fixed
    from by_unit
    group by quarter, campaign, submitter_type, form, kind, kind_label
)

select *, fixed / nullif(found, 0) as rate
from (select * from by_unit union all by name select * from by_type);

comment on view hazard_closure is '隐患整改率（累计口径）：自查整改（表一、表四）、督促整改（表三、表四）、处罚隐患整改（表三、表四），按单位及单位类型合计。Hazard closure rates.';
comment on column hazard_closure.level is 'submitter：单位；type_total：单位类型合计。Row level.';
comment on column hazard_closure.quarter is '季度。Quarter.';
comment on column hazard_closure.campaign is '专项行动年度。Campaign year.';
comment on column hazard_closure.submitter_type is '单位类型。Submitter type.';
comment on column hazard_closure.submitter is '单位，或「<类型>合计」。Submitter, or the type total.';
comment on column hazard_closure.form is '来源表（表四取总数行）。Source form (表四: its 总数 row).';
comment on column hazard_closure.kind is 'self_inspection / inspection / penalty。Rate kind.';
comment on column hazard_closure.kind_label is '自查隐患整改率 / 督促整改率 / 处罚隐患整改率。Rate label.';
comment on column hazard_closure.found is '发现（自查）隐患数（条）。Hazards found.';
comment on column hazard_closure.fixed is '已整改隐患数（条）。Hazards fixed.';
comment on column hazard_closure.rate is '整改率＝已整改÷发现；未发现隐患时为空。Closure rate.';
