"""`jibao mail fetch`: receive what is in the office's mailbox (light at import: the work is
imported when the command runs). It only receives; `jibao run` then loads and replies."""

from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def add_commands(subparsers) -> None:
    mail = subparsers.add_parser("mail", help="办公室邮箱：收取以邮件报送的季报表")
    actions = mail.add_subparsers(dest="mail_command", required=True, metavar="操作")
    fetch = actions.add_parser(
        "fetch",
        help="收取邮箱中的新邮件：报表按到达邮箱的时间登记并放入 data/raw/<季度>/电子邮件/",
        description="只收取，不入库也不回复；之后运行 jibao run 入库，并给每封邮件回复处理结果。",
    )
    fetch.set_defaults(handler=_cmd_fetch)


def _cmd_fetch(args: argparse.Namespace) -> int:
    from pipelines.mail.intake import fetch
    from pipelines.mail.settings import MailConfigError
    from pipelines.paths import Paths
    from pipelines.sanitize import terminal

    paths = Paths.from_env()
    try:
        report = fetch(paths, budget_s=float("inf"))
    except MailConfigError as exc:  # a configuration to fix, like every other: exit 78
        from pipelines.failures import EXIT_CONFIG

        print(f"jibao：{exc}", file=sys.stderr)
        return EXIT_CONFIG
    if not report.configured:
        print("未配置收件邮箱（alerts.yaml › mail.host 或环境变量 JIBAO_IMAP_HOST），不收取邮件")
        return EXIT_OK
    for h in report.handled:
        what = f"报表 {h.files} 个（{'、'.join(h.quarters)}）" if h.files else "无报表附件"
        line = (
            f"{h.received_at:%Y-%m-%d %H:%M} {h.sender or '（发件人不明）'}「{h.subject}」：{what}"
        )
        if h.problem:
            line += f"；{h.problem}"
        if h.no_reply:
            line += f"；不回复：{h.no_reply}"
        print(terminal(line))
    if report.mark_warning:
        print(f"jibao：{report.mark_warning}", file=sys.stderr)
    if report.warning:
        print(f"jibao：{report.warning}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"共收取 {len(report.handled)} 封新邮件", end="")
    if report.remaining:
        print(f"，另有 {report.remaining} 封下次收取", end="")
    print("。" + ("运行 jibao run 入库并回复。" if report.handled else ""))
    return EXIT_OK
