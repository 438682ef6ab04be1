from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve the web application with granian (WSGI) and whitenoise for static files."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=settings.SERVE_HOST, help="Bind address (LEADWERK_HOST).")
        parser.add_argument("--port", type=int, default=settings.SERVE_PORT, help="Port (LEADWERK_PORT).")
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.SERVE_WORKERS,
            help="Processes, one per core (LEADWERK_WEB_WORKERS).",
        )
        parser.add_argument("--threads", type=int, default=8, help="Blocking threads per worker.")

    def handle(self, *args, host: str, port: int, workers: int, threads: int, **options) -> None:
        from granian import Granian
        from granian.constants import Interfaces

        if workers < 1 or not (0 < port < 65536):
            raise CommandError("--workers must be at least 1 and --port between 1 and 65535.")
        self.stdout.write(f"Leadwerk on http://{host}:{port}/ ({workers} worker(s))")
        Granian(
            "leadwerk.wsgi:application",
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=workers,
            blocking_threads=threads,
        ).serve()
