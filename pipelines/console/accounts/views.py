"""Login, logout, the landing redirect and the CSRF refusal page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from pipelines.console.accounts.models import LEADER, OFFICE, SUBMITTER

HOME_OF = {OFFICE: "board:index", SUBMITTER: "uploads:index", LEADER: "leaders:index"}


@login_required
def home(request):
    return redirect(HOME_OF.get(request.user.role, "login"))


def csrf_failure(request, reason: str = ""):
    return render(request, "accounts/csrf_failure.html", status=403)
