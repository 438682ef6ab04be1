from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run the background-job worker (huey consumer). Pass --scheduler on exactly one worker of a "
        "deployment: it enqueues the periodic jobs."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--scheduler", action="store_true", help="Also run the periodic jobs (one per deployment).")
        parser.add_argument(
            "--threads", type=int, default=None, help="Worker threads (default LEADWERK_WORKER_THREADS)."
        )

    def handle(self, *args, scheduler: bool, threads: int | None, **options) -> None:
        argv: list[str] = []
        if not scheduler:
            argv.append("--no-periodic")
        if threads:
            argv += ["--workers", str(threads)]
        call_command("run_huey", *argv)
