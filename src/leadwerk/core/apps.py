from django.apps import AppConfig
from django.core.signals import request_started
from django.db.backends.signals import connection_created


def _sqlite_pragmas(sender, connection, **kwargs) -> None:
    """WAL lets readers and one writer work at once; the web server and worker share the file."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")


def _sqlite_optimize(sender, **kwargs) -> None:
    """Keep SQLite's planner statistics current, as SQLite recommends for long-lived connections.

    ``PRAGMA optimize`` runs ANALYZE only on tables this connection has queried whose statistics are
    missing or far out of date; otherwise it costs microseconds. Without statistics SQLite walks the
    name index for every search at a million people (seconds instead of milliseconds, bench/lists).
    Run at the start of a request, on a connection kept open from earlier ones (CONN_MAX_AGE).
    """
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if connection.vendor == "sqlite" and connection.connection is not None and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA optimize")


class CoreConfig(AppConfig):
    name = "leadwerk.core"
    label = "core"
    verbose_name = "Leadwerk core"

    def ready(self) -> None:
        connection_created.connect(_sqlite_pragmas, dispatch_uid="leadwerk_sqlite_pragmas")
        request_started.connect(_sqlite_optimize, dispatch_uid="leadwerk_sqlite_optimize")
