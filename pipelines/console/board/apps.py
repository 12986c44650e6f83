from django.apps import AppConfig


class BoardConfig(AppConfig):
    name = "pipelines.console.board"
    label = "board"
    verbose_name = "报送看板"
