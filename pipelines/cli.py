"""The `jibao` command. Each subcommand imports only what it needs: `validate` must start fast
and never import Dagster; commands that change the warehouse run the Dagster definitions."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
STATUS_ZH = {"accepted": "通过", "rejected": "退回", "unreadable": "无法读取"}
SEVERITY_ZH = {"error": "错误", "warning": "提示"}


class UsageError(Exception):
    """A mistake in how the command was called (exit code 2)."""


def _quarter(text: str) -> str:
    from pipelines.periods import Quarter

    try:
        return str(Quarter.parse(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"季度格式应为 YYYYQn（如 2025Q3），收到「{text}」"
        ) from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jibao", description="季报表数据管道：校验、入库、指标、报告与提醒"
    )
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="校验报送的季报表工作簿")
    v.add_argument("paths", nargs="+", metavar="PATH", help="文件或文件夹（递归查找）")
    v.add_argument("--quarter", type=_quarter, help="报送季度，如 2025Q3")
    v.add_argument("--format", choices=("text", "json"), default="text")

    t = sub.add_parser("templates", help="生成空白季报表模板")
    t.add_argument("--out", required=True, type=Path)
    t.add_argument("--campaign", type=int, default=2025)
    t.add_argument(
        "--submitter", help="报送单位名称（预填填报单位并只开放本单位类型的行）；all 为全部单位"
    )

    s = sub.add_parser("sample", help="生成样例报送数据")
    s.add_argument("--out", required=True, type=Path)
    s.add_argument("--seed", type=int, help="随机种子（默认取 config/sample.yaml 的 seed）")

    r = sub.add_parser("run", help="处理 data/raw/ 下的报表并发布数据仓库")
    r.add_argument("--quarter", type=_quarter, help="只处理该季度")

    sub.add_parser("demo", help="演示：生成样例数据（如 data/raw/ 为空）并运行全流程")

    q = sub.add_parser("sql", help="在已发布的数据仓库上执行查询")
    q.add_argument("query")

    from pipelines.mail.cli import add_commands  # subcommands with handler=…

    add_commands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        handler = getattr(args, "handler", None) or globals()[f"_cmd_{args.command}"]
        return handler(args)
    except UsageError as exc:
        print(f"jibao: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("jibao: 已中断", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: a message, never a traceback
        print(f"jibao: 内部错误：{type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS


def _cmd_validate(args: argparse.Namespace) -> int:
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
        print("jibao: 所给路径下没有找到任何报送文件", file=sys.stderr)
    return EXIT_OK if results and all(r.status == "accepted" for r in results) else EXIT_PROBLEMS


def _print_text(results: list) -> None:
    from pipelines.forms import load_forms

    forms = load_forms()
    by_file: dict[str, list] = {}
    for r in results:
        by_file.setdefault(r.file, []).append(r)
    for file, items in by_file.items():
        print(f"文件：{file}")
        for r in items:
            what = forms[r.form].name if r.form else "（未识别到季报表）"
            who = r.submitter or "（未识别报送单位）"
            quarter = r.quarter or "（季度不明）"
            sheet = f"工作表「{r.sheet}」 " if r.sheet else ""
            print(f"  {sheet}{what} {who} {quarter}：{STATUS_ZH[r.status]}")
            for i in r.issues:
                cell = f"[{i.cell}] " if i.cell else ""
                print(f"    - {SEVERITY_ZH[i.severity]} {cell}{i.message}")
        print()
    counts = {k: sum(r.status == k for r in results) for k in STATUS_ZH}
    print("合计：" + "，".join(f"{STATUS_ZH[k]} {n} 份" for k, n in counts.items()))


def _cmd_templates(args: argparse.Namespace) -> int:
    from pipelines.outputs.templates import write_templates

    written = write_templates(args.out, campaign=args.campaign, submitter=args.submitter)
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

    return run_pipeline(quarter=args.quarter)


def _cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.jobs import run_demo

    return run_demo()


def _cmd_sql(args: argparse.Namespace) -> int:
    from pipelines.jobs import run_sql

    return run_sql(args.query)


if __name__ == "__main__":
    sys.exit(main())
