"""The `jibao` command. Each subcommand imports only what it needs: `validate` must start fast
and never import Dagster; commands that change the warehouse run the Dagster definitions.

Everything the office reads here is Chinese, argparse's own words included (argparse_zh), and
no command ends in a traceback: every failure becomes one sentence and an exit code
(pipelines.failures):

    0 done · 1 problems found / run failed · 2 usage error (an unconfigured quarter too)
    74 disk full · 75 a run is in progress, or the warehouse file is held by another program
    78 configuration missing or malformed · 130 interrupted

Packages add subcommands without this file knowing them: for each module of OPTIONAL_COMMANDS
that exists, `add_commands(subparsers)` is called; it adds parsers and gives each a handler
with `parser.set_defaults(handler=fn)`, `fn(args) -> int` (an exit code). Such a module must be
light at import time (no Django, no Dagster): it is imported on every `jibao` call. A handler may
raise `UsageError` (exit 2) or any exception: main() turns it into a message.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pipelines import clock
from pipelines.argparse_zh import ChineseArgumentParser
from pipelines.failures import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    from_exception,
)

__all__ = ["EXIT_OK", "EXIT_PROBLEMS", "EXIT_USAGE", "OPTIONAL_COMMANDS", "UsageError", "main"]

STATUS_ZH = {"accepted": "通过", "rejected": "退回", "unreadable": "无法读取"}
SEVERITY_ZH = {"error": "错误", "warning": "提示"}
OPTIONAL_COMMANDS = (
    "pipelines.office.cli",
    "pipelines.console.cli",
    "pipelines.mail.cli",
    "pipelines.letters_cli",
)
EPILOG = (
    "退出码：0 完成；1 发现问题或运行未完成；2 用法错误；69 网页控制台的端口已被占用；74 磁盘已满；"
    "75 另一个运行正在进行或数据仓库被占用；78 配置文件有误；130 已中断"
)


class UsageError(Exception):
    """A mistake in how the command was called (exit code 2)."""


def quarter_arg(text: str) -> str:
    """argparse type: a quarter the calendar configures (config/calendar.yaml › quarters)."""
    from pipelines import periods

    try:
        quarter = periods.Quarter.parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"季度格式应为 YYYYQn（如 2025Q3），收到「{text}」"
        ) from None
    configured = periods.quarters()
    if quarter not in configured:
        span = f"{configured[0]}–{configured[-1]}" if configured else "无"
        raise argparse.ArgumentTypeError(
            f"季度 {quarter} 未在 config/calendar.yaml 的 quarters 中配置（已配置：{span}）"
        )
    return str(quarter)


def integer_arg(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为整数，收到「{text}」") from None


def current_campaign(today: dt.date | None = None) -> int:
    """The latest configured campaign whose start is on or before `today` (else the first)."""
    from pipelines import periods

    today = today or clock.today()
    years = periods.campaigns()
    started = [y for y in years if periods.campaign(y).start <= today]
    return max(started) if started else min(years)


def _parser() -> argparse.ArgumentParser:
    p = ChineseArgumentParser(
        prog="jibao", description="季报表数据管道：校验、入库、指标、报告与提醒", epilog=EPILOG
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="命令", title="可用命令")

    v = sub.add_parser("validate", help="校验报送的季报表工作簿", epilog=EPILOG)
    v.add_argument("paths", nargs="+", metavar="路径", help="文件或文件夹（递归查找）")
    v.add_argument("--quarter", type=quarter_arg, help="报送季度，如 2025Q3")
    v.add_argument(
        "--format", choices=("text", "json"), default="text", help="输出格式（默认 text）"
    )
    v.set_defaults(handler=_cmd_validate)

    t = sub.add_parser("templates", help="生成空白季报表模板", epilog=EPILOG)
    t.add_argument("--out", required=True, type=Path, metavar="文件夹", help="写入的文件夹")
    t.add_argument(
        "--campaign",
        type=integer_arg,
        metavar="年度",
        help="专项行动年度（默认：当前日期所在年度）",
    )
    t.add_argument(
        "--submitter",
        metavar="单位",
        help="报送单位名称（预填填报单位并只开放本单位类型的行）；all 为全部单位",
    )
    t.set_defaults(handler=_cmd_templates)

    s = sub.add_parser("sample", help="生成样例报送数据", epilog=EPILOG)
    s.add_argument("--out", required=True, type=Path, metavar="文件夹", help="写入的文件夹")
    s.add_argument(
        "--seed",
        type=integer_arg,
        metavar="整数",
        help="随机种子（默认取 config/sample.yaml 的 seed）",
    )
    s.set_defaults(handler=_cmd_sample)

    r = sub.add_parser("run", help="处理 data/raw/ 下的报表并发布数据仓库", epilog=EPILOG)
    r.add_argument("--quarter", type=quarter_arg, metavar="季度", help="只处理该季度，如 2026Q1")
    r.add_argument(
        "--wait",
        action="store_true",
        help="另一个运行正在进行时排队等待（默认：立即退出，退出码 75）",
    )
    r.set_defaults(handler=_cmd_run)

    d = sub.add_parser(
        "demo", help="演示：生成样例数据（如 data/raw/ 为空）并运行全流程", epilog=EPILOG
    )
    d.add_argument("--wait", action="store_true", help="另一个运行正在进行时排队等待")
    d.set_defaults(handler=_cmd_demo)

    q = sub.add_parser("sql", help="在已发布的数据仓库上执行查询", epilog=EPILOG)
    q.add_argument("query", metavar="查询", help='只读 SQL，如 "select * from reporting_status"')
    q.set_defaults(handler=_cmd_sql)

    for name in OPTIONAL_COMMANDS:
        module = _optional(name)
        if module is not None:
            module.add_commands(sub)
    for command in sub.choices.values():  # every command's help ends with the exit codes
        command.epilog = command.epilog or EPILOG
    return p


def _optional(name: str):
    """The module `name`, or None when its package is not installed here."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        handler: Callable[[argparse.Namespace], int] = args.handler
        from pipelines import config

        config.check()  # a malformed file stops here, named, not inside a worker
        return handler(args)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except UsageError as exc:
        print(f"jibao：{exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("jibao：已中断", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BaseException as exc:  # the last line of defence: a message, never a traceback
        failure = from_exception(exc)
        print(f"jibao：{failure.message}", file=sys.stderr)
        return failure.code


def _cmd_validate(args: argparse.Namespace) -> int:
    from pipelines.worker_server import start_fork_server

    start_fork_server()  # the workers' server imports while this process does
    from pipelines.validate import validate_paths

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        raise UsageError("路径不存在：" + "、".join(missing))
    results = validate_paths(args.paths, quarter=args.quarter)
    if args.format == "json":
        json.dump([r.contract() for r in results], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        _print_text(results)
    if not results:
        print("jibao：所给路径下没有找到任何报送文件", file=sys.stderr)
    return EXIT_OK if results and all(r.status == "accepted" for r in results) else EXIT_PROBLEMS


def _print_text(results: list) -> None:
    from pipelines.forms import load_forms
    from pipelines.sanitize import one_line, terminal

    forms = load_forms()
    by_file: dict[str, list] = {}
    for r in results:
        by_file.setdefault(r.file, []).append(r)
    # File and sheet names and messages quote submitters' text: no escape reaches the terminal.
    for file, items in by_file.items():
        print(f"文件：{one_line(file)}")
        for r in items:
            what = forms[r.form].name if r.form else "（未识别到季报表）"
            who = r.submitter or "（未识别报送单位）"
            quarter = r.quarter or "（季度不明）"
            sheet = f"工作表「{one_line(r.sheet)}」 " if r.sheet else ""
            print(f"  {sheet}{what} {who} {quarter}：{STATUS_ZH[r.status]}")
            for i in r.issues:
                cell = f"[{i.cell}] " if i.cell else ""
                print(f"    - {SEVERITY_ZH[i.severity]} {cell}{terminal(i.message)}")
        print()
    counts = {k: sum(r.status == k for r in results) for k in STATUS_ZH}
    print("合计：" + "，".join(f"{STATUS_ZH[k]} {n} 份" for k, n in counts.items()))


def _cmd_templates(args: argparse.Namespace) -> int:
    from pipelines import periods
    from pipelines.outputs.templates import write_templates

    campaign = args.campaign if args.campaign is not None else current_campaign()
    if campaign not in periods.campaigns():
        known = "、".join(str(c) for c in periods.campaigns())
        raise UsageError(
            f"年度 {campaign} 未在 config/calendar.yaml 的 campaigns 中配置（已配置：{known}）"
        )
    try:
        written = write_templates(args.out, campaign=campaign, submitter=args.submitter)
    except KeyError as exc:  # an unknown submitter (a missing configuration key is not this)
        from pipelines.config import MissingKey

        if isinstance(exc, MissingKey):
            raise
        raise UsageError(str(exc.args[0]) if exc.args else str(exc)) from None
    for path in written:
        print(path)
    return EXIT_OK


def _cmd_sample(args: argparse.Namespace) -> int:
    from pipelines.sample import write_sample

    write_sample(args.out, seed=args.seed)
    print(f"样例数据已写入 {args.out}")
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from pipelines.jobs import run_pipeline
    from pipelines.paths import Paths
    from pipelines.runlock import run_lock

    paths = Paths.from_env()
    with run_lock(paths, wait=args.wait, what="jibao run"):
        return run_pipeline(quarter=args.quarter, paths=paths)


def _cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.jobs import run_demo
    from pipelines.paths import Paths
    from pipelines.runlock import run_lock

    paths = Paths.from_env()
    with run_lock(paths, wait=args.wait, what="jibao demo"):
        return run_demo(paths)


def _cmd_sql(args: argparse.Namespace) -> int:
    from pipelines.jobs import run_sql

    return run_sql(args.query)


if __name__ == "__main__":
    sys.exit(main())
