"""The office manages accounts in Django's admin (简体中文)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from pipelines.console.accounts.models import User


@admin.register(User)
class ConsoleUserAdmin(UserAdmin):
    list_display = ("username", "role", "unit", "is_active", "last_login")
    list_filter = ("role", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("季报", {"fields": ("role", "unit")}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("季报", {"fields": ("role", "unit")}))


admin.site.site_header = "季报管理"
admin.site.site_title = "季报管理"
