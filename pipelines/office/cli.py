"""`jibao accept | send-back | close | reopen | decisions`: the office's decisions from a terminal.

`add_commands(subparsers)` registers them (pipelines/cli.py calls it); each sets `handler` and
returns an exit code: 0 recorded (or listed), 1 the decision is not allowed, 2 an unknown
submitter, form, quarter, cell or rule (or a usage error). Nothing heavy is imported until a
command runs.

After a decision is recorded the command asks the Dagster run queue for a run of the quarter (and
later ones) when one is configured, so the report, the return and the letters follow within
minutes; otherwise it says to run `jibao run --quarter Q`.
"""

from __future__ import annotations

import argparse
import getpass
import sys

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _login_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "办公室"


def _common(p: argparse.ArgumentParser, *, quarter_only: bool = False) -> None:
    if not quarter_only:
        p.add_argument(
            "submitter", metavar="SUBMITTER", help="报送单位（规范名称或别名，如 常泰街道）"
        )
        p.add_argument("form", metavar="FORM", help="表（表一 … 表四，或 form1 … form4）")
    p.add_argument("quarter", metavar="QUARTER", help="季度，如 2025Q3")
    p.add_argument("--by", metavar="NAME", default=None, help="决定人（默认为当前登录用户）")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    a = subparsers.add_parser(
        "accept",
        help="强制上报：接受单元格或规则的情况说明（仅限可说明的规则）",
        description="强制上报：办公室接受报送单位对被标记数值的情况说明。只允许 rules.yaml › "
        "explainable 所列规则（如整改数大于发现数、大幅波动、异常值）；空白、非数字、负数、"
        "合计不符等不能说明，须更正后重报。",
    )
    _common(a)
    which = a.add_mutually_exclusive_group(required=True)
    which.add_argument("--cell", metavar="K7", help="要说明的单元格")
    which.add_argument("--rule", metavar="RULE", help="要说明的规则标识（如 form3.urged_le_found）")
    a.add_argument("--reason", required=True, metavar="说明", help="情况说明")
    a.set_defaults(handler=_cmd_accept)

    s = subparsers.add_parser(
        "send-back",
        help="退回：已采用的报表不再作为正式版本，通知报送单位重报",
        description="退回：该表的正式版本不再采用，此前的版本也不会自动恢复；报送单位收到附退回"
        "原因的通知，须报送新版本。",
    )
    _common(s)
    s.add_argument("--reason", required=True, metavar="原因", help="退回原因")
    s.set_defaults(handler=_cmd_send_back)

    c = subparsers.add_parser(
        "close",
        help="审核锁定季度：此后收到的报表只归档，不改变正式数据",
        description="审核锁定：锁定后收到的报表照常归档并列为「锁定后收到」，正式数据在重新开放前不变。",
    )
    _common(c, quarter_only=True)
    c.add_argument("--reason", default="", metavar="说明", help="说明（可选）")
    c.set_defaults(handler=_cmd_close)

    r = subparsers.add_parser(
        "reopen",
        help="重新开放已锁定的季度（须说明理由）",
        description="重新开放：锁定期间收到的报表在下次运行时按常规处理。",
    )
    _common(r, quarter_only=True)
    r.add_argument("--reason", required=True, metavar="原因", help="重新开放的理由")
    r.set_defaults(handler=_cmd_reopen)

    d = subparsers.add_parser(
        "decisions",
        help="列出办公室的决定（强制上报、退回、锁定、重新开放）",
        description="按时间顺序列出办公室操作日志中的决定，以及季度的锁定状态。",
    )
    d.add_argument("--quarter", help="只列该季度，如 2025Q3")
    d.add_argument("--submitter", help="只列该报送单位")
    d.set_defaults(handler=_cmd_decisions)


def _paths():
    from pipelines.paths import Paths

    return Paths.from_env()


def _decide(args: argparse.Namespace, fn) -> int:
    from pipelines.office.decisions import DecisionError

    paths = _paths()
    try:
        action = fn(paths)
    except DecisionError as exc:
        print(f"jibao：未记录：{exc}", file=sys.stderr)
        return exc.exit_code
    print(f"已记录：{_describe(action)}")
    return _follow_up(paths, action.quarter)


def _describe(a) -> str:
    from pipelines.forms import get_form

    what = a.label
    if a.submitter:
        what += f" {a.submitter} {get_form(a.form).name if a.form else ''} {a.quarter}"
    else:
        what += f" {a.quarter}"
    if a.action == "accept":
        what += f" {a.target}"
    reason = f"：{a.reason}" if a.reason else ""
    return f"{what}{reason}（{a.actor}，{a.acted_at:%Y-%m-%d %H:%M}）"


def _follow_up(paths, quarter: str) -> int:
    from pipelines.office.decisions import request_refresh

    run_id = request_refresh(paths, quarter, source="office")
    if run_id:
        print(f"已提交 {quarter} 的运行请求（{run_id}），报告、汇总表和通知随后更新")
    else:
        print(f"运行 jibao run --quarter {quarter} 后生效（报告、汇总表和通知随之更新）")
    return EXIT_OK


def _by(args: argparse.Namespace) -> str:
    return args.by if args.by is not None else _login_user()


def _cmd_accept(args: argparse.Namespace) -> int:
    from pipelines.office.decisions import accept

    return _decide(
        args,
        lambda paths: accept(
            paths, args.submitter, args.form, args.quarter, cell=args.cell, rule=args.rule,
            reason=args.reason, by=_by(args),
        ),
    )  # fmt: skip


def _cmd_send_back(args: argparse.Namespace) -> int:
    from pipelines.office.decisions import send_back

    return _decide(
        args,
        lambda paths: send_back(
            paths, args.submitter, args.form, args.quarter, reason=args.reason, by=_by(args)
        ),
    )


def _cmd_close(args: argparse.Namespace) -> int:
    from pipelines.office.decisions import close_quarter

    return _decide(
        args, lambda paths: close_quarter(paths, args.quarter, by=_by(args), reason=args.reason)
    )


def _cmd_reopen(args: argparse.Namespace) -> int:
    from pipelines.office.decisions import reopen_quarter

    return _decide(
        args, lambda paths: reopen_quarter(paths, args.quarter, reason=args.reason, by=_by(args))
    )


def _cmd_decisions(args: argparse.Namespace) -> int:
    from pipelines.office import read
    from pipelines.office.decisions import (
        DecisionError,
        lock_state,
        resolve_quarter,
        resolve_submitter,
    )

    paths = _paths()
    try:
        quarter = str(resolve_quarter(args.quarter)) if args.quarter else None
        submitter = resolve_submitter(args.submitter).name if args.submitter else None
    except DecisionError as exc:
        print(f"jibao：{exc}", file=sys.stderr)
        return exc.exit_code
    if quarter:
        state = lock_state(paths, quarter)
        if state.locked:
            print(f"{quarter}：已审核锁定（{state.changed_by}，{state.changed_at:%Y-%m-%d %H:%M}）")
        else:
            print(f"{quarter}：未锁定")
    actions = read.decisions(paths, quarter=quarter, submitter=submitter)
    for a in actions:
        print(_describe(a))
    if not actions:
        print("（没有记录的决定）")
    return EXIT_OK
