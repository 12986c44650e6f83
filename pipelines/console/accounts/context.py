"""Template context: the user's role, for the navigation bar."""

from __future__ import annotations

from pipelines.console.accounts.models import LEADER, OFFICE, SUBMITTER


def role(request) -> dict:
    user = getattr(request, "user", None)
    r = getattr(user, "role", None) if user is not None and user.is_authenticated else None
    return {"is_office": r == OFFICE, "is_submitter": r == SUBMITTER, "is_leader": r == LEADER}
