from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


def _sqlite_pragmas(sender, connection, **kwargs) -> None:
    """WAL lets readers and one writer work at once; the web server and worker share the file."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")


def sqlite_analyze(using: str = "default") -> None:
    """Refresh SQLite's planner statistics (approximate, bounded work per index).

    Without statistics SQLite walks the name index for every search at a million people (seconds instead of
    milliseconds, bench/lists). ``analysis_limit`` keeps ANALYZE to about 1,000 rows per index, so it takes
    milliseconds even on large tables. It runs after migrations, after each import and hourly in the worker,
    inside an IMMEDIATE transaction so it queues behind writers instead of failing with "database is locked"
    (which it did when run at the start of every request).
    """
    from django.db import connections, transaction

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("ANALYZE")


def _analyze_after_migrate(sender, using="default", **kwargs) -> None:
    if sender.name == "leadwerk.core":
        sqlite_analyze(using)


class CoreConfig(AppConfig):
    name = "leadwerk.core"
    label = "core"
    verbose_name = "Leadwerk core"

    def ready(self) -> None:
        connection_created.connect(_sqlite_pragmas, dispatch_uid="leadwerk_sqlite_pragmas")
        post_migrate.connect(_analyze_after_migrate, dispatch_uid="leadwerk_sqlite_analyze")
