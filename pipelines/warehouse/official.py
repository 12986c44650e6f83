"""Which version counts: verdicts, official flags, superseding and issue resolution.

Recomputed from scratch for every quarter a load touches, so the result depends only on what is
in the ledger (and explanations), never on the order files were loaded in:

1. issue statuses reset to open, then explanations applied (explained);
2. a return is rejected while it has an error that is not explained (or the front door rejected
   it without saying why), unreadable stays unreadable, otherwise accepted;
3. per submitter × form × quarter the latest accepted version (received_at, then id) is official;
   every earlier version points to the next accepted one received after it (superseded_by) —
   a rejected version never supersedes anything;
4. open issues of superseded versions become resolved by that newer version;
5. reasons are rewritten.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from pipelines.warehouse import explanations


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
    _verdicts(con)
    _official(con)
    _resolve(con)
    _reasons(con)


def _verdicts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""
        update submissions
        set status = case
            when submissions.validated_status = 'unreadable' then 'unreadable'
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
            select max_by(submission_id, (received_at, submission_id)) as submission_id
            from submissions
            where status = 'accepted'
                and submitter is not null and form is not null and quarter is not null
                and {_scope()}
            group by submitter, form, quarter
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
                and newer.status = 'accepted'
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
            when submissions.status = 'rejected'
                then '退回：' || counts.open_errors || ' 处错误未解决。' || coalesce(counts.first_error, '')
            when submissions.superseded_by is not null
                then '已被 ' || strftime(counts.successor_received_at, '%Y-%m-%d %H:%M') || ' 收到的新版本替代'
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
                any_value(successor.received_at) as successor_received_at
            from submissions
            left join validation_issues as issues on issues.submission_id = submissions.submission_id
            left join submissions as successor on successor.submission_id = submissions.superseded_by
            where {_scope()}
            group by submissions.submission_id
        ) as counts
        where submissions.submission_id = counts.submission_id
        """
    )
