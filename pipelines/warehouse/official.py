"""Which version counts: verdicts, official flags, superseding and issue resolution.

Recomputed from scratch for every quarter a load touches, so the result depends only on what is
in the ledger and the office journal (office_actions, explanations), never on the order files
were loaded in:

1. issue statuses reset to open, then explanations applied (explained) — only issues of rules
   config/rules.yaml marks explainable, whatever an explanation names;
2. the office's flags: `sent_back` for the versions the office sent back, `received_after_lock`
   for versions received after the close of a quarter that is still closed (quarter_locks);
3. a return is rejected while it has an error that is not explained (or the front door rejected
   it without saying why) or the office sent it back, unreadable stays unreadable, otherwise
   accepted;
4. per submitter × form × quarter the latest accepted version (received_at, then id) is official
   — among the versions received after the latest one sent back (those before it never become
   official again by themselves: the submitter sends a new one) and not held by a lock;
   every earlier version points to the next accepted (or sent-back) one received after it
   (superseded_by) — a rejected version never supersedes anything, nor does a held one;
5. open issues of superseded versions become resolved by that newer version;
6. reasons are rewritten.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from pipelines.warehouse import explanations, stored


def _scope(alias: str = "submissions") -> str:
    """Submissions in scope: the quarters touched, plus the batch (files without a quarter)."""
    return (
        f"({alias}.quarter in (select quarter from scope_quarters)"
        f" or {alias}.submission_id in (select submission_id from load_batch))"
    )


def settle(con: duckdb.DuckDBPyConnection, quarters: Iterable[str]) -> None:
    """Recompute verdicts and official versions for `quarters` (and the rows in load_batch)."""
    qs = sorted({q for q in quarters if q})
    con.execute("create or replace temp table scope_quarters (quarter varchar)")
    if qs:
        con.executemany("insert into scope_quarters values (?)", [[q] for q in qs])
    con.execute(
        f"""
        update validation_issues
        set status = 'open', explanation = null, resolved_by_submission = null
        where status <> 'open'
            and submission_id in (select submission_id from submissions where {_scope()})
        """
    )
    explanations.apply(con, qs)
    _office_flags(con)
    _verdicts(con)
    _official(con)
    _resolve(con)
    _reasons(con)
    stored.refresh(con, qs)  # the official figures the views read (pipelines/warehouse/stored.py)


def _office_flags(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""
        update submissions
        set
            sent_back = submissions.submission_id in (
                select try_cast(target as bigint) from office_actions where action = 'send_back'
            ),
            received_after_lock = coalesce(
                submissions.received_at > (
                    select changed_at from quarter_locks
                    where quarter_locks.quarter = submissions.quarter and quarter_locks.locked
                ),
                false
            )
        where {_scope()}
        """
    )


def _verdicts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""
        update submissions
        set status = case
            when submissions.validated_status = 'unreadable' then 'unreadable'
            when submissions.sent_back then 'rejected'
            when counts.open_errors > 0 then 'rejected'
            when submissions.validated_status = 'rejected' and counts.errors = 0 then 'rejected'
            else 'accepted'
        end
        from (
            select
                submissions.submission_id,
                count(issues.issue_id) filter (where issues.severity = 'error') as errors,
                count(issues.issue_id) filter (
                    where issues.severity = 'error' and issues.status <> 'explained'
                ) as open_errors
            from submissions
            left join validation_issues as issues on issues.submission_id = submissions.submission_id
            where {_scope()}
            group by submissions.submission_id
        ) as counts
        where submissions.submission_id = counts.submission_id
        """
    )


def _official(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"update submissions set is_official = false, superseded_by = null where {_scope()}"
    )
    con.execute(
        f"""
        update submissions
        set is_official = true
        from (
            select max_by(s.submission_id, (s.received_at, s.submission_id)) as submission_id
            from submissions as s
            left join (
                select submitter, form, quarter, max((received_at, submission_id)) as barrier
                from submissions
                where sent_back
                group by submitter, form, quarter
            ) as back using (submitter, form, quarter)
            where s.status = 'accepted' and not s.received_after_lock
                and (back.barrier is null or (s.received_at, s.submission_id) > back.barrier)
                and s.submitter is not null and s.form is not null and s.quarter is not null
                and {_scope("s")}
            group by s.submitter, s.form, s.quarter
        ) as latest
        where submissions.submission_id = latest.submission_id
        """
    )
    con.execute(
        """
        update submissions
        set superseded_by = successor.next_id
        from (
            select
                older.submission_id,
                min_by(newer.submission_id, (newer.received_at, newer.submission_id)) as next_id
            from submissions as older
            join submissions as newer
                on newer.submitter = older.submitter
                and newer.form = older.form
                and newer.quarter = older.quarter
                and (newer.status = 'accepted' or newer.sent_back)
                and not newer.received_after_lock
                and (
                    newer.received_at > older.received_at
                    or (newer.received_at = older.received_at and newer.submission_id > older.submission_id)
                )
            where older.quarter in (select quarter from scope_quarters)
            group by older.submission_id
        ) as successor
        where submissions.submission_id = successor.submission_id
        """
    )


def _resolve(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""
        update validation_issues
        set status = 'resolved', resolved_by_submission = submissions.superseded_by
        from submissions
        where validation_issues.submission_id = submissions.submission_id
            and validation_issues.status = 'open'
            and submissions.superseded_by is not null
            and {_scope()}
        """
    )


def _reasons(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""
        update submissions
        set reason = case
            when submissions.status = 'unreadable'
                then '无法读取：' || coalesce(counts.first_error, '未返回校验结果')
            when submissions.sent_back
                then '办公室退回：' || coalesce(counts.back_reason, '') || '（' || coalesce(counts.back_actor, '')
                    || ' ' || coalesce(strftime(counts.back_at, '%Y-%m-%d %H:%M'), '') || '），请重新报送'
            when submissions.status = 'rejected' and submissions.superseded_by is not null
                then '未通过校验，已被 ' || strftime(counts.successor_received_at, '%Y-%m-%d %H:%M')
                    || ' 收到的新版本替代'
            when submissions.status = 'rejected'
                then case when submissions.received_after_lock then '审核锁定后收到，重新开放前不采用；' else '' end
                    || '退回：' || counts.open_errors || ' 处错误未解决。' || coalesce(counts.first_error, '')
            when submissions.superseded_by is not null
                then '已被 ' || strftime(counts.successor_received_at, '%Y-%m-%d %H:%M') || ' 收到的新版本替代'
            when submissions.received_after_lock
                then '审核锁定后收到，重新开放前不采用（校验通过）'
            when not submissions.is_official
                then '通过校验，但未采用：办公室已退回本季度该表，请报送新版本'
            else '通过，已采用'
                || case when counts.open_warnings > 0 then '；' || counts.open_warnings || ' 条提示待确认' else '' end
                || case when counts.explained > 0 then '；' || counts.explained || ' 项已说明' else '' end
        end
        from (
            select
                submissions.submission_id,
                count(issues.issue_id) filter (
                    where issues.severity = 'error' and issues.status = 'open'
                ) as open_errors,
                count(issues.issue_id) filter (
                    where issues.severity = 'warning' and issues.status = 'open'
                ) as open_warnings,
                count(issues.issue_id) filter (where issues.status = 'explained') as explained,
                min_by(issues.message, issues.seq) filter (
                    where issues.severity = 'error' and issues.status = 'open'
                ) as first_error,
                any_value(successor.received_at) as successor_received_at,
                any_value(back.reason) as back_reason,
                any_value(back.actor) as back_actor,
                any_value(back.acted_at) as back_at
            from submissions
            left join validation_issues as issues on issues.submission_id = submissions.submission_id
            left join submissions as successor on successor.submission_id = submissions.superseded_by
            left join (
                select try_cast(target as bigint) as submission_id,
                    arg_max(reason, seq) as reason, arg_max(actor, seq) as actor,
                    arg_max(acted_at, seq) as acted_at
                from office_actions
                where action = 'send_back'
                group by all
            ) as back on back.submission_id = submissions.submission_id
            where {_scope()}
            group by submissions.submission_id
        ) as counts
        where submissions.submission_id = counts.submission_id
        """
    )
