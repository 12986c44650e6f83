-- The ledger: every file received, every return found in it, its values and its issues.
-- Nothing is ever deleted: a resubmission adds a version and the newest accepted one is official.
-- 台账：收到的每个文件、文件中识别出的每张报表及其数据和问题。重报只新增版本，从不删除。

create table if not exists submissions (
    submission_id      bigint primary key,
    sha256             varchar not null,
    original_path      varchar,
    original_name      varchar,
    archive_path       varchar,
    received_at        timestamp,
    received_at_source varchar,
    submitter          varchar,
    submitter_type     varchar,
    form               varchar,
    quarter            varchar,
    campaign           integer,
    sheet              varchar,
    validated_status   varchar check (validated_status in ('accepted', 'rejected', 'unreadable')),
    status             varchar check (status in ('accepted', 'rejected', 'unreadable')),
    is_official        boolean,
    superseded_by      bigint,
    reason             varchar,
    on_time            boolean,
    submitter_text     varchar,
    filled_by          varchar,
    phone              varchar,
    header_date        date,
    file_format        varchar
);
comment on table submissions is '报送台账：每个收到的文件版本中识别出的每张报表一行（文件 × 工作表 × 表）；未识别出报表的文件一行、form 为空。The ledger: one row per return found in a received file version; a file with none found has one row with form NULL.';
comment on column submissions.submission_id is '报表版本标识，由文件内容哈希、工作表名和表标识确定，重复入库不变。Return id, derived from (sha256, sheet, form): stable across re-runs.';
comment on column submissions.sha256 is '文件内容的 SHA-256。Content hash of the file.';
comment on column submissions.original_path is '首次收到时的文件路径（相对 JIBAO_HOME）。Path where the file was first received.';
comment on column submissions.original_name is '原文件名。Original file name.';
comment on column submissions.archive_path is '归档副本路径：data/archive/<sha256>.<扩展名>。Archived copy, named by content hash.';
comment on column submissions.received_at is '收到时间：received.csv 所载时间，否则为管道首次见到该文件内容的时间。Received time: received.csv, else the first time the pipeline saw the content.';
comment on column submissions.received_at_source is 'received_at 的来源：received.csv 或 first_seen。Where received_at comes from.';
comment on column submissions.submitter is '报送单位（规范名称）；无法识别时为空。Submitter (canonical), NULL if unresolved.';
comment on column submissions.submitter_type is '报送单位类型。Submitter type.';
comment on column submissions.form is '表标识 form1…form4；文件中未识别出报表时为空。Form id, NULL when no form was found.';
comment on column submissions.quarter is '报送季度（YYYYQn）。Quarter reported on.';
comment on column submissions.campaign is '专项行动年度。Campaign year.';
comment on column submissions.sheet is '工作表名称。Sheet name.';
comment on column submissions.validated_status is '格式与逻辑校验（入库前）的结论。Front-door verdict before history rules and explanations.';
comment on column submissions.status is '最终结论：accepted 通过 / rejected 退回 / unreadable 无法读取（含历史比对与情况说明）。Final status after history rules and explanations.';
comment on column submissions.is_official is '是否为该单位该表该季度的正式版本（最新通过的版本）。Official version: the latest accepted one per submitter × form × quarter.';
comment on column submissions.superseded_by is '替代本版本的较新通过版本。The newer accepted version that replaced this one.';
comment on column submissions.reason is '结论说明（中文摘要）。Chinese summary of the verdict.';
comment on column submissions.on_time is '是否在截止日前（含当日）收到。Received by the due date.';
comment on column submissions.submitter_text is '表头「填报单位」原文。填报单位 as written.';
comment on column submissions.filled_by is '填表人。Person who filled the form.';
comment on column submissions.phone is '联系电话。Phone.';
comment on column submissions.header_date is '表头填报日期。Date on the header line.';
comment on column submissions.file_format is '文件格式（xlsx、xls、et、csv …）。File format.';
-- Added with the upload page and the mailbox; `add column if not exists` upgrades older files.
alter table submissions add column if not exists channel varchar;
alter table submissions add column if not exists received_by varchar;
alter table submissions add column if not exists message_id varchar;
comment on column submissions.channel is '收到渠道：folder 报送文件夹 / upload 网页上传 / mail 电子邮件。How the file reached the office.';
comment on column submissions.received_by is '上传账号或发件人邮箱；报送文件夹收到的为空。Uploader account or sender address.';
comment on column submissions.message_id is '电子邮件的 Message-ID（邮件收到的文件）。Message-ID of the e-mail it came in.';
-- Added with the office's decisions (pipelines/warehouse/official.py sets them from office_actions).
alter table submissions add column if not exists sent_back boolean;
alter table submissions add column if not exists received_after_lock boolean;
comment on column submissions.sent_back is '办公室已退回该版本（退回待重报）：不再作为正式版本，此前的版本也不会自动恢复为正式版本。Sent back by the office.';
comment on column submissions.received_after_lock is '锁定后收到：该版本在季度审核锁定之后收到，重新开放前不采用、不改变正式数据。Arrived after the quarter was closed; not taken into account until it is reopened.';

create table if not exists return_values (
    submission_id bigint,
    row_key       varchar,
    column_id     varchar,
    value         double,
    cell          varchar
);
comment on table return_values is '报表数据（长表）：每个报表版本的每个单元格一行。Values of every return version, one row per cell; see official_values for the official ones and form1_values … form4_values for wide views.';
comment on column return_values.submission_id is '报表版本标识（submissions.submission_id）。Return version.';
comment on column return_values.row_key is '行标识（form_rows.row_key）。Row key.';
comment on column return_values.column_id is '列标识（form_columns.column_id）。Column id.';
comment on column return_values.value is '数值；计数为整数，金额（万元）为小数；仅被退回报表的错误单元格可为空。Value; NULL only for a bad cell of a rejected return.';
comment on column return_values.cell is '单元格位置（A1 格式），便于对照原表。A1 reference on the sheet.';

create table if not exists validation_issues (
    issue_id               bigint primary key,
    submission_id          bigint,
    seq                    integer,
    source                 varchar check (source in ('validate', 'history')),
    severity               varchar check (severity in ('error', 'warning')),
    rule                   varchar,
    cell                   varchar,
    row_key                varchar,
    column_id              varchar,
    message                varchar,
    value                  varchar,
    status                 varchar check (status in ('open', 'resolved', 'explained')),
    resolved_by_submission bigint,
    explanation            varchar
);
comment on table validation_issues is '校验问题：格式、逻辑和历史比对发现的错误（error，退回）与提示（warning，需确认）。Issues found by validation and history rules.';
comment on column validation_issues.issue_id is '问题标识（由报表版本、规则、单元格确定，重复入库不变）。Stable issue id.';
comment on column validation_issues.submission_id is '报表版本标识。Return version.';
comment on column validation_issues.seq is '问题在该报表中的顺序。Order within the return.';
comment on column validation_issues.source is 'validate：入库前校验；history：与以往季度比对。Where the issue comes from.';
comment on column validation_issues.severity is 'error 错误（退回）/ warning 提示（请确认）。Severity.';
comment on column validation_issues.rule is '规则标识（如 blank、form1.fixed_le_found、cumulative_decrease）。Rule id.';
comment on column validation_issues.cell is '单元格位置（A1）。A1 reference.';
comment on column validation_issues.row_key is '行标识。Row key.';
comment on column validation_issues.column_id is '列标识。Column id.';
comment on column validation_issues.message is '中文问题说明，告诉填报人如何更正。Chinese, actionable message.';
comment on column validation_issues.value is '发现的原值（文本）。Value found, as text.';
comment on column validation_issues.status is 'open 待处理 / resolved 已由新版本解决 / explained 已说明。Issue status.';
comment on column validation_issues.resolved_by_submission is '解决该问题的较新版本。The newer accepted version that resolved it.';
comment on column validation_issues.explanation is '办公室登记的情况说明（explanations.csv）。Explanation accepted by the office.';
