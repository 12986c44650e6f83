-- Reference tables: configuration (pipelines/config/*.yaml) copied into the warehouse on every
-- refresh, so that views stay plain SQL and analysts can join to them.
-- 参照表：每次刷新时由配置文件（pipelines/config/*.yaml）重新载入，供视图和分析人员关联使用。

create table if not exists submitter_types (
    submitter_type varchar primary key,
    row_key        varchar,
    forms          varchar[],
    consolidates   boolean
);
comment on table submitter_types is '报送单位类型（submitters.yaml › types）。Submitter types: 街道 (territorial), 区安委会成员单位 (sectoral), and the office, whose consolidated return fills both types'' rows.';
comment on column submitter_types.submitter_type is '单位类型：街道 / 区安委会成员单位 / 区安委会办公室。Submitter type.';
comment on column submitter_types.row_key is '该类型在表一、表三中填报的行（street / dept）；办公室为空。Row key this type fills in 表一/表三.';
comment on column submitter_types.forms is '该类型每季度应报的表（form1…form4）。Forms owed every quarter.';
comment on column submitter_types.consolidates is '是否为全区汇总（办公室），汇总表不参与指标计算。True for the office: its consolidated return is kept out of indicators.';

create table if not exists submitters (
    submitter       varchar primary key,
    code            varchar,
    submitter_type  varchar,
    row_key         varchar,
    forms           varchar[],
    enterprise_base integer,
    old_city        boolean,
    aliases         varchar[],
    email           varchar
);
comment on table submitters is '报送单位名录（submitters.yaml）。The submitters registry: every 街道 and member department, with the forms it owes.';
comment on column submitters.submitter is '单位规范名称，与 submissions.submitter 一致。Canonical name.';
comment on column submitters.code is '单位代码（英文短名）。Short code.';
comment on column submitters.submitter_type is '单位类型（街道 / 区安委会成员单位 / 区安委会办公室）。Submitter type.';
comment on column submitters.row_key is '本单位在表一、表三中填报的行。Row key of its own type.';
comment on column submitters.forms is '本单位每季度应报的表。Forms owed every quarter (reporting_status.expected).';
comment on column submitters.enterprise_base is '2025年企业基数（附件1，仅街道）。2025 enterprise base (街道 only).';
comment on column submitters.old_city is '是否老城区街道（开元、鲤中、海滨、临江）。Old-city subdistrict.';
comment on column submitters.aliases is '可识别的别名（如「常泰街道办事处」）。Aliases recognised in 填报单位.';
comment on column submitters.email is '接收提醒的电子邮箱。E-mail for alerts.';

create table if not exists forms (
    form       varchar primary key,
    number     varchar,
    name       varchar,
    attachment varchar,
    title_key  varchar,
    owed_by    varchar[]
);
comment on table forms is '季报表（表一至表四，config/forms/*.yaml）。The four quarterly forms.';
comment on column forms.form is '表标识：form1 … form4。Form id.';
comment on column forms.number is '表序号：一 … 四。Form number.';
comment on column forms.name is '表名：表一 … 表四。Name as people say it.';
comment on column forms.attachment is '通知中的附件编号（附件4 … 附件7）。Attachment number in the notice.';
comment on column forms.title_key is '标题关键字，如「季报表（一）」。Title key used to recognise the form.';
comment on column forms.owed_by is '应报送该表的单位类型。Submitter types that owe this form.';

create table if not exists form_rows (
    form           varchar,
    row_key        varchar,
    position       integer,
    label          varchar,
    display_label  varchar,
    submitter_type varchar,
    type_key       varchar,
    is_total       boolean,
    is_type_scope  boolean,
    primary key (form, row_key)
);
comment on table form_rows is '各表的数据行。Rows of each form; 表二 also lists the type keys (dept / street) under which its merged, type-scoped columns are stored.';
comment on column form_rows.form is '表标识。Form id.';
comment on column form_rows.row_key is '行标识（如 street、dept、street_city、small_factory、total）。Row key, as in return_values.row_key.';
comment on column form_rows.position is '行在表中的顺序（从 1 起；类型合并行排在最后）。Order in the form.';
comment on column form_rows.label is '行标签（如「街道」「市级」「小餐饮」）。Row label.';
comment on column form_rows.display_label is '带分组的行名（如「街道·市级」）。Label with its group.';
comment on column form_rows.submitter_type is '填报该行的单位类型。Submitter type that fills this row.';
comment on column form_rows.type_key is '所属单位类型的行标识（表二：dept / street；其余表同 row_key）。Type key of the row.';
comment on column form_rows.is_total is '是否为总数行（表四「总数」）。Total row (表四).';
comment on column form_rows.is_type_scope is '是否为类型合并行（表二万岗达标、宣传发动按单位类型合并填报）。Type-scope key of 表二''s merged columns.';

create table if not exists form_columns (
    form          varchar,
    column_id     varchar,
    position      integer,
    label         varchar,
    group_path    varchar,
    display_label varchar,
    unit          varchar,
    kind          varchar,
    window_name   varchar,
    window_label  varchar,
    scope         varchar,
    primary key (form, column_id)
);
comment on table form_columns is '数据字典：各表的列（config/forms/*.yaml）。Data dictionary: every column of every form; column ids are the contract between reader, warehouse and SQL.';
comment on column form_columns.form is '表标识。Form id.';
comment on column form_columns.column_id is '列标识，永不改名。Column id (never renamed).';
comment on column form_columns.position is '列在表中的顺序（从 1 起，不含行标签列）。Order in the form.';
comment on column form_columns.label is '列的中文标签（表头最末一级）。Chinese leaf label.';
comment on column form_columns.group_path is '上级表头，以「 › 」分隔。Header groups above the leaf.';
comment on column form_columns.display_label is '便于阅读的列名（短标签带上一级）。Readable label.';
comment on column form_columns.unit is '单位：家、条、个、家次、人次、场次、万元。Unit.';
comment on column form_columns.kind is 'stock（期末存量）/ cumulative（累计数）/ label（层级标签列，无数据）。Stock, cumulative or label column.';
comment on column form_columns.window_name is '累计口径（calendar.yaml › windows）：stock、campaign、resp_2021、star_2024、venue_2024。Cumulative window.';
comment on column form_columns.window_label is '累计口径的中文说明（如「本年度累计」）。Window label.';
comment on column form_columns.scope is 'row：每行一个值；type：按单位类型合并（表二）。Value scope.';

create table if not exists column_windows (
    campaign     integer,
    form         varchar,
    column_id    varchar,
    window_name  varchar,
    window_start date,
    primary key (campaign, form, column_id)
);
comment on table column_windows is '各专项行动年度中每列的累计起始日期。Start date of each column''s cumulative window per campaign (NULL for stocks); two quarters compare only when the start is the same.';
comment on column column_windows.campaign is '专项行动年度（2025、2026）。Campaign year.';
comment on column column_windows.form is '表标识。Form id.';
comment on column column_windows.column_id is '列标识。Column id.';
comment on column column_windows.window_name is '累计口径。Window name.';
comment on column column_windows.window_start is '累计起始日期；存量列为空。First day counted; NULL for stocks.';

create table if not exists quarters (
    quarter       varchar primary key,
    year          integer,
    q             integer,
    campaign      integer,
    quarter_start date,
    quarter_end   date,
    prev_quarter  varchar,
    label         varchar
);
comment on table quarters is '季度（calendar.yaml 所列季度及台账中出现的季度）。Quarters collected (calendar) and any quarter seen in the ledger.';
comment on column quarters.quarter is '季度，如 2025Q3。Quarter (YYYYQn).';
comment on column quarters.year is '年份。Year.';
comment on column quarters.q is '季度序号 1–4。Quarter of the year.';
comment on column quarters.campaign is '专项行动年度。Campaign year.';
comment on column quarters.quarter_start is '季度首日。First day.';
comment on column quarters.quarter_end is '季度末日。Last day.';
comment on column quarters.prev_quarter is '上一季度。Previous quarter.';
comment on column quarters.label is '中文名称，如「2025年第三季度」。Chinese label.';

create table if not exists deadlines (
    quarter       varchar primary key,
    due_date      date,
    reminder_date date
);
-- Added with the collection-window states; `add column if not exists` upgrades older files.
alter table deadlines add column if not exists on_time_until date;
alter table deadlines add column if not exists on_time_inclusive boolean;
alter table deadlines add column if not exists due_rule varchar;
comment on table deadlines is '报送期限：各专项行动年度的报送规则（calendar.yaml › campaigns.<年度>.due；2025年为每季度首月1日前，2026年按任务清单）。Due dates, the last on-time day and reminder dates per quarter.';
comment on column deadlines.quarter is '季度。Quarter.';
comment on column deadlines.due_date is '报送截止日（规则所称的日期，如「4月1日前」的4月1日）。The date the due rule names.';
comment on column deadlines.reminder_date is '催报提醒日（截止日前 reminder_days_before_due 天）。Reminder date.';
comment on column deadlines.on_time_until is '按时报送的最后一天：截止日当天不算按时时为截止日前一天（calendar.yaml › on_time）。Last day a return is on time; after it the return is due (reporting_status.due).';
comment on column deadlines.on_time_inclusive is '截止日当天收到是否算按时（before：否；on_or_before：是）。Whether the due date itself is on time.';
comment on column deadlines.due_rule is '报送期限的文字表述（如「每季度首月1日前」）。The due rule in words.';

create table if not exists targets (
    campaign  integer,
    submitter varchar,
    measure   varchar,
    target    double,
    primary key (campaign, submitter, measure)
);
comment on table targets is '十百千万引领工程任务数（targets.yaml，附件1），按街道分配。十百千万 targets per 街道.';
comment on column targets.campaign is '专项行动年度。Campaign year.';
comment on column targets.submitter is '街道。Subdistrict.';
comment on column targets.measure is '指标：model_street 样板街道、benchmark_enterprise 标杆企业、reviewed_enterprise 评审达标企业、model_post 达标岗位。Measure.';
comment on column targets.target is '年度任务数。Target for the campaign year.';

create table if not exists target_measures (
    measure   varchar,
    label     varchar,
    unit      varchar,
    form      varchar,
    column_id varchar,
    primary key (measure, column_id)
);
comment on table target_measures is '十百千万指标与表二列的对应关系（各层级相加）。Which 表二 columns count towards each measure (levels summed).';
comment on column target_measures.measure is '指标标识。Measure id.';
comment on column target_measures.label is '指标名称（样板街道、标杆企业、评审达标企业、达标岗位）。Measure label.';
comment on column target_measures.unit is '单位。Unit.';
comment on column target_measures.form is '来源表（form2）。Source form.';
comment on column target_measures.column_id is '来源列。Source column.';

create table if not exists target_pace (
    q    integer primary key,
    pace double
);
comment on table target_pace is '时间进度：季度末已过年度的比例（targets.yaml › pace）。Share of the year elapsed at each quarter''s end.';
comment on column target_pace.q is '季度序号 1–4。Quarter of the year.';
comment on column target_pace.pace is '时间进度（0–1）。Pace (0–1).';

create table if not exists target_status_bands (
    status    varchar primary key,
    min_ratio double
);
comment on table target_status_bands is '进度状态分档：完成比例 ÷ 时间进度 ≥ min_ratio 的最高一档（targets.yaml › status）。Status bands on share ÷ pace.';
comment on column target_status_bands.status is '状态：达到进度 / 略慢于进度 / 落后于进度。Status.';
comment on column target_status_bands.min_ratio is '该档下限（完成比例 ÷ 时间进度）。Lower bound of share ÷ pace.';

create table if not exists district_goals (
    measure varchar primary key,
    goal    double
);
comment on table district_goals is '通知正文中的全区目标（≥）。District headline goals in the notice.';
comment on column district_goals.measure is '指标标识。Measure id.';
comment on column district_goals.goal is '全区目标数（不少于）。Goal (at least).';

create table if not exists scoring_weights (
    component varchar primary key,
    weight    double,
    label     varchar
);
comment on table scoring_weights is '季度绩效评分权重（scoring.yaml），合计 100。Weights of the quarterly performance score.';
comment on column scoring_weights.component is '评分项：timeliness、data_quality、target_pace、hazard_closure、risk_coverage。Component.';
comment on column scoring_weights.weight is '权重（分）。Weight in points.';
comment on column scoring_weights.label is '评分项中文说明。Chinese description.';

create table if not exists explanations (
    quarter      varchar,
    submitter    varchar,
    form         varchar,
    cell_or_rule varchar,
    text         varchar,
    position     integer
);
comment on table explanations is '办公室登记的情况说明（data/raw/<季度>/explanations.csv），相当于强制上报的上报说明：匹配的问题标为 explained，已说明的错误不再退回报表。Explanations the office accepts.';
comment on column explanations.quarter is '季度（说明文件所在的季度文件夹）。Quarter folder of the file.';
comment on column explanations.submitter is '报送单位（规范名称）。Submitter.';
comment on column explanations.form is '表标识（form1…form4）。Form id.';
comment on column explanations.cell_or_rule is '单元格（如 K7）、规则标识（如 cumulative_decrease）或列标识。Cell, rule id or column id the explanation covers.';
comment on column explanations.text is '说明内容。Explanation text.';
comment on column explanations.position is '在说明文件中的行号。Line in explanations.csv.';
