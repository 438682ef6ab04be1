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
    """Refresh SQLite's planner statistics, one table at a time, each in a short transaction of its own.

    Without statistics SQLite walks the name index for every search at a million people (seconds instead of
    milliseconds, bench/lists). The statistics are exact, not sampled: ``PRAGMA analysis_limit`` reads only
    the first rows of each index, and as every index starts with the tenant, those rows all belong to one
    tenant, so SQLite took ``tenant_id`` for as selective as a postcode. It then answered an import's
    candidate query from the tenant index, a million rows per batch (bench/import: 46 rows/s instead of
    thousands). Exact statistics of every table take 3.8 s at 1M people and 1M leads, the largest table
    (lead events) 1.7 s. Writers wait for one table at a time, once an hour, after migrations and after each
    import. Each table's ``IMMEDIATE`` transaction queues behind writers instead of failing with "database is
    locked".
    """
    from django.db import connections, transaction

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=0")  # no sampling (the connection may have set a limit before)
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        tables = [row[0] for row in cursor.fetchall()]
    for table in tables:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


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
