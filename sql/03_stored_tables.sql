-- Stored official figures: the official values and their quarter-on-quarter increments, kept as
-- tables by the loader (pipelines/warehouse/stored.py) instead of being re-derived by every view.
-- They are recomputed at load for the quarters whose official versions were settled (and, for
-- increments, the quarter after each: its increment reads the previous quarter's values), and
-- rebuilt whole when the configuration they depend on changes. Analysts read them through the
-- views official_values, unit_values and new_activity.
-- 正式数据与季度增量表：入库时维护，指标视图直接读取，不再每次由台账重新推导。

create table if not exists stored_official_values (
    quarter        varchar,
    campaign       integer,
    submitter      varchar,
    submitter_type varchar,
    form           varchar,
    row_key        varchar,
    column_id      varchar,
    value          double,
    submission_id  bigint,
    received_at    timestamp
);
comment on table stored_official_values is '正式数据（入库时维护）：每个单位、每张表、每个季度正式版本的数据，只含本单位类型的行；请通过视图 official_values / unit_values 查询。Official values, maintained at load (read them through official_values or unit_values).';
comment on column stored_official_values.quarter is '季度。Quarter.';
comment on column stored_official_values.campaign is '专项行动年度。Campaign year.';
comment on column stored_official_values.submitter is '报送单位。Submitter.';
comment on column stored_official_values.submitter_type is '单位类型。Submitter type.';
comment on column stored_official_values.form is '表标识。Form id.';
comment on column stored_official_values.row_key is '行标识。Row key.';
comment on column stored_official_values.column_id is '列标识。Column id.';
comment on column stored_official_values.value is '数值。Value.';
comment on column stored_official_values.submission_id is '正式版本的报表版本标识。The official return version.';
comment on column stored_official_values.received_at is '正式版本的收到时间。When the official version was received.';

create table if not exists stored_increments (
    quarter        varchar,
    campaign       integer,
    submitter      varchar,
    submitter_type varchar,
    form           varchar,
    row_key        varchar,
    column_id      varchar,
    window_name    varchar,
    window_start   date,
    value          double,
    prev_quarter   varchar,
    prev_value     double,
    basis          varchar,
    new_value      double,
    submission_id  bigint
);
comment on table stored_increments is '累计列的本季度新增（入库时维护）：每个正式累计数一行，附上季度同口径累计数与新增；请通过视图 new_activity 查询。Quarter-on-quarter increments of every official cumulative value, maintained at load (read them through new_activity).';
comment on column stored_increments.quarter is '季度。Quarter.';
comment on column stored_increments.campaign is '专项行动年度。Campaign year.';
comment on column stored_increments.submitter is '报送单位。Submitter.';
comment on column stored_increments.submitter_type is '单位类型。Submitter type.';
comment on column stored_increments.form is '表标识。Form id.';
comment on column stored_increments.row_key is '行标识。Row key.';
comment on column stored_increments.column_id is '列标识。Column id.';
comment on column stored_increments.window_name is '累计口径。Cumulative window.';
comment on column stored_increments.window_start is '累计起算日。First day the column counts from.';
comment on column stored_increments.value is '本季度累计数。Cumulative value this quarter.';
comment on column stored_increments.prev_quarter is '上一季度。Previous quarter.';
comment on column stored_increments.prev_value is '上季度累计数（同一口径；跨口径或无上季度正式数据时为空）。Previous cumulative value, same window.';
comment on column stored_increments.basis is 'difference：本季−上季；window_start：口径本季度起算，取本季累计数；空：无法计算。How new_value was obtained.';
comment on column stored_increments.new_value is '本季度新增；无法计算时为空。New this quarter; NULL when unknown.';
comment on column stored_increments.submission_id is '正式版本的报表版本标识。The official return version.';

create table if not exists stored_state (
    name        varchar primary key,
    fingerprint varchar
);
comment on table stored_state is '正式数据表所依据的参照配置指纹；配置（表的行、单位类型、累计口径）改变时全部重算。Fingerprint of the reference tables the stored figures depend on: when it changes they are rebuilt whole.';
comment on column stored_state.name is '名称。Name.';
comment on column stored_state.fingerprint is '指纹。Fingerprint.';
