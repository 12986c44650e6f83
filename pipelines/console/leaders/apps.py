from django.apps import AppConfig


class LeadersConfig(AppConfig):
    name = "pipelines.console.leaders"
    label = "leaders"
    verbose_name = "进展报告"
