"""`jibao letters …`: the office sends a quarter's letters and settles deliveries by hand.

- `jibao letters send QUARTER [--by NAME]`: send (or, after a change, send again) the quarter's
  letters through the outbox, as the console's 「发送通知」 does;
- `jibao letters check [--quarter QUARTER]`: deliveries that need a person — outcome unknown
  (「发送结果不明，请核实」) or failed (sent again next time);
- `jibao letters resolve KEY --received|--not-received --by NAME [--note 说明]`: record what the
  office found out about an unknown delivery.

Light at import time (argparse only): `jibao` imports it on every call.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys

EXIT_OK, EXIT_PROBLEMS = 0, 1


def _login_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "办公室"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD，收到「{text}」") from None


def add_commands(sub) -> None:
    from pipelines.cli import EPILOG, quarter_arg

    p = sub.add_parser("letters", help="发送通知、查看和核实发送结果", epilog=EPILOG)
    cmds = p.add_subparsers(dest="letters_command", required=True, metavar="子命令")

    s = cmds.add_parser("send", help="发送某季度的问题通知与催报提醒（已发送的不重复）")
    s.add_argument("quarter", type=quarter_arg, metavar="季度", help="如 2025Q3")
    s.add_argument("--by", default=None, metavar="姓名", help="发送人（默认登录用户）")
    s.add_argument(
        "--today", type=_date, metavar="日期", help="信件日期（默认今天），如 2025-10-10"
    )
    s.set_defaults(handler=_cmd_send)

    c = cmds.add_parser("check", help="列出结果不明或发送失败的发送记录")
    c.add_argument("--quarter", type=quarter_arg, metavar="季度", help="只看该季度")
    c.set_defaults(handler=_cmd_check)

    r = cmds.add_parser("resolve", help="登记对一条结果不明的发送的核实结果")
    r.add_argument("key", metavar="标识", help="jibao letters check 列出的标识（前几位即可）")
    got = r.add_mutually_exclusive_group(required=True)
    got.add_argument("--received", action="store_true", help="已核实对方收到：不再发送")
    got.add_argument("--not-received", action="store_true", help="已核实对方未收到：下次重发")
    r.add_argument("--by", default=None, metavar="姓名", help="核实人（默认登录用户）")
    r.add_argument("--note", default="", metavar="说明", help="核实情况说明")
    r.set_defaults(handler=_cmd_resolve)


def _line(d) -> str:
    from pipelines.outputs.sending import CHANNEL_ZH
    from pipelines.sanitize import one_line

    return (
        f"  {one_line(d.submitter)}（{CHANNEL_ZH.get(d.channel, d.channel)}）：{one_line(d.detail)}"
    )


def _cmd_send(args: argparse.Namespace) -> int:
    args.by = args.by or _login_user()
    from pipelines.outputs.sending import report_lines, send_quarter_letters
    from pipelines.paths import Paths

    paths = Paths.from_env()
    if not paths.warehouse.exists():
        print(f"jibao：数据仓库 {paths.warehouse} 不存在，请先运行 jibao run", file=sys.stderr)
        return EXIT_PROBLEMS
    summary = send_quarter_letters(paths, args.quarter, by=args.by, today=args.today)
    print(f"{summary.quarter} 发送通知（发送人 {args.by}）")
    print(f"已发送 {len(summary.sent)} 项，失败 {len(summary.failed)} 项，"
          f"内容未变未重发 {len(summary.skipped)} 份")  # fmt: skip
    for d in summary.failed:
        print(_line(d))
    if summary.no_recipient:
        print(f"未配置邮箱或群机器人的单位（仅写入文件）：{'、'.join(summary.no_recipient)}")
    for run in summary.runs:
        for note in report_lines(run):
            print(note)
    return EXIT_OK if not summary.failed and not summary.unknown else EXIT_PROBLEMS


def _cmd_check(args: argparse.Namespace) -> int:
    from pipelines.outbox import STATUS_ZH, Outbox
    from pipelines.outputs.sending import CHANNEL_ZH, KIND_ZH
    from pipelines.paths import Paths
    from pipelines.sanitize import one_line

    ob = Outbox.open(Paths.from_env())
    quarters = [args.quarter] if args.quarter else None
    records = ob.records(quarters=quarters, status=["unknown", "failed", "pending"])
    if not records:
        print("没有需要核实或重发的发送记录")
        return EXIT_OK
    print("标识          季度    单位 / 类别 / 渠道 / 状态 / 说明")
    for r in records:
        print(f"{r.key[:12]}  {r.quarter or '-'}  {one_line(r.submitter or '-')} "
              f"{KIND_ZH.get(r.kind, r.kind)} {CHANNEL_ZH.get(r.channel, r.channel)} "
              f"{STATUS_ZH[r.status]}：{one_line(r.detail)}")  # fmt: skip
    return EXIT_PROBLEMS


def _cmd_resolve(args: argparse.Namespace) -> int:
    args.by = args.by or _login_user()
    from pipelines.outbox import Outbox, OutboxError
    from pipelines.paths import Paths

    ob = Outbox.open(Paths.from_env())
    try:
        rec = ob.find(args.key)
        rec = ob.resolve(rec.key, delivered=args.received, by=args.by, note=args.note)
    except OutboxError as exc:
        print(f"jibao：{exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    verdict = "已收到，不再发送" if args.received else "未收到，下次运行或发送通知时重发"
    print(f"已登记：{rec.submitter} {rec.quarter} {rec.key[:12]} {verdict}（{args.by}）")
    return EXIT_OK
