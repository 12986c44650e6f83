"""Who did what and when, for the office's pages: the office journal (decisions, through
pipelines.office.read) and the outbox (letters sent, with who asked). Read, never copied."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.paths import Paths

DELIVERY_ZH = {
    "sent": "已发送",
    "failed": "发送失败",
    "unknown": "发送结果不明",
    "pending": "发送中",
    "skipped": "未重复发送",
}
CHANNEL_ZH = {"file": "通知文件", "email": "电子邮件", "webhook": "工作群机器人"}
KIND_ZH = {
    "alert": "问题通知",
    "reminder": "报送提醒",
    "send_back": "退回通知",
    "reply": "邮件回复",
}


@dataclass(frozen=True)
class Line:
    when: str
    who: str
    what: str
    target: str
    reason: str


def decisions(paths: Paths, quarter: str, unit: str | None = None, form: str | None = None):
    from pipelines.forms import load_forms
    from pipelines.office.read import decisions as read_decisions

    forms = load_forms()
    out = []
    for a in read_decisions(paths, quarter=quarter, submitter=unit):
        if form and a.form not in (form, None):
            continue
        form_name = forms[a.form].name if a.form in forms else a.form
        target = "、".join(x for x in (a.submitter, form_name, _target(a)) if x)
        out.append(
            Line(
                a.acted_at.strftime("%Y-%m-%d %H:%M"),
                a.actor,
                a.label,
                target or "整个季度",
                a.reason or "",
            )
        )
    return list(reversed(out))


def _target(action) -> str | None:
    if action.action == "send_back" and action.target:
        return f"第 {action.target} 号版本"
    return action.target


@dataclass(frozen=True)
class Sent:
    key: str
    when: str
    who: str
    what: str
    unit: str
    recipient: str
    status: str
    status_label: str
    detail: str


def _who(by: str) -> str:
    return "自动运行" if by.startswith("run:") else by


def _local(when) -> str:
    from pipelines.console.clock import OFFICE_TZ

    if when.tzinfo is not None:
        when = when.astimezone(OFFICE_TZ)
    return when.strftime("%Y-%m-%d %H:%M")


def deliveries(paths: Paths, quarter: str, limit: int = 200) -> tuple[list[Sent], int]:
    """Letters sent on a channel (e-mail, robot), newest first, and how many letter files were
    written: files are listed as a count, the channels one by one."""
    from pipelines.outbox import FILE_NAME, Outbox

    outbox = paths.outbox / FILE_NAME
    if not outbox.exists():
        return [], 0
    out, files = [], 0
    for r in reversed(Outbox.open(paths).records(quarters=[quarter])):
        if r.channel == "file":
            files += 1
            continue
        out.append(
            Sent(
                r.key,
                _local(r.updated_at),
                _who(r.resolved_by or r.created_by),
                f"{KIND_ZH.get(r.kind, r.kind)}（{CHANNEL_ZH.get(r.channel, r.channel)}）",
                r.submitter or "",
                r.recipient,
                r.status,
                DELIVERY_ZH.get(r.status, r.status),
                r.detail,
            )
        )
    return out[:limit], files
