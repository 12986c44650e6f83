"""Demo accounts for `jibao demo` (config/console.yaml › demo_accounts): one per role, with a new
random password each time the demo runs, printed once so the console can be tried at once.

Created in a child process: Django's settings are read once per process, and the demo (or a
test) may run for a data root other than the one this process's console was set up for."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from pipelines.paths import Paths


def create_demo_accounts(paths: Paths) -> list[str]:
    """Create or reset the demo accounts under `paths`; the lines that tell how to log in."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["JIBAO_HOME"] = str(paths.root)
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.console.demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["（无输出）"])[-1]
        return [f"网页控制台的演示账户未能创建：{last}"]
    return done.stdout.splitlines()


def _create_here() -> list[str]:
    from pipelines.console.server import setup_django

    setup_django()
    from pipelines.console.accounts.users import add_user, describe
    from pipelines.console.conf import console_config

    lines = [
        "网页控制台：运行 uv run jibao serve，然后打开 http://127.0.0.1:8000/ 登录。"
        "演示账户（密码只显示这一次）："
    ]
    for spec in console_config()["demo_accounts"]:
        password = secrets.token_urlsafe(9)
        user = add_user(spec["username"], spec["role"], password, unit=spec.get("unit"))
        lines.append(f"  {describe(user)}　用户名 {user.username}　密码 {password}")
    lines.append("正式使用时请停用演示账户（/admin/），用 jibao users add 新建账户。")
    return lines


if __name__ == "__main__":
    print("\n".join(_create_here()))
