-- reporting_status: is every return the registry says is owed in, on time, late or missing?
-- One row per quarter × submitter × form owed (and per form received though not owed).
--   received  a version was received (whatever its verdict)
--   accepted  an accepted (official) version exists: the return counts as reported
--   on_time   accepted, and the first accepted version arrived by the due date (inclusive)
--   late      accepted, but the first accepted version arrived after the due date
--   missing   owed and no accepted version (nothing received, or only rejected versions)
-- Quarters shown: those that have begun, and any quarter something was received for.
-- Rates follow DHIS2: reporting rate = accepted ÷ expected, on-time rate = on time ÷ expected,
-- here per submitter and quarter; reporting_summary gives them per type and form.
-- 报送情况：应报、已收、按时、逾期、缺报；报送率＝已通过÷应报，及时率＝按时÷应报。

create or replace view reporting_status as
with reporting_quarters as (
    select quarters.quarter, quarters.campaign, deadlines.due_date
    from quarters
    join deadlines on deadlines.quarter = quarters.quarter
    where quarters.quarter_start <= current_date
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

versions as (
    select
        quarter,
        submitter,
        any_value(submitter_type) as submitter_type,
        form,
        count(*) as versions,
        min(received_at) as first_received_at,
        min(received_at) filter (where status = 'accepted') as first_accepted_at,
        arg_min(on_time, received_at) filter (where status = 'accepted') as first_accepted_on_time,
        bool_or(is_official) as has_official
    from submissions
    where submitter is not null and form is not null and quarter is not null
    group by quarter, submitter, form
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
        coalesce(versions.first_accepted_on_time, false) as accepted_on_time
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
        combined.expected,
        combined.versions > 0 as received,
        combined.accepted,
        combined.accepted and combined.accepted_on_time as on_time,
        combined.accepted and not combined.accepted_on_time as late,
        combined.expected and not combined.accepted as missing,
        combined.versions,
        combined.first_received_at,
        combined.first_accepted_at
    from combined
    left join quarters on quarters.quarter = combined.quarter
    left join deadlines on deadlines.quarter = combined.quarter
),

final as (
    select
        *,
        case
            when on_time then '按时报送'
            when late then '逾期报送'
            when received then '已报送未通过'
            when expected then '未报送'
        end as status_label,
        sum(expected::int) over unit as forms_expected,
        sum((expected and accepted)::int) over unit
            / nullif(sum(expected::int) over unit, 0) as reporting_rate,
        sum((expected and on_time)::int) over unit
            / nullif(sum(expected::int) over unit, 0) as on_time_rate
    from flagged
    window unit as (partition by quarter, submitter)
)

select * from final;

comment on view reporting_status is '报送情况：每季度每单位每张应报表（及非应报但收到的表）一行。Reporting completeness and timeliness per quarter × submitter × form.';
comment on column reporting_status.quarter is '季度。Quarter.';
comment on column reporting_status.campaign is '专项行动年度。Campaign year.';
comment on column reporting_status.submitter is '报送单位。Submitter.';
comment on column reporting_status.submitter_type is '单位类型。Submitter type.';
comment on column reporting_status.form is '表标识。Form id.';
comment on column reporting_status.due_date is '报送截止日。Due date.';
comment on column reporting_status.expected is '是否应报（按名录）。Owed per the registry.';
comment on column reporting_status.received is '是否收到过任何版本。Any version received.';
comment on column reporting_status.accepted is '是否有通过的正式版本（计为已报送）。An accepted, official version exists.';
comment on column reporting_status.on_time is '已通过且首个通过版本按时收到。Accepted, first accepted version on time.';
comment on column reporting_status.late is '已通过但首个通过版本逾期收到。Accepted, first accepted version late.';
comment on column reporting_status.missing is '应报但没有通过的版本（未报或仅有被退回版本）。Owed and not accepted.';
comment on column reporting_status.versions is '收到的版本数。Versions received.';
comment on column reporting_status.first_received_at is '首次收到时间。First received.';
comment on column reporting_status.first_accepted_at is '首个通过版本的收到时间。First accepted version received.';
comment on column reporting_status.status_label is '状态：按时报送 / 逾期报送 / 已报送未通过 / 未报送。Status in Chinese.';
comment on column reporting_status.forms_expected is '该单位本季度应报表数。Forms the submitter owes this quarter.';
comment on column reporting_status.reporting_rate is '该单位本季度报送率＝已通过÷应报（0–1）。Submitter''s reporting rate this quarter.';
comment on column reporting_status.on_time_rate is '该单位本季度及时率＝按时÷应报（0–1）。Submitter''s on-time rate this quarter.';


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
        count(*) filter (where received) as received,
        count(*) filter (where accepted) as accepted,
        count(*) filter (where on_time) as on_time,
        count(*) filter (where late) as late,
        count(*) filter (where missing) as missing
    from source
    group by grouping sets ((quarter, campaign, submitter_type, form), (quarter, campaign, submitter_type))
)

select
    *,
    accepted / expected as reporting_rate,
    on_time / expected as on_time_rate
from summary;

comment on view reporting_summary is '报送情况汇总：每季度每单位类型每张表一行，form 为空的行是该类型全部应报表合计。Reporting rates per quarter × type × form (form NULL: all forms).';
comment on column reporting_summary.quarter is '季度。Quarter.';
comment on column reporting_summary.campaign is '专项行动年度。Campaign year.';
comment on column reporting_summary.submitter_type is '单位类型。Submitter type.';
comment on column reporting_summary.form is '表标识；为空表示全部表合计。Form id; NULL for all forms.';
comment on column reporting_summary.expected is '应报份数。Returns owed.';
comment on column reporting_summary.received is '已收到（任何版本）份数。Returns received.';
comment on column reporting_summary.accepted is '已通过份数。Returns accepted.';
comment on column reporting_summary.on_time is '按时份数。On time.';
comment on column reporting_summary.late is '逾期份数。Late.';
comment on column reporting_summary.missing is '缺报份数。Missing.';
comment on column reporting_summary.reporting_rate is '报送率＝已通过÷应报。Reporting rate (DHIS2).';
comment on column reporting_summary.on_time_rate is '及时率＝按时÷应报。On-time rate (DHIS2).';
