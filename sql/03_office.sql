-- The office's decisions and the collection window: the office journal (data/office/journal.jsonl)
-- copied into the warehouse at every load, the lock state of each quarter, the states a return
-- owed can be in, and the day the views count deadlines from.
-- 办公室决定与报送期：办公室操作记录（每次入库时由 data/office/journal.jsonl 载入）、各季度审核锁定状态、
-- 应报表的报送状态，以及视图计算截止日所依据的日期。

-- as_of_date(): "today" for every view that depends on it (reporting_status.due, its states).
-- Analysts get the office's current date (Asia/Shanghai, as pipelines/clock.py: the same day
-- whatever zone the server or the analyst's laptop is set to); a session can look at the window
-- as of another day with
--   set variable jibao_today = date '2026-04-15';
-- (the pipeline and the tests set it from their `today`; `reset variable jibao_today` undoes it).
create or replace macro as_of_date() as
    coalesce(try_cast(getvariable('jibao_today') as date), (now() at time zone 'Asia/Shanghai')::date);

create table if not exists office_actions (
    action_id    varchar primary key,
    seq          integer,
    acted_at     timestamp,
    actor        varchar,
    action       varchar check (action in ('accept', 'send_back', 'close', 'reopen')),
    action_label varchar,
    quarter      varchar,
    submitter    varchar,
    form         varchar,
    target       varchar,
    reason       varchar,
    source       varchar
);
comment on table office_actions is '办公室决定记录（强制上报、退回、审核锁定、重新开放），每次入库时由办公室操作日志 data/office/journal.jsonl 整体载入；日志只追加、不改写。The office journal: every decision with who and when.';
comment on column office_actions.action_id is '决定标识。Action id.';
comment on column office_actions.seq is '在操作日志中的顺序（从 1 起）。Order in the journal.';
comment on column office_actions.acted_at is '决定时间。When it was decided.';
comment on column office_actions.actor is '决定人（登录账号、命令行用户或 explanations.csv）。Who decided.';
comment on column office_actions.action is 'accept 强制上报 / send_back 退回 / close 审核锁定 / reopen 重新开放。Action.';
comment on column office_actions.action_label is '决定的中文名称。Action in Chinese.';
comment on column office_actions.quarter is '季度。Quarter.';
comment on column office_actions.submitter is '报送单位（锁定与重新开放为空）。Submitter.';
comment on column office_actions.form is '表标识（锁定与重新开放为空）。Form id.';
comment on column office_actions.target is '对象：强制上报为单元格（如 K7）或规则标识，退回为报表版本标识（submissions.submission_id）。Cell or rule explained; submission sent back.';
comment on column office_actions.reason is '情况说明或理由。Explanation or reason.';
comment on column office_actions.source is '来源：office 办公室操作 / explanations.csv 情况说明文件导入。Where the decision came from.';

-- quarter_locks: the lock state of every quarter the office ever closed or reopened (the latest
-- close/reopen decides). A quarter without a row is open.
create or replace view quarter_locks as
with events as (
    select
        quarter,
        action,
        acted_at,
        actor,
        reason,
        row_number() over (partition by quarter order by seq desc) as latest
    from office_actions
    where action in ('close', 'reopen')
)

select
    quarter,
    action = 'close' as locked,
    acted_at as changed_at,
    actor as changed_by,
    reason
from events
where latest = 1;

comment on view quarter_locks is '各季度审核锁定状态（最近一次锁定或重新开放为准）；无记录的季度为未锁定。Lock state per quarter.';
comment on column quarter_locks.quarter is '季度。Quarter.';
comment on column quarter_locks.locked is '是否审核锁定：锁定后收到的报表只归档，不改变正式数据。Locked.';
comment on column quarter_locks.changed_at is '最近一次锁定或重新开放的时间。When the state last changed.';
comment on column quarter_locks.changed_by is '操作人。Who changed it.';
comment on column quarter_locks.reason is '理由。Reason.';

create table if not exists reporting_states (
    state    varchar primary key,
    label    varchar,
    position integer
);
comment on table reporting_states is '应报表的报送状态及中文名称（calendar.yaml › collection.states）。States of a return owed, in order.';
comment on column reporting_states.state is 'not_due 未到期 / on_time 按时报送 / late 逾期报送 / sent_back 退回待重报 / missing 未报送。State.';
comment on column reporting_states.label is '中文名称。Label.';
comment on column reporting_states.position is '显示顺序。Display order.';
