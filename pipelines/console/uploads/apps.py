from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "pipelines.console.uploads"
    label = "uploads"
    verbose_name = "上传报表"
