"""An isolated office for the mailbox tests: data root, a configuration copy that knows the
units' sender addresses and has small mail limits, and the IMAP/SMTP environment."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from pipelines import config
from pipelines.paths import Paths

if TYPE_CHECKING:  # the fixtures module is a pytest plugin: imported by pytest, not here
    from tests.mail_fixtures import Mailbox, SmtpSink

# Known sender addresses (submitters.yaml › emails) in the test configuration.
ADDRESSES = {
    "常泰街道": "ctjd_ajb@163.com",
    "开元街道": "kyjd_ajb@163.com",
    "江南街道": "3141592653@qq.com",
    "区卫健局": "wjj_aqk@lc.gov.cn",
}
LIMITS = {"max_message_mb": 1, "max_attachment_mb": 0.25, "replies_per_sender_per_hour": 3}


@dataclass
class Office:
    paths: Paths
    config_dir: Path
    mailbox: Mailbox
    smtp: SmtpSink


def office_config(folder: Path, **mail: object) -> Path:
    """A copy of pipelines/config with sender addresses and `mail` settings changed."""
    target = folder / "config"
    shutil.copytree(config.DEFAULT_DIR, target, ignore=shutil.ignore_patterns("__*"))
    subs = yaml.safe_load((target / "submitters.yaml").read_text(encoding="utf-8"))
    for s in subs["submitters"]:
        if s["name"] in ADDRESSES:
            s["emails"] = [ADDRESSES[s["name"]]]
    (target / "submitters.yaml").write_text(yaml.safe_dump(subs, allow_unicode=True), "utf-8")
    alerts = yaml.safe_load((target / "alerts.yaml").read_text(encoding="utf-8"))
    alerts["mail"] = alerts.get("mail", {}) | LIMITS | mail
    (target / "alerts.yaml").write_text(yaml.safe_dump(alerts, allow_unicode=True), "utf-8")
    return target


def set_office(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox, smtp: SmtpSink, *,
    tls: str = "none", **mail: object,
) -> Office:  # fmt: skip
    home = tmp_path / "home"
    cfg = office_config(tmp_path, **mail)
    monkeypatch.setenv("JIBAO_HOME", str(home))
    monkeypatch.setenv("JIBAO_CONFIG_DIR", str(cfg))
    monkeypatch.delenv("JIBAO_WAREHOUSE", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    for key, value in (mailbox.env(tls) | smtp.env()).items():
        monkeypatch.setenv(key, value)
    return Office(Paths(home), cfg, mailbox, smtp)
