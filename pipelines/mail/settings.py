"""The mailbox's settings: alerts.yaml › mail, each overridable from the environment.

Nothing configured (no host) means no mail intake and no error: `load_settings()` returns None.
The password is read from JIBAO_IMAP_PASSWORD only; a password written in the file is refused,
so it cannot end up in the repository.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from pipelines import config

Tls = Literal["none", "starttls", "ssl"]
Mark = Literal["flag", "move"]
MiB = 1 << 20


class MailConfigError(Exception):
    """The mailbox is configured but the configuration cannot be used (Chinese message)."""


@dataclass(frozen=True, slots=True)
class MailSettings:
    host: str
    port: int
    tls: Tls
    user: str
    password: str
    folder: str = "INBOX"
    ca_file: str | None = None
    timeout: float = 30.0
    mark: Mark = "flag"
    flag: str = "JibaoProcessed"
    move_to: str = "季报已处理"
    poll_seconds: int = 30
    batch: int = 20
    max_message_bytes: int = 50 * MiB
    max_attachment_bytes: int = 20 * MiB
    replies_per_sender_per_hour: int = 10

    @property
    def account(self) -> str:
        """Who the processed-message record belongs to: user@host/folder."""
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"


def _env(name: str, raw: dict, key: str, default: object = None) -> object:
    value = os.environ.get(name)
    if value not in (None, ""):
        return value
    value = raw.get(key)
    return default if value is None else value


def _number(name: str, value: object, kind: type = int) -> int | float:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise MailConfigError(f"收件邮箱配置 {name} 应为数字，收到「{value}」") from None
    if number <= 0:
        raise MailConfigError(f"收件邮箱配置 {name} 应大于 0，收到「{value}」")
    return number


def load_settings() -> MailSettings | None:
    """The configured mailbox, or None when none is configured. Raises MailConfigError (Chinese)
    for a configuration that names a host but cannot be used."""
    raw = (config.load("alerts.yaml") or {}).get("mail") or {}
    host = _env("JIBAO_IMAP_HOST", raw, "host")
    if not host:
        return None
    if raw.get("password"):
        raise MailConfigError(
            "收件邮箱密码不能写在 alerts.yaml 中，请删除 mail.password，改用环境变量 JIBAO_IMAP_PASSWORD"
        )
    tls = str(_env("JIBAO_IMAP_TLS", raw, "tls", "ssl")).strip().lower()
    if tls not in ("none", "starttls", "ssl"):
        raise MailConfigError(f"JIBAO_IMAP_TLS 应为 none、starttls 或 ssl，收到「{tls}」")
    user = _env("JIBAO_IMAP_USER", raw, "user")
    password = os.environ.get("JIBAO_IMAP_PASSWORD")
    if not user or not password:
        raise MailConfigError(
            f"已配置收件邮箱 {host}，但缺少{'账号 JIBAO_IMAP_USER' if not user else '密码'}"
            f"{'' if password else '（环境变量 JIBAO_IMAP_PASSWORD）'}"
        )
    mark = str(_env("JIBAO_IMAP_MARK", raw, "mark", "flag")).strip().lower()
    if mark not in ("flag", "move"):
        raise MailConfigError(f"JIBAO_IMAP_MARK 应为 flag 或 move，收到「{mark}」")
    port = _env("JIBAO_IMAP_PORT", raw, "port") or (993 if tls == "ssl" else 143)
    mb = MiB
    return MailSettings(
        host=str(host),
        port=int(_number("JIBAO_IMAP_PORT", port)),
        tls=tls,  # type: ignore[arg-type]
        user=str(user),
        password=password,
        folder=str(_env("JIBAO_IMAP_FOLDER", raw, "folder", "INBOX")),
        ca_file=str(_env("JIBAO_IMAP_CA_FILE", raw, "ca_file", "")) or None,
        timeout=float(
            _number("JIBAO_IMAP_TIMEOUT", _env("JIBAO_IMAP_TIMEOUT", raw, "timeout", 30), float)
        ),
        mark=mark,  # type: ignore[arg-type]
        flag=str(_env("JIBAO_IMAP_FLAG", raw, "flag", "JibaoProcessed")),
        move_to=str(_env("JIBAO_IMAP_MOVE_TO", raw, "move_to", "季报已处理")),
        poll_seconds=int(
            _number(
                "JIBAO_IMAP_POLL_SECONDS", _env("JIBAO_IMAP_POLL_SECONDS", raw, "poll_seconds", 30)
            )
        ),
        batch=int(_number("mail.batch", raw.get("batch") or 20)),
        max_message_bytes=int(
            _number("mail.max_message_mb", raw.get("max_message_mb") or 50, float) * mb
        ),
        max_attachment_bytes=int(
            _number("mail.max_attachment_mb", raw.get("max_attachment_mb") or 20, float) * mb
        ),
        replies_per_sender_per_hour=int(
            _number(
                "mail.replies_per_sender_per_hour", raw.get("replies_per_sender_per_hour") or 10
            )
        ),
    )


def poll_seconds() -> int:
    """The sensor's interval, readable without a usable configuration (definitions load it)."""
    raw = (config.load("alerts.yaml") or {}).get("mail") or {}
    try:
        return max(1, int(_env("JIBAO_IMAP_POLL_SECONDS", raw, "poll_seconds", 30)))
    except (TypeError, ValueError):
        return 30
