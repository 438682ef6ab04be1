from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_pragmas(sender, connection, **kwargs) -> None:
    """WAL lets readers and one writer work at once; the web server and worker share the file."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")


class CoreConfig(AppConfig):
    name = "leadwerk.core"
    label = "core"
    verbose_name = "Leadwerk core"

    def ready(self) -> None:
        connection_created.connect(_sqlite_pragmas, dispatch_uid="leadwerk_sqlite_pragmas")
