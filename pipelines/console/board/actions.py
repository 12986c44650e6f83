"""The office's actions as forms. Each calls the library that owns it, with the logged-in user as
actor — decisions: pipelines.office.decisions (appended to the office journal); letters:
pipelines.outputs.sending.send_quarter_letters (through the at-most-once outbox) — and tells
the user what was recorded. None keeps a copy of a decision, a state or a send."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from pipelines.console.accounts.access import office_only
from pipelines.console.board.views import _quarter
from pipelines.console.clock import office_today
from pipelines.sanitize import one_line


def _actor(request) -> str:
    return request.user.get_username()


def _back(request, quarter: str, unit: str | None = None, form: str | None = None):
    if unit and form:
        return redirect("returns:detail", quarter=quarter, unit=unit, form=form)
    return redirect("board:quarter", quarter=quarter)


def _refreshed(quarter: str, actor: str) -> str:
    from pipelines.office.decisions import request_refresh

    run = request_refresh(settings.PATHS, quarter, source=f"console:{actor}")
    return "已请求更新数据，几分钟内生效" if run else "将在下次更新数据时生效"


def _decide(request, quarter: str, what: str, call, unit=None, form=None):
    from pipelines.office.decisions import DecisionError

    try:
        action = call()
    except DecisionError as exc:
        messages.error(request, f"{what}未记录：{exc}")
    else:
        when = action.acted_at.strftime("%Y-%m-%d %H:%M")
        messages.success(
            request, f"已记录{what}（{action.actor}，{when}）；{_refreshed(quarter, action.actor)}"
        )
    return _back(request, quarter, unit, form)


@office_only
@require_POST
def accept(request, quarter: str, unit: str, form: str):
    """强制上报: accept an explained value of one cell or one rule."""
    from pipelines.office import decisions

    q = _quarter(quarter)
    target = request.POST.get("target", "")
    kind, _, value = target.partition(":")
    cell = value if kind == "cell" else None
    rule = value if kind == "rule" else None
    reason = request.POST.get("reason", "").strip()
    return _decide(
        request,
        q,
        "强制上报",
        lambda: decisions.accept(
            settings.PATHS, unit, form, q, cell=cell, rule=rule, reason=reason, by=_actor(request)
        ),
        unit,
        form,
    )


@office_only
@require_POST
def send_back(request, quarter: str, unit: str, form: str):
    """退回: the accepted return stops being official; its unit gets a letter with the reason."""
    from pipelines.office import decisions

    q = _quarter(quarter)
    reason = request.POST.get("reason", "").strip()
    return _decide(
        request,
        q,
        "退回",
        lambda: decisions.send_back(
            settings.PATHS, unit, form, q, reason=reason, by=_actor(request)
        ),
        unit,
        form,
    )


@office_only
@require_POST
def close(request, quarter: str):
    from pipelines.office import decisions

    q = _quarter(quarter)
    reason = request.POST.get("reason", "").strip()
    return _decide(
        request,
        q,
        "审核锁定",
        lambda: decisions.close_quarter(settings.PATHS, q, by=_actor(request), reason=reason),
    )


@office_only
@require_POST
def reopen(request, quarter: str):
    from pipelines.office import decisions

    q = _quarter(quarter)
    reason = request.POST.get("reason", "").strip()
    return _decide(
        request,
        q,
        "重新开放",
        lambda: decisions.reopen_quarter(settings.PATHS, q, reason=reason, by=_actor(request)),
    )


@office_only
@require_POST
def send_letters(request, quarter: str):
    """发送通知: the quarter's letters through the outbox; a letter already delivered on a
    channel is not sent again."""
    from pipelines.outbox import OutboxBusy
    from pipelines.outputs.sending import send_quarter_letters

    q = _quarter(quarter)
    if not settings.PATHS.warehouse.exists():
        messages.error(request, "数据仓库尚未生成，无法发送通知")
        return _back(request, q)
    try:
        summary = send_quarter_letters(settings.PATHS, q, by=_actor(request), today=office_today())
    except OutboxBusy as exc:
        messages.error(request, f"通知未发送：{exc}")
        return _back(request, q)
    parts = [f"已发送 {len(summary.sent)} 份"]
    if summary.skipped:
        parts.append(f"{len(set(summary.skipped))} 个单位的通知此前已发送、内容未变，未重复发送")
    if summary.failed:
        who = "、".join(sorted({one_line(d.submitter) for d in summary.failed}))
        parts.append(f"发送失败 {len(summary.failed)} 份（{who}），下次发送时重试")
    if summary.unknown:
        parts.append(f"{len(summary.unknown)} 份发送结果不明，请核实后登记")
    if summary.no_recipient:
        parts.append(f"{len(set(summary.no_recipient))} 个单位未配置收件方式，仅生成通知文件")
    messages.info(request, "；".join(parts))
    return _back(request, q)


@office_only
@require_POST
def resolve_delivery(request, quarter: str, key: str):
    """The office checked a delivery whose outcome was unknown (e.g. a robot post that timed
    out): record whether it arrived."""
    from pipelines.outbox import Outbox

    q = _quarter(quarter)
    delivered = request.POST.get("delivered") == "yes"
    try:
        Outbox.open(settings.PATHS).resolve(
            key, delivered=delivered, by=_actor(request), note=request.POST.get("note", "")
        )
    except (KeyError, ValueError) as exc:
        messages.error(request, str(exc).strip("'\""))
        return _back(request, q)
    messages.success(
        request, "已登记为已送达，不再发送" if delivered else "已登记为未送达，下次发送时重发"
    )
    return _back(request, q)
