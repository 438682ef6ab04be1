from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "leadwerk.imports"
    label = "imports"
    verbose_name = "Imports"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the periodic clean-up with huey)
