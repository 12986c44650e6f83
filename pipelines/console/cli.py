"""`jibao serve` and `jibao users …`, registered by pipelines/cli.py through `add_commands`.
Light on purpose: nothing here imports Django until a console command runs, so `jibao validate`
starts as fast as before."""

from __future__ import annotations

import argparse
import getpass
import sys

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
EXIT_PORT_IN_USE = 69  # sysexits EX_UNAVAILABLE: the address is taken by another program


def add_commands(subparsers) -> None:
    s = subparsers.add_parser("serve", help="启动网页控制台（报送单位上传、办公室看板、领导报告）")
    s.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1，仅本机）")
    s.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    s.set_defaults(handler=_cmd_serve)

    u = subparsers.add_parser("users", help="管理网页控制台的账户")
    usub = u.add_subparsers(dest="users_command", required=True)
    a = usub.add_parser("add", help="新建或更新账户（密码从标准输入读取，终端中输入两次）")
    a.add_argument("name", metavar="NAME", help="用户名")
    a.add_argument(
        "--role",
        required=True,
        choices=("office", "submitter", "leader"),
        help="角色：office 办公室、submitter 报送单位、leader 领导",
    )
    a.add_argument("--unit", help="报送单位（submitter 必填），如 常泰街道")
    a.set_defaults(handler=_cmd_users_add)
    ls = usub.add_parser("list", help="列出全部账户")
    ls.set_defaults(handler=_cmd_users_list)


def _cmd_serve(args: argparse.Namespace) -> int:
    from pipelines.console.server import serve

    return serve(args.host, args.port)


def _read_password(name: str) -> str | None:
    if sys.stdin.isatty():
        first = getpass.getpass(f"为 {name} 设置密码：")
        second = getpass.getpass("再次输入密码：")
        if first != second:
            print("jibao：两次输入的密码不一致，账户未创建", file=sys.stderr)
            return None
        return first
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _cmd_users_add(args: argparse.Namespace) -> int:
    if args.role == "submitter" and not args.unit:
        print("jibao：报送单位账户必须用 --unit 指定所属单位，如 --unit 常泰街道", file=sys.stderr)
        return EXIT_USAGE
    if args.unit:
        from pipelines.registry import load_registry

        names = [s.name for s in load_registry().submitters if s.forms]
        if args.unit not in names:
            print(
                f"jibao：报送单位名录中没有「{args.unit}」。可选：{'、'.join(names)}",
                file=sys.stderr,
            )
            return EXIT_USAGE
    password = _read_password(args.name)
    if not password:
        if password == "":
            print("jibao：没有读到密码（从标准输入读取第一行）", file=sys.stderr)
        return EXIT_USAGE
    from pipelines.console.server import setup_django

    setup_django()
    from pipelines.console.accounts.users import AccountError, add_user, describe

    try:
        user = add_user(args.name, args.role, password, unit=args.unit)
    except AccountError as exc:
        print(f"jibao：账户未创建：{exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"已保存账户 {describe(user)}")
    return EXIT_OK


def _cmd_users_list(args: argparse.Namespace) -> int:
    from pipelines.console.server import setup_django

    setup_django()
    from pipelines.console.accounts.models import User
    from pipelines.console.accounts.users import describe

    users = list(User.objects.order_by("role", "username"))
    for u in users:
        print(describe(u) + ("" if u.is_active else "（已停用）"))
    if not users:
        print("还没有账户：jibao users add NAME --role office")
    return EXIT_OK
