-- reporting_status: where does every return the registry says is owed stand in its collection window?
-- One row per quarter × submitter × form owed (and per form received though not owed).
--   state     not_due    未到期      the last on-time day has not passed and nothing is accepted yet
--             on_time    按时报送    accepted; the first accepted version arrived on time
--             late       逾期报送    accepted; the first accepted version arrived after the last on-time day
--             sent_back  退回待重报  nothing accepted and the latest version was rejected by validation
--                                    or sent back by the office (due or not)
--             missing    未报送      the last on-time day has passed and nothing was received
--   due       the last on-time day (deadlines.on_time_until) is before as_of_date(): the return is owed now
--   missing   owed, due and not accepted (state missing or sent_back): the shortfall of the rates
--   received_after_lock  a version arrived after the office closed the quarter (锁定后收到); it is
--             kept but not taken into account until the quarter is reopened
-- "Today" is as_of_date() (sql/03_office.sql): the current date, or the session's jibao_today.
-- A version the office sent back no longer counts, and the versions before it do not count again:
-- only a version received after it can become official (and its arrival decides on time / late).
-- Quarters shown: those that have begun by as_of_date(), and any quarter something was received for.
-- Rates follow DHIS2, over the returns that are due only: reporting rate = accepted ÷ due,
-- on-time rate = on time ÷ due (NULL while nothing is due yet); reporting_summary per type and form.
-- 报送情况：未到期、按时报送、逾期报送、退回待重报、未报送；报送率＝已采用÷已到期应报，及时率＝按时÷已到期应报。

create or replace view reporting_status as
with reporting_quarters as (
    select quarters.quarter, quarters.campaign, deadlines.due_date
    from quarters
    join deadlines on deadlines.quarter = quarters.quarter
    where quarters.quarter_start <= as_of_date()
        or quarters.quarter in (select quarter from submissions)
),

owed as (
    select
        reporting_quarters.quarter,
        submitters.submitter,
        submitters.submitter_type,
        unnest(submitters.forms) as form
    from reporting_quarters
    cross join submitters
),

attributed as (
    select
        *,
        coalesce(sent_back, false) as is_sent_back,
        coalesce(received_after_lock, false) as is_held
    from submissions
    where submitter is not null and form is not null and quarter is not null
),

barriers as (
    -- the latest version the office sent back: nothing received before it counts again
    select quarter, submitter, form, max((received_at, submission_id)) as last_sent_back
    from attributed
    where is_sent_back
    group by quarter, submitter, form
),

versions as (
    select
        a.quarter,
        a.submitter,
        any_value(a.submitter_type) as submitter_type,
        a.form,
        count(*) as versions,
        min(a.received_at) as first_received_at,
        min(a.received_at) filter (where a.counts) as first_accepted_at,
        arg_min(a.on_time, a.received_at) filter (where a.counts) as first_accepted_on_time,
        arg_max(a.status, (a.received_at, a.submission_id)) filter (where not a.is_held)
            as latest_status,
        bool_or(a.is_official) as has_official,
        bool_or(a.is_held) as received_after_lock
    from (
        select
            attributed.*,
            attributed.status = 'accepted' and not attributed.is_held
            and (
                barriers.last_sent_back is null
                or (attributed.received_at, attributed.submission_id) > barriers.last_sent_back
            ) as counts
        from attributed
        left join barriers using (quarter, submitter, form)
    ) as a
    group by a.quarter, a.submitter, a.form
),

combined as (
    select
        coalesce(owed.quarter, versions.quarter) as quarter,
        coalesce(owed.submitter, versions.submitter) as submitter,
        coalesce(owed.submitter_type, versions.submitter_type) as submitter_type,
        coalesce(owed.form, versions.form) as form,
        owed.form is not null as expected,
        coalesce(versions.versions, 0) as versions,
        versions.first_received_at,
        versions.first_accepted_at,
        coalesce(versions.has_official, false) as accepted,
        coalesce(versions.first_accepted_on_time, false) as accepted_on_time,
        versions.latest_status,
        coalesce(versions.received_after_lock, false) as received_after_lock
    from owed
    full outer join versions
        on versions.quarter = owed.quarter
        and versions.submitter = owed.submitter
        and versions.form = owed.form
),

flagged as (
    select
        combined.quarter,
        quarters.campaign,
        combined.submitter,
        combined.submitter_type,
        combined.form,
        deadlines.due_date,
        deadlines.on_time_until,
        coalesce(as_of_date() > deadlines.on_time_until, true) as due,
        case
            when combined.accepted and combined.accepted_on_time then 'on_time'
            when combined.accepted then 'late'
            when combined.latest_status = 'rejected' then 'sent_back'
            when coalesce(as_of_date() > deadlines.on_time_until, true) then 'missing'
            else 'not_due'
        end as state,
        combined.expected,
        combined.versions > 0 as received,
        combined.accepted,
        combined.received_after_lock,
        combined.versions,
        combined.first_received_at,
        combined.first_accepted_at
    from combined
    left join quarters on quarters.quarter = combined.quarter
    left join deadlines on deadlines.quarter = combined.quarter
),

final as (
    select
        flagged.quarter,
        flagged.campaign,
        flagged.submitter,
        flagged.submitter_type,
        flagged.form,
        flagged.due_date,
        flagged.on_time_until,
        flagged.due,
        flagged.state,
        reporting_states.label as state_label,
        flagged.expected,
        flagged.received,
        flagged.accepted,
        flagged.state = 'on_time' as on_time,
        flagged.state = 'late' as late,
        flagged.state = 'sent_back' as sent_back,
        flagged.expected and flagged.due and not flagged.accepted as missing,
        flagged.received_after_lock,
        flagged.versions,
        flagged.first_received_at,
        flagged.first_accepted_at,
        reporting_states.label as status_label,
        sum(flagged.expected::int) over unit as forms_expected,
        sum((flagged.expected and flagged.due)::int) over unit as forms_due,
        sum((flagged.expected and flagged.due and flagged.accepted)::int) over unit
            / nullif(sum((flagged.expected and flagged.due)::int) over unit, 0) as reporting_rate,
        sum((flagged.expected and flagged.due and flagged.state = 'on_time')::int) over unit
            / nullif(sum((flagged.expected and flagged.due)::int) over unit, 0) as on_time_rate
    from flagged
    left join reporting_states on reporting_states.state = flagged.state
    window unit as (partition by flagged.quarter, flagged.submitter)
)

select * from final;

comment on view reporting_status is '报送情况：每季度每单位每张应报表（及非应报但收到的表）一行，含报送状态（未到期、按时报送、逾期报送、退回待重报、未报送）。Where each return owed stands in its collection window, per quarter × submitter × form.';
comment on column reporting_status.quarter is '季度。Quarter.';
comment on column reporting_status.campaign is '专项行动年度。Campaign year.';
comment on column reporting_status.submitter is '报送单位。Submitter.';
comment on column reporting_status.submitter_type is '单位类型。Submitter type.';
comment on column reporting_status.form is '表标识。Form id.';
comment on column reporting_status.due_date is '报送截止日（规则所称日期）。Due date.';
comment on column reporting_status.on_time_until is '按时报送的最后一天。Last on-time day.';
comment on column reporting_status.due is '是否已到期：按时报送的最后一天已过（按 as_of_date()，默认今天）；报送率、及时率只统计已到期的表。Due: the last on-time day has passed; rates count only due returns.';
comment on column reporting_status.state is '报送状态：not_due / on_time / late / sent_back / missing。State in the collection window.';
comment on column reporting_status.state_label is '报送状态中文：未到期 / 按时报送 / 逾期报送 / 退回待重报 / 未报送（reporting_states）。State in Chinese.';
comment on column reporting_status.expected is '是否应报（按名录）。Owed per the registry.';
comment on column reporting_status.received is '是否收到过任何版本（含锁定后收到的）。Any version received.';
comment on column reporting_status.accepted is '是否有采用的正式版本（计为已报送）。An official version exists.';
comment on column reporting_status.on_time is '已采用且首个计入的通过版本按时收到（state = on_time）。Accepted, on time.';
comment on column reporting_status.late is '已采用但首个计入的通过版本逾期收到（state = late）。Accepted, late.';
comment on column reporting_status.sent_back is '退回待重报：最新版本未通过校验或被办公室退回，尚无正式版本（state = sent_back）。Latest version rejected or sent back.';
comment on column reporting_status.missing is '应报、已到期而没有正式版本（未报送或退回待重报）：报送率的缺口。Owed, due and not accepted.';
comment on column reporting_status.received_after_lock is '锁定后收到：季度审核锁定后收到了新版本，重新开放前不采用。A version arrived after the quarter was closed.';
comment on column reporting_status.versions is '收到的版本数。Versions received.';
comment on column reporting_status.first_received_at is '首次收到时间。First received.';
comment on column reporting_status.first_accepted_at is '首个计入的通过版本的收到时间（办公室退回的版本及其之前的版本不计）。First counted accepted version received.';
comment on column reporting_status.status_label is '同 state_label（保留旧列名）。Same as state_label (kept for older queries).';
comment on column reporting_status.forms_expected is '该单位本季度应报表数。Forms the submitter owes this quarter.';
comment on column reporting_status.forms_due is '该单位本季度已到期的应报表数。Forms owed and due.';
comment on column reporting_status.reporting_rate is '该单位本季度报送率＝已采用÷已到期应报（0–1；尚无到期时为空）。Submitter''s reporting rate over due returns.';
comment on column reporting_status.on_time_rate is '该单位本季度及时率＝按时÷已到期应报（0–1；尚无到期时为空）。Submitter''s on-time rate over due returns.';


-- reporting_summary: the same per quarter × submitter type × form, and per quarter × type over
-- all forms (form NULL). Only returns that are owed count. Types are never added together.
-- 报送情况汇总：按季度、单位类型、表统计（form 为空表示全部表）。

create or replace view reporting_summary as
with source as (
    select * from reporting_status where expected
),

summary as (
    select
        quarter,
        campaign,
        submitter_type,
        form,
        count(*) as expected,
        count(*) filter (where due) as due,
        count(*) filter (where received) as received,
        count(*) filter (where accepted) as accepted,
        count(*) filter (where on_time) as on_time,
        count(*) filter (where late) as late,
        count(*) filter (where sent_back) as sent_back,
        count(*) filter (where missing) as missing,
        count(*) filter (where state = 'not_due') as not_due,
        count(*) filter (where received_after_lock) as received_after_lock,
        count(*) filter (where due and accepted) as due_accepted,
        count(*) filter (where due and on_time) as due_on_time
    from source
    group by grouping sets ((quarter, campaign, submitter_type, form), (quarter, campaign, submitter_type))
)

select
    quarter,
    campaign,
    submitter_type,
    form,
    expected,
    due,
    received,
    accepted,
    on_time,
    late,
    sent_back,
    missing,
    not_due,
    received_after_lock,
    due_accepted / nullif(due, 0) as reporting_rate,
    due_on_time / nullif(due, 0) as on_time_rate
from summary;

comment on view reporting_summary is '报送情况汇总：每季度每单位类型每张表一行，form 为空的行是该类型全部应报表合计；报送率、及时率只统计已到期的表。Reporting per quarter × type × form (form NULL: all forms); rates over due returns only.';
comment on column reporting_summary.quarter is '季度。Quarter.';
comment on column reporting_summary.campaign is '专项行动年度。Campaign year.';
comment on column reporting_summary.submitter_type is '单位类型。Submitter type.';
comment on column reporting_summary.form is '表标识；为空表示全部表合计。Form id; NULL for all forms.';
comment on column reporting_summary.expected is '应报份数（含未到期）。Returns owed, due or not.';
comment on column reporting_summary.due is '已到期的应报份数（报送率的分母）。Returns owed and due: the rates'' denominator.';
comment on column reporting_summary.received is '已收到（任何版本）份数。Returns received.';
comment on column reporting_summary.accepted is '已采用份数（含到期前已采用的）。Returns accepted.';
comment on column reporting_summary.on_time is '按时份数。On time.';
comment on column reporting_summary.late is '逾期份数。Late.';
comment on column reporting_summary.sent_back is '退回待重报份数。Sent back or rejected, awaiting a new version.';
comment on column reporting_summary.missing is '已到期未采用份数（未报送与退回待重报）。Due and not accepted.';
comment on column reporting_summary.not_due is '未到期份数。Not yet due.';
comment on column reporting_summary.received_after_lock is '锁定后收到新版本的份数。Returns with a version received after the quarter was closed.';
comment on column reporting_summary.reporting_rate is '报送率＝已到期且已采用÷已到期应报；尚无到期时为空。Reporting rate (DHIS2) over due returns.';
comment on column reporting_summary.on_time_rate is '及时率＝按时÷已到期应报；尚无到期时为空。On-time rate (DHIS2) over due returns.';
