"""Creating accounts (`jibao users add`, `jibao demo`): the same checks as the admin's."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from pipelines.console.accounts.models import OFFICE, ROLE_CHOICES, SUBMITTER, User


class AccountError(Exception):
    """Why an account could not be created (Chinese)."""


def _messages(exc: ValidationError) -> str:
    return "；".join(str(m) for m in exc.messages)


def add_user(username: str, role: str, password: str, *, unit: str | None = None) -> User:
    """Create (or, for an existing name, update) an account; raises AccountError."""
    if role not in dict(ROLE_CHOICES):
        raise AccountError(f"角色应为 office、submitter 或 leader，收到「{role}」")
    user = User.objects.filter(username=username).first() or User(username=username)
    user.role = role
    user.unit = unit or ""
    user.is_staff = user.is_superuser = role == OFFICE  # the office manages accounts in /admin/
    try:
        user.full_clean(exclude=["password"])
        validate_password(password, user)
    except ValidationError as exc:
        raise AccountError(_messages(exc)) from None
    user.set_password(password)
    with transaction.atomic():
        user.save()
    return user


def describe(user: User) -> str:
    unit = f"（{user.unit}）" if user.role == SUBMITTER else ""
    return f"{user.username}：{user.role_label}{unit}"
