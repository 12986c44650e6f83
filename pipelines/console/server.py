"""`jibao serve`: Django behind gunicorn (threads per worker process), migrations applied and
static files collected on start. Each worker warms the front door (reader pool, rule imports)
once, so the first upload is answered as fast as the others, and answers uploads a dead worker
left pending."""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
import threading

log = logging.getLogger(__name__)


def setup_django(*, migrate: bool = True) -> None:
    """Settings, app registry, and Django's own tables (accounts, sessions, lockouts)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipelines.console.settings")
    import django
    from django.core.management import call_command

    django.setup()
    if migrate:
        call_command("migrate", interactive=False, verbosity=0)


def port_taken(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def warm_up() -> None:
    """Run the front door once on a blank template: starts the reader pool and imports the
    rules, in the background, so the first submitter does not pay for it."""
    import tempfile
    from pathlib import Path

    from django.conf import settings

    from pipelines.console.uploads import intake
    from pipelines.outputs.templates import write_templates
    from pipelines.validate import validate_paths

    try:
        with tempfile.TemporaryDirectory(prefix="jibao-warm-") as tmp:
            validate_paths(write_templates(Path(tmp), campaign=_campaign())[:1])
        intake.resume_orphans(settings.PATHS)
    except Exception as exc:  # warming is an optimisation: the first upload does it otherwise
        log.warning("warm-up failed: %s", exc)


def _campaign() -> int:
    from pipelines import periods
    from pipelines.console.clock import office_today

    return periods.collecting_quarter(office_today()).campaign


def serve(host: str, port: int) -> int:
    from pipelines.console.cli import EXIT_PORT_IN_USE, EXIT_USAGE
    from pipelines.console.conf import console_config

    if not 0 < port < 65536:
        print(f"jibao：端口应在 1–65535 之间，收到 {port}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if port_taken(host, port):
            print(
                f"jibao：端口 {port} 已被其他程序占用（{host}），请用 --port 换一个端口，"
                "或先停止占用它的程序",
                file=sys.stderr,
            )
            return EXIT_PORT_IN_USE
    except OSError as exc:
        print(f"jibao：无法监听 {host}:{port}：{exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    from django.db import connections

    from pipelines.console.accounts.models import User

    conf = console_config()["server"]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"季报网页控制台：http://{shown}:{port}/ （数据目录 {settings.PATHS.data}；Ctrl-C 停止）")
    if not User.objects.exists():
        print("还没有账户。新建办公室账户：jibao users add 用户名 --role office")
    sys.stdout.flush()
    connections.close_all()  # the workers fork from here: each opens its own
    _Gunicorn(
        {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": int(conf["workers"]),
            "threads": int(conf["threads"]),
            "worker_class": "gthread",
            "timeout": int(conf["timeout_s"]),
            "graceful_timeout": 10,
            "keepalive": int(conf["keepalive_s"]),
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "post_worker_init": _post_worker_init,
            "proc_name": "jibao-serve",
        }
    ).run()
    return 0


def _post_worker_init(worker) -> None:
    threading.Thread(target=warm_up, name="jibao-warm-up", daemon=True).start()


def _application():
    from pipelines.console.wsgi import application

    return application


try:
    from gunicorn.app.base import BaseApplication
except ImportError:  # pragma: no cover - gunicorn is a dependency
    BaseApplication = object  # type: ignore[assignment,misc]


class _Gunicorn(BaseApplication):
    """gunicorn's documented custom application: the console's WSGI app with our settings."""

    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self):
        return _application()
