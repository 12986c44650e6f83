"""Demo accounts for `jibao demo` (config/console.yaml › demo_accounts): one per role, with a new
random password each time the demo runs, printed once so the console can be tried at once."""

from __future__ import annotations

import os
import secrets

from pipelines.paths import Paths


def create_demo_accounts(paths: Paths) -> list[str]:
    """Create or reset the demo accounts under `paths`; the lines that tell how to log in."""
    saved = os.environ.get("JIBAO_HOME")
    os.environ["JIBAO_HOME"] = str(paths.root)
    try:
        from pipelines.console.server import setup_django

        setup_django()
    finally:
        if saved is None:
            os.environ.pop("JIBAO_HOME", None)
        else:
            os.environ["JIBAO_HOME"] = saved
    from django.conf import settings

    from pipelines.console.accounts.users import add_user, describe
    from pipelines.console.conf import console_config

    if settings.PATHS.root != paths.root:
        raise RuntimeError(f"the console is set up for {settings.PATHS.root}, not {paths.root}")
    lines = [
        "网页控制台：运行 uv run jibao serve，然后打开 http://127.0.0.1:8000/ 登录。演示账户（密码只显示这一次）："
    ]
    for spec in console_config()["demo_accounts"]:
        password = secrets.token_urlsafe(9)
        user = add_user(spec["username"], spec["role"], password, unit=spec.get("unit"))
        lines.append(f"  {describe(user)}　用户名 {user.username}　密码 {password}")
    lines.append("正式使用时请删除演示账户，用 jibao users add 新建账户。")
    return lines
