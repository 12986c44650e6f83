from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pipelines.console.accounts"
    label = "accounts"
    verbose_name = "账户"
