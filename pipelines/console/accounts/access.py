"""The one place access rules live. Every view asks `scope_of(request.user)` which units it may
show and filters its warehouse queries with `Scope.sql`; office pages are behind `office_only`.
A view cannot show another unit's data without going around this module.

- office: every unit, every page, the admin;
- submitter: its own unit's returns, letters and template, and nothing of the office;
- leader: the reports, nothing else.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from pipelines.console.accounts.models import LEADER, OFFICE, SUBMITTER


@dataclass(frozen=True)
class Scope:
    """Which units' returns a user may see: `units` None means all of them."""

    units: frozenset[str] | None

    def allows(self, unit: str | None) -> bool:
        return self.units is None or (unit is not None and unit in self.units)

    def sql(self, column: str = "submitter") -> tuple[str, list[str]]:
        """A WHERE fragment and its parameters restricting `column` to the scope."""
        if self.units is None:
            return "true", []
        if not self.units:
            return "false", []
        marks = ", ".join("?" for _ in self.units)
        return f"{column} in ({marks})", sorted(self.units)

    def require(self, unit: str | None) -> None:
        if not self.allows(unit):
            raise PermissionDenied("无权查看其他单位的报表")


def scope_of(user) -> Scope:
    if not user.is_authenticated:
        return Scope(frozenset())
    if user.role == OFFICE:
        return Scope(None)
    if user.role == SUBMITTER and user.unit:
        return Scope(frozenset({user.unit}))
    return Scope(frozenset())


def roles_required(*roles: str) -> Callable:
    """Login first (redirect to /login/), then the role: anyone else gets 403."""

    def decorate(view: Callable) -> Callable:
        @login_required
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.user.role not in roles:
                raise PermissionDenied("您的账户无权访问此页面")
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


office_only = roles_required(OFFICE)
submitter_only = roles_required(SUBMITTER)
returns_readers = roles_required(OFFICE, SUBMITTER)
report_readers = roles_required(OFFICE, LEADER)
