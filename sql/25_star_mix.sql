-- star_mix: the star-rating mix of enterprises under star management (表一 实施星级管理数量):
-- each level's share of the rated total, and the rated total ÷ 企业基数总数. Per submitter and
-- per submitter type.
-- 星级结构：各星级企业占实施星级管理企业的比例，及星级管理覆盖率。

create or replace view star_mix as
-- Each level's label is its 表一 column label (form_columns, from config/forms/form1.yaml).
with levels as (
    select stars.column_id, stars.stars, form_columns.label
    from (values ('star_5', 5), ('star_4', 4), ('star_3', 3), ('star_2', 2), ('star_1', 1))
        as stars (column_id, stars)
    join form_columns on form_columns.form = 'form1' and form_columns.column_id = stars.column_id
),

source as (
    select *
    from unit_values
    where form = 'form1'
        and column_id in ('star_5', 'star_4', 'star_3', 'star_2', 'star_1', 'star_total', 'ent_total')
),

by_unit as (
    select
        'submitter' as level,
        source.quarter,
        source.campaign,
        source.submitter_type,
        source.submitter,
        levels.stars,
        levels.label,
        sum(source.value) filter (where source.column_id = levels.column_id) as enterprises,
        sum(source.value) filter (where source.column_id = 'star_total') as star_total,
        sum(source.value) filter (where source.column_id = 'ent_total') as ent_total
    from source
    cross join levels
    group by source.quarter, source.campaign, source.submitter_type, source.submitter, levels.stars, levels.label
),

by_type as (
    select
        'type_total' as level,
        quarter,
        campaign,
        submitter_type,
        submitter_type || '合计' as submitter,
        stars,
        label,
        sum(enterprises) as enterprises,
        sum(star_total) as star_total,
        sum(ent_total) as ent_total
    from by_unit
    group by quarter, campaign, submitter_type, stars, label
)

select
    *,
    enterprises / nullif(star_total, 0) as share,
    star_total / nullif(ent_total, 0) as rated_coverage
from (select * from by_unit union all by name select * from by_type);

comment on view star_mix is '星级结构（表一）：各星级企业数及其占实施星级管理企业的比例，按单位及单位类型合计。Star-rating mix.';
comment on column star_mix.level is 'submitter：单位；type_total：单位类型合计。Row level.';
comment on column star_mix.quarter is '季度。Quarter.';
comment on column star_mix.campaign is '专项行动年度。Campaign year.';
comment on column star_mix.submitter_type is '单位类型。Submitter type.';
comment on column star_mix.submitter is '单位，或「<类型>合计」。Submitter, or the type total.';
comment on column star_mix.stars is '星级（5–1）。Stars.';
comment on column star_mix.label is '星级名称。Star level label.';
comment on column star_mix.enterprises is '该星级企业数（家）。Enterprises at this level.';
comment on column star_mix.star_total is '实施星级管理企业总数（家）。Enterprises rated.';
comment on column star_mix.ent_total is '企业基数总数（家）。Enterprise base.';
comment on column star_mix.share is '该星级占比＝该星级企业数÷星级管理总数。Share of rated enterprises.';
comment on column star_mix.rated_coverage is '星级管理覆盖率＝星级管理总数÷企业基数。Rated ÷ base.';
