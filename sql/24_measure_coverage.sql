-- measure_coverage: how far each responsibility and standardisation measure has reached, as a
-- share of the base: 表一 enterprise counts ÷ 企业基数总数 (own row), 表四 venue counts ÷
-- 九小场所底数 (each category and the 总数 row). Per submitter, and per submitter type (sums,
-- then the ratio). The risk colours have their own view (risk_distribution).
-- 责任制措施覆盖率：各项措施落实数÷企业基数（表一）或九小场所底数（表四）。

create or replace view measure_coverage as
with measures (form, column_id, base_column) as (
    values
        ('form1', 'mgmt_body', 'ent_total'),
        ('form1', 'resp_list', 'ent_total'),
        ('form1', 'safety_staff', 'ent_total'),
        ('form1', 'three_lists', 'ent_total'),
        ('form1', 'site_5s', 'ent_total'),
        ('form1', 'six_signs', 'ent_total'),
        ('form1', 'rescue_team', 'ent_total'),
        ('form1', 'std_reviewed', 'ent_total'),
        ('form1', 'std_self', 'ent_total'),
        ('form1', 'std_total', 'ent_total'),
        ('form1', 'star_total', 'ent_total'),
        ('form4', 'three_lists', 'venues_base'),
        ('form4', 'site_5s', 'venues_base'),
        ('form4', 'six_signs', 'venues_base'),
        ('form4', 'std_reviewed', 'venues_base'),
        ('form4', 'std_self', 'venues_base')
),

bases as (
    select unit_values.*
    from unit_values
    where (form = 'form1' and column_id = 'ent_total') or (form = 'form4' and column_id = 'venues_base')
),

counts as (
    select unit_values.*, measures.base_column
    from unit_values
    join measures on measures.form = unit_values.form and measures.column_id = unit_values.column_id
),

by_unit as (
    select
        'submitter' as level,
        counts.quarter,
        counts.campaign,
        counts.submitter_type,
        counts.submitter,
        counts.form,
        counts.row_key,
        counts.column_id,
        counts.value as count,
        bases.value as base
    from counts
    left join bases
        on bases.submission_id = counts.submission_id
        and bases.row_key = counts.row_key
        and bases.column_id = counts.base_column
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
        sum(count) as count,
        sum(base) as base
    from by_unit
    group by quarter, campaign, submitter_type, form, row_key, column_id
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
        combined.column_id as measure,
        form_columns.display_label as measure_label,
        combined.count,
        combined.base,
        combined.count / nullif(combined.base, 0) as coverage
    from (select * from by_unit union all by name select * from by_type) as combined
    left join form_columns
        on form_columns.form = combined.form and form_columns.column_id = combined.column_id
    left join form_rows on form_rows.form = combined.form and form_rows.row_key = combined.row_key
)

select * from final;

comment on view measure_coverage is '责任制与标准化措施覆盖率：落实数÷企业基数（表一）或÷九小场所底数（表四，按类别），按单位及单位类型合计。Coverage of each measure.';
comment on column measure_coverage.level is 'submitter：单位；type_total：单位类型合计。Row level.';
comment on column measure_coverage.quarter is '季度。Quarter.';
comment on column measure_coverage.campaign is '专项行动年度。Campaign year.';
comment on column measure_coverage.population is '对象：企业 / 九小场所。Enterprises or 九小场所.';
comment on column measure_coverage.submitter_type is '单位类型。Submitter type.';
comment on column measure_coverage.submitter is '单位，或「<类型>合计」。Submitter, or the type total.';
comment on column measure_coverage.form is '来源表。Source form.';
comment on column measure_coverage.category is '九小场所类别（表四行标识）；企业为空。Venue category.';
comment on column measure_coverage.category_label is '九小场所类别名称。Category label.';
comment on column measure_coverage.measure is '措施（列标识）。Measure (column id).';
comment on column measure_coverage.measure_label is '措施名称。Measure label.';
comment on column measure_coverage.count is '落实数（家）。Units with the measure.';
comment on column measure_coverage.base is '基数（家）。Base.';
comment on column measure_coverage.coverage is '覆盖率＝落实数÷基数。Coverage.';
