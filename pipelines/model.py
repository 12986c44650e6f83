"""What one pass of the front door produces: returns found in files, their values and issues.

These are the records every later step consumes (warehouse, alerts, CLI JSON); they are plain
dataclasses so that worker processes can pickle them cheaply.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]
Status = Literal["accepted", "rejected", "unreadable"]


@dataclass(frozen=True, slots=True)
class Issue:
    severity: Severity
    rule: str  # stable rule id, e.g. "blank", "form1.fixed_le_found", "encrypted"
    cell: str | None  # A1 reference on the return's sheet
    message: str  # Chinese, actionable
    row_key: str | None = None
    column_id: str | None = None
    value: str | None = None  # the value found, as text

    def contract(self) -> dict:
        """The fields of `jibao validate --format json`."""
        return {
            "severity": self.severity,
            "rule": self.rule,
            "cell": self.cell,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Value:
    row_key: str
    column_id: str
    value: float | None  # None only when the return was rejected for this cell
    cell: str | None  # None for a value the front door derived (a total the layout leaves out)


@dataclass(slots=True)
class ReturnResult:
    """One form on one sheet of one file; or, with form None, a file in which none was found."""

    file: str
    sheet: str | None
    form: str | None
    submitter: str | None
    quarter: str | None
    status: Status
    issues: list[Issue] = field(default_factory=list)
    values: list[Value] = field(default_factory=list)
    sha256: str | None = None
    campaign: int | None = None
    submitter_text: str | None = None  # 填报单位 as written
    filled_by: str | None = None  # 填表人
    phone: str | None = None
    header_date: str | None = None  # ISO date from the header line
    file_format: str | None = None

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def contract(self) -> dict:
        return {
            "file": self.file,
            "sheet": self.sheet,
            "form": self.form,
            "submitter": self.submitter,
            "quarter": self.quarter,
            "status": self.status,
            "issues": [i.contract() for i in self.issues],
        }

    def to_dict(self) -> dict:
        return asdict(self)
