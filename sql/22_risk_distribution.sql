-- risk_distribution: the 四色 (red/orange/yellow/blue) risk grading of enterprises (表一, own
-- row) and of 九小场所 (表四, per category and the 总数 row), per submitter and per submitter type
-- (level type_total). Shares are of the assessed units; coverage = assessed ÷ base (企业基数总数 /
-- 九小场所底数). 街道 and 成员单位 cover the same enterprises from two sides, so each type has
-- its own total and there is no grand total.
-- 四色风险分布：红橙黄蓝数量、占比及覆盖率（已评定÷基数），按单位和单位类型合计。

create or replace view risk_distribution as
with source as (
    select *
    from unit_values
    where (form = 'form1' and column_id in ('ent_total', 'risk_red', 'risk_orange', 'risk_yellow', 'risk_blue'))
        or (form = 'form4' and column_id in ('venues_base', 'risk_red', 'risk_orange', 'risk_yellow', 'risk_blue'))
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
        sum(value) filter (where column_id in ('ent_total', 'venues_base')) as base,
        sum(value) filter (where column_id = 'risk_red') as red,
        sum(value) filter (where column_id = 'risk_orange') as orange,
        sum(value) filter (where column_id = 'risk_yellow') as yellow,
        sum(value) filter (where column_id = 'risk_blue') as blue
    from source
    group by quarter, campaign, submitter_type, submitter, form, row_key
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
        sum(base) as base,
        sum(red) as red,
        sum(orange) as orange,
        sum(yellow) as yellow,
        sum(blue) as blue
    from by_unit
    group by quarter, campaign, submitter_type, form, row_key
),

combined as (
    select *, red + orange + yellow + blue as assessed
    from (select * from by_unit union all by name select * from by_type)
),

final as (
    select
        combined.level,
        combined.quarter,
        combined.campaign,
        case combined.form when 'form1' then '企业' else '九小场所' end as population,
        combined.submitter_type,
        combined.submitter,
        combined.form,
        case when combined.form = 'form4' then combined.row_key end as category,
        case when combined.form = 'form4' then form_rows.label end as category_label,
        combined.base,
        combined.red,
        combined.orange,
        combined.yellow,
        combined.blue,
        combined.assessed,
        combined.red / nullif(combined.assessed, 0) as red_share,
        combined.orange / nullif(combined.assessed, 0) as orange_share,
        combined.yellow / nullif(combined.assessed, 0) as yellow_share,
        combined.blue / nullif(combined.assessed, 0) as blue_share,
        combined.assessed / nullif(combined.base, 0) as coverage
    from combined
    left join form_rows on form_rows.form = combined.form and form_rows.row_key = combined.row_key
)

select * from final;

comment on view risk_distribution is '四色安全风险分布：企业（表一）按单位，九小场所（表四）按单位和类别；另有单位类型合计（level = type_total），街道与成员单位不相加。Risk-colour distribution and coverage.';
comment on column risk_distribution.level is 'submitter：单位；type_total：单位类型合计。Row level.';
comment on column risk_distribution.quarter is '季度。Quarter.';
comment on column risk_distribution.campaign is '专项行动年度。Campaign year.';
comment on column risk_distribution.population is '对象：企业（表一）/ 九小场所（表四）。Enterprises or 九小场所.';
comment on column risk_distribution.submitter_type is '单位类型。Submitter type.';
comment on column risk_distribution.submitter is '单位，或「<类型>合计」。Submitter, or the type total.';
comment on column risk_distribution.form is '来源表。Source form.';
comment on column risk_distribution.category is '九小场所类别（表四行标识，含 total 总数行）；企业为空。Venue category (表四 row key).';
comment on column risk_distribution.category_label is '九小场所类别名称。Category label.';
comment on column risk_distribution.base is '基数：企业基数总数 / 九小场所底数。Base count.';
comment on column risk_distribution.red is '红色风险（家）。Red.';
comment on column risk_distribution.orange is '橙色风险（家）。Orange.';
comment on column risk_distribution.yellow is '黄色风险（家）。Yellow.';
comment on column risk_distribution.blue is '蓝色风险（家）。Blue.';
comment on column risk_distribution.assessed is '已评定风险等级（四色合计）。Assessed (four colours summed).';
comment on column risk_distribution.red_share is '红色占已评定比例。Red ÷ assessed.';
comment on column risk_distribution.orange_share is '橙色占已评定比例。Orange ÷ assessed.';
comment on column risk_distribution.yellow_share is '黄色占已评定比例。Yellow ÷ assessed.';
comment on column risk_distribution.blue_share is '蓝色占已评定比例。Blue ÷ assessed.';
comment on column risk_distribution.coverage is '覆盖率＝已评定÷基数。Coverage = assessed ÷ base.';
