-- official_values: the figures that count. One row per value of the official version (the latest
-- accepted one) of each submitter × form × quarter. Only the rows of the submitter's own type are
-- kept (a 街道 fills the 街道 row; the other type's row in its return is ignored); the office's
-- consolidated return keeps every row.
-- 正式数据：每个单位每张表每个季度最新通过版本的数据，只保留本单位类型所填的行。

create or replace view official_values as
-- Maintained at load (sql/03, pipelines/warehouse/stored.py): the latest accepted version's
-- values, own-type rows only, recomputed whenever a quarter's official versions are settled.
select
    quarter,
    campaign,
    submitter,
    submitter_type,
    form,
    row_key,
    column_id,
    value,
    submission_id,
    received_at
from stored_official_values;

comment on view official_values is '正式数据（长表）：每个单位、每张表、每个季度的正式版本（最新通过版本）的数据，只含本单位类型的行。Official values: the latest accepted version per submitter × form × quarter, own-type rows only. Indicators read this view.';
comment on column official_values.quarter is '季度。Quarter.';
comment on column official_values.campaign is '专项行动年度。Campaign year.';
comment on column official_values.submitter is '报送单位。Submitter.';
comment on column official_values.submitter_type is '单位类型。Submitter type.';
comment on column official_values.form is '表标识。Form id.';
comment on column official_values.row_key is '行标识。Row key.';
comment on column official_values.column_id is '列标识。Column id.';
comment on column official_values.value is '数值。Value.';
comment on column official_values.submission_id is '正式版本的报表版本标识。The official return version.';
comment on column official_values.received_at is '正式版本的收到时间。When the official version was received.';


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

comment on view unit_values is '报送单位（街道、区安委会成员单位）的正式数据，不含办公室汇总表。Official values of 街道 and member departments (the office''s consolidated return excluded); every indicator reads this.';
comment on column unit_values.quarter is '季度。Quarter.';
comment on column unit_values.campaign is '专项行动年度。Campaign year.';
comment on column unit_values.submitter is '报送单位。Submitter.';
comment on column unit_values.submitter_type is '单位类型。Submitter type.';
comment on column unit_values.form is '表标识。Form id.';
comment on column unit_values.row_key is '行标识。Row key.';
comment on column unit_values.column_id is '列标识。Column id.';
comment on column unit_values.value is '数值。Value.';
comment on column unit_values.submission_id is '正式版本的报表版本标识。The official return version.';
comment on column unit_values.received_at is '正式版本的收到时间。When the official version was received.';
