"""A user is Django's user with a role and, for a submitter, the registered unit it reports for."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models

OFFICE, SUBMITTER, LEADER = "office", "submitter", "leader"
ROLE_CHOICES = [(OFFICE, "区安委会办公室"), (SUBMITTER, "报送单位"), (LEADER, "领导")]


def validate_unit(value: str) -> None:
    """A unit must be a registered submitter that owes returns (config/submitters.yaml)."""
    from pipelines.registry import load_registry

    names = {s.name for s in load_registry().submitters if s.forms}
    if value not in names:
        raise ValidationError(f"报送单位名录中没有「{value}」", code="unknown_unit")


class User(AbstractUser):
    role = models.CharField("角色", max_length=16, choices=ROLE_CHOICES, default=SUBMITTER)
    unit = models.CharField(
        "报送单位", max_length=64, blank=True, default="", validators=[validate_unit]
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def clean(self) -> None:
        super().clean()
        if self.role == SUBMITTER and not self.unit:
            raise ValidationError({"unit": "报送单位账户必须指定所属单位"})
        if self.role != SUBMITTER and self.unit:
            raise ValidationError({"unit": "只有报送单位账户属于某个单位"})

    @property
    def role_label(self) -> str:
        return dict(ROLE_CHOICES).get(self.role, self.role)
