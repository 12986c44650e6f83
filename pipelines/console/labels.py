"""Chinese words for ledger values, in one place for every page."""

from __future__ import annotations

from pipelines.forms import load_forms
from pipelines.warehouse.receipts import CHANNEL_LABELS

STATUS_ZH = {"accepted": "通过", "rejected": "退回", "unreadable": "无法读取"}
SEVERITY_ZH = {"error": "错误", "warning": "提示"}
ISSUE_STATUS_ZH = {
    "open": "待处理",
    "resolved": "已由新版本更正",
    "explained": "已说明（强制上报）",
}


def versions(found: list[dict]) -> list[dict]:
    forms = load_forms()
    for v in found:
        v["status_label"] = STATUS_ZH.get(v.get("status"), v.get("status") or "")
        v["channel_label"] = CHANNEL_LABELS.get(v.get("channel") or "folder", v.get("channel"))
        v["form_name"] = forms[v["form"]].name if v.get("form") in forms else None
        for i in v.get("issues", []):
            i["severity_label"] = SEVERITY_ZH.get(i["severity"], i["severity"])
            i["status_label"] = ISSUE_STATUS_ZH.get(i["status"], i["status"])
    return found
