"""The office's decisions: 强制上报 (accept with an explanation), 退回 (send back), 审核锁定 (close)
and reopening a quarter — checked, then appended to the office journal with who and when.

The CLI (`pipelines/office/cli.py`) and the console call these with the actor (`by`: the login
user, the logged-in account). Each function checks the decision against configuration, the
journal (under its lock, so two clerks cannot both close a quarter) and the published warehouse
(read-only: which issues a return has, which version is official), raises `DecisionError` with a
Chinese message when it is not allowed, and otherwise returns the `OfficeAction` appended.

What each decision does to the figures happens at the next load, which reads the whole journal
(`office_actions`): an explanation marks exactly the matching issues of explainable rules
`explained` (a return whose only errors are explained becomes accepted and official, and the
integrity checks skip those cells); a send-back makes that version rejected and not official, and
no version received before it becomes official again (DHIS2's "unapprove": the submitter must send
a new one); a closed quarter keeps its official figures — versions received after the close are
archived and listed as 锁定后收到 but not taken into account until the quarter is reopened. While a
quarter is closed, explanations and send-backs for it are refused.

Decisions do not run anything themselves. `request_refresh` asks the Dagster run queue (the
daemon's, `pipelines.runqueue`, when present) for a run of the quarter and the later ones, so the
office sees the effect within minutes; the CLI says to run `jibao run --quarter Q` when no queue
is configured. A run in progress never loses a decision: every load reads the journal when it
starts, and the queued run (one warehouse writer at a time) starts after it.

API: `accept(paths, submitter, form, quarter, *, cell=None, rule=None, reason, by, at=None)`,
`send_back(paths, submitter, form, quarter, *, reason, by, at=None)`,
`close_quarter(paths, quarter, *, by, reason="", at=None)`,
`reopen_quarter(paths, quarter, *, reason, by, at=None)`, `is_locked(paths, quarter) -> bool`,
`lock_state(paths, quarter) -> LockState`, `request_refresh(paths, quarter, *, source)`.
Errors: `UnknownTarget` (an unknown submitter, form, quarter, cell or rule; CLI exit 2) and
`NotAllowed` (a decision the rules forbid; exit 1), both `DecisionError`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from pipelines import periods
from pipelines.forms import FORM_IDS, get_form
from pipelines.office import journal, policy
from pipelines.office.journal import OfficeAction
from pipelines.paths import Paths
from pipelines.periods import Quarter
from pipelines.registry import Submitter, clean_unit_name, load_registry

log = logging.getLogger(__name__)

_A1 = re.compile(r"[A-Za-z]{1,3}[1-9][0-9]{0,6}")


class DecisionError(ValueError):
    """A decision that cannot be recorded; the message (Chinese) says why."""

    exit_code = 1


class UnknownTarget(DecisionError):
    """The submitter, form, quarter, cell or rule named does not exist."""

    exit_code = 2


class NotAllowed(DecisionError):
    """The decision is understood but the office's rules do not allow it."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class LockState:
    quarter: str
    locked: bool
    changed_at: dt.datetime | None = None
    changed_by: str | None = None
    reason: str = ""


# ---------------------------------------------------------------- resolving names


def resolve_submitter(text: str) -> Submitter:
    """The registered submitter `text` names exactly (its name or an alias, with the decorations
    people add: 「（盖章）」, 「办事处」, the 鲤城区 prefix). Unlike the front door's reading of
    填报单位, a decision never guesses from a partial name: it suggests instead."""
    reg = load_registry()
    key = clean_unit_name(text)
    index = {clean_unit_name(a): s for s in reg.submitters if s.forms for a in (s.name, *s.aliases)}
    for variant in (
        key,
        key.removeprefix("泉州市"),
        key.removeprefix("鲤城区"),
        key.removesuffix("办事处"),
    ):
        if variant and variant in index:
            return index[variant]
    names = [s.name for s in reg.submitters if s.forms]
    guess = reg.resolve(text)
    near = [guess.name] if guess is not None and guess.forms else []
    near += [n for n in difflib.get_close_matches(key, names, n=3, cutoff=0.3) if n not in near]
    hint = f"，是否为：{'、'.join(near)}" if near else ""
    raise UnknownTarget(f"报送单位「{text}」不在报送单位名录中{hint}")


def resolve_form(text: str, submitter: Submitter | None = None) -> str:
    from pipelines.warehouse.explanations import form_id

    fid = form_id(str(text))
    if fid not in FORM_IDS:
        raise UnknownTarget(f"表「{text}」无法识别（应为表一至表四，如「表三」或 form3）")
    if submitter is not None and fid not in submitter.forms:
        owed = "、".join(get_form(f).name for f in submitter.forms)
        raise UnknownTarget(f"{submitter.name}无需报送{get_form(fid).name}（应报：{owed}）")
    return fid


def resolve_quarter(text: str) -> Quarter:
    try:
        q = Quarter.parse(str(text))
    except ValueError:
        raise UnknownTarget(f"季度格式应为 YYYYQn（如 2025Q3），收到「{text}」") from None
    if q not in periods.quarters():
        listed = "、".join(str(x) for x in periods.quarters())
        raise UnknownTarget(f"季度 {q} 不在报送日历中（calendar.yaml › quarters：{listed}）")
    return q


def _required(text: str | None, what: str) -> str:
    value = (text or "").strip()
    if not value:
        raise NotAllowed(f"请填写{what}")
    return value


# ---------------------------------------------------------------- lock state


def _lock_of(actions: Sequence[OfficeAction], quarter: str) -> LockState:
    last = None
    for a in actions:
        if a.quarter == quarter and a.action in ("close", "reopen"):
            last = a
    if last is None:
        return LockState(quarter, False)
    return LockState(quarter, last.action == "close", last.acted_at, last.actor, last.reason)


def lock_state(paths: Paths, quarter: str | Quarter) -> LockState:
    """Whether `quarter` is closed, since when and by whom (from the journal: always current)."""
    return _lock_of(journal.read_actions(paths), str(quarter))


def is_locked(paths: Paths, quarter: str | Quarter) -> bool:
    return lock_state(paths, quarter).locked


def locked_quarters(actions: Sequence[OfficeAction]) -> dict[str, LockState]:
    out = {}
    for q in dict.fromkeys(a.quarter for a in actions):
        state = _lock_of(actions, q)
        if state.locked:
            out[q] = state
    return out


def _refuse_if_locked(actions: Sequence[OfficeAction], quarter: str, what: str) -> None:
    state = _lock_of(actions, quarter)
    if state.locked:
        when = state.changed_at.strftime("%Y-%m-%d %H:%M") if state.changed_at else ""
        raise NotAllowed(
            f"{quarter} 已于 {when} 由 {state.changed_by} 审核锁定，不能{what}；"
            f"如需更改，请先重新开放该季度（jibao reopen {quarter} --reason 原因）"
        )


# ---------------------------------------------------------------- the warehouse, read-only


def _connect(paths: Paths) -> duckdb.DuckDBPyConnection:
    if not paths.warehouse.exists():
        raise NotAllowed(f"数据仓库 {paths.warehouse} 尚未建立，请先运行 jibao run")
    from pipelines.warehouse import connect_published  # (the warehouse imports pipelines.office)

    return connect_published(paths)


@dataclass(frozen=True, slots=True)
class _Issue:
    submission_id: int
    file: str
    rule: str
    cell: str | None
    column_id: str | None
    severity: str
    status: str
    message: str


def _current_issues(paths: Paths, submitter: str, form: str, quarter: str) -> list[_Issue]:
    """Issues of the versions not superseded (the ones an explanation can still matter for)."""
    with _connect(paths) as con:
        versions = con.execute(
            "select count(*) from submissions where submitter = ? and form = ? and quarter = ?",
            [submitter, form, quarter],
        ).fetchall()[0][0]
        if not versions:
            raise UnknownTarget(f"尚未收到{submitter}{quarter}的{get_form(form).name}")
        rows = con.execute(
            """
            select s.submission_id, s.original_name, i.rule, i.cell, i.column_id, i.severity,
                i.status, i.message
            from submissions as s
            join validation_issues as i on i.submission_id = s.submission_id
            where s.submitter = ? and s.form = ? and s.quarter = ? and s.superseded_by is null
            order by s.received_at, i.seq
            """,
            [submitter, form, quarter],
        ).fetchall()
    return [_Issue(*r) for r in rows]


def _refused(rule: str, where: str, message: str = "") -> NotAllowed:
    kind = policy.known_rules().get(rule, "规则")
    allowed = "、".join(policy.explainable_rules()) or "无"
    found = f"：{message}" if message else ""
    return NotAllowed(
        f"{where}不能以情况说明强制上报（{kind} {rule}）{found}。"
        "空白、非数字、负数、合计不符等必须由报送单位更正后重新报送；"
        f"可以说明的规则（rules.yaml › explainable）：{allowed}"
    )


# ---------------------------------------------------------------- decisions


def accept(
    paths: Paths,
    submitter: str,
    form: str,
    quarter: str,
    *,
    cell: str | None = None,
    rule: str | None = None,
    reason: str,
    by: str,
    at: dt.datetime | None = None,
) -> OfficeAction:
    """强制上报: accept the value(s) at `cell`, or every issue of `rule`, with an explanation."""
    sub = resolve_submitter(submitter)
    fid = resolve_form(form, sub)
    q = str(resolve_quarter(quarter))
    text = _required(reason, "情况说明（--reason）")
    actor = _required(by, "决定人（--by）")
    if (cell is None) == (rule is None):
        raise UnknownTarget("请指定要说明的单元格（--cell K7）或规则（--rule 规则标识）之一")
    if rule is not None:
        rule = rule.strip()
        if rule not in policy.known_rules():
            near = difflib.get_close_matches(rule, list(policy.known_rules()), n=3, cutoff=0.5)
            hint = f"，是否为：{'、'.join(near)}" if near else ""
            raise UnknownTarget(f"规则「{rule}」不存在{hint}")
        if not policy.is_explainable(rule):
            raise _refused(rule, f"规则 {rule} ")
        target = rule
        matched = [i for i in _current_issues(paths, sub.name, fid, q) if i.rule == rule]
        if not matched:
            raise UnknownTarget(f"{sub.name}{q}{get_form(fid).name}没有规则 {rule} 的问题")
    else:
        target = (cell or "").strip().upper()
        if not _A1.fullmatch(target):
            raise UnknownTarget(f"单元格「{cell}」格式不正确（应如 K7）")
        matched = [
            i for i in _current_issues(paths, sub.name, fid, q) if (i.cell or "").upper() == target
        ]
        if not matched:
            raise UnknownTarget(f"{sub.name}{q}{get_form(fid).name}的 {target} 没有需要说明的问题")
        for issue in matched:
            if not policy.is_explainable(issue.rule):
                raise _refused(issue.rule, f"{target} 的问题", issue.message)

    def decide(actions: list[OfficeAction]) -> OfficeAction:
        _refuse_if_locked(actions, q, "强制上报")
        return OfficeAction(
            journal.new_action_id(), at or journal.now(), actor, "accept", q, sub.name, fid,
            target, text,
        )  # fmt: skip

    return journal.transact(paths, decide)  # type: ignore[return-value]


def send_back(
    paths: Paths,
    submitter: str,
    form: str,
    quarter: str,
    *,
    reason: str,
    by: str,
    at: dt.datetime | None = None,
) -> OfficeAction:
    """退回: the official version stops being official; the submitter must send a new one."""
    sub = resolve_submitter(submitter)
    fid = resolve_form(form, sub)
    q = str(resolve_quarter(quarter))
    text = _required(reason, "退回原因（--reason）")
    actor = _required(by, "决定人（--by）")
    with _connect(paths) as con:
        row = con.execute(
            "select submission_id, original_name from submissions "
            "where is_official and submitter = ? and form = ? and quarter = ?",
            [sub.name, fid, q],
        ).fetchall()
    if not row:
        raise NotAllowed(
            f"{sub.name}{q}{get_form(fid).name}没有已采用的正式版本，无需退回"
            "（未通过校验的版本已自动退回）"
        )
    sid, name = row[0]

    def decide(actions: list[OfficeAction]) -> OfficeAction:
        _refuse_if_locked(actions, q, "退回报表")
        for a in actions:
            if a.action == "send_back" and a.target == str(sid):
                raise NotAllowed(
                    f"{sub.name}{q}{get_form(fid).name}（{name}）已于 "
                    f"{a.acted_at:%Y-%m-%d %H:%M} 由 {a.actor} 退回"
                )
        return OfficeAction(
            journal.new_action_id(), at or journal.now(), actor, "send_back", q, sub.name, fid,
            str(sid), text,
        )  # fmt: skip

    return journal.transact(paths, decide)  # type: ignore[return-value]


def close_quarter(
    paths: Paths, quarter: str, *, by: str, reason: str = "", at: dt.datetime | None = None
) -> OfficeAction:
    """审核锁定: the quarter's official figures stay as they are until it is reopened."""
    q = str(resolve_quarter(quarter))
    actor = _required(by, "决定人（--by）")

    def decide(actions: list[OfficeAction]) -> OfficeAction:
        state = _lock_of(actions, q)
        if state.locked:
            raise NotAllowed(
                f"{q} 已于 {state.changed_at:%Y-%m-%d %H:%M} 由 {state.changed_by} 审核锁定"
            )
        return OfficeAction(
            journal.new_action_id(), at or journal.now(), actor, "close", q, reason=reason.strip()
        )

    return journal.transact(paths, decide)  # type: ignore[return-value]


def reopen_quarter(
    paths: Paths, quarter: str, *, reason: str, by: str, at: dt.datetime | None = None
) -> OfficeAction:
    """重新开放: versions received while it was closed are taken into account at the next load."""
    q = str(resolve_quarter(quarter))
    text = _required(reason, "重新开放的理由（--reason）")
    actor = _required(by, "决定人（--by）")

    def decide(actions: list[OfficeAction]) -> OfficeAction:
        if not _lock_of(actions, q).locked:
            raise NotAllowed(f"{q} 未审核锁定，无需重新开放")
        return OfficeAction(
            journal.new_action_id(), at or journal.now(), actor, "reopen", q, reason=text
        )

    return journal.transact(paths, decide)  # type: ignore[return-value]


# ---------------------------------------------------------------- seeing the effect


def refresh_quarters(paths: Paths, quarter: str) -> list[str]:
    """The quarter and every later quarter with a drop folder: a decision changes the official
    figures that later quarters' history rules compare against."""
    q = Quarter.parse(str(quarter))
    later = [Quarter.parse(p.name) for p in paths.quarter_folders()]
    return [str(x) for x in sorted({q, *(x for x in later if x > q)})]


def request_refresh(paths: Paths, quarter: str, *, source: str = "office") -> str | None:
    """Ask the Dagster run queue for a run of `quarter` (and later quarters); the run id, or None
    when no queue is configured or it cannot be reached (the decision is recorded either way)."""
    try:
        from pipelines.runqueue import request_run  # the OPS helper's queue (issue 8)
    except ImportError:
        return None
    try:
        return request_run(refresh_quarters(paths, quarter), source=source, paths=paths)
    except Exception as exc:  # queueing is a convenience: never lose the recorded decision over it
        log.warning("无法提交 %s 的运行请求：%s（决定已记录，下次运行时生效）", quarter, exc)
        return None
