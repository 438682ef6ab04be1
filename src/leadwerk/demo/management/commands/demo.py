from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from leadwerk.demo import services


class Command(BaseCommand):
    help = "Create/migrate the database, load the demo tenants, print the logins, then serve web + worker."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--reset", action="store_true", help="Remove and rebuild the demo tenants.")
        parser.add_argument("--no-serve", action="store_true", help="Only prepare the data; do not start servers.")
        parser.add_argument("--host", default=settings.SERVE_HOST, help="Bind address (LEADWERK_HOST).")
        parser.add_argument("--port", type=int, default=settings.SERVE_PORT, help="Port (LEADWERK_PORT).")

    def handle(self, *args, reset: bool, no_serve: bool, host: str, port: int, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(self.style.SUCCESS(f"Database ready: {settings.DATABASES['default']['NAME']}"))
        if reset:
            services.demo_reset()
            self.stdout.write("Demo tenants removed; rebuilding.")
        logins = services.demo_load()
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING(f"Demo logins (password for all: {services.DEMO_PASSWORD})"))
        width = max(len(email) for _, email, _ in logins)
        for slug, email, role in logins:
            self.stdout.write(f"  {slug:<10} {email:<{width}}  {role}")
        self.stdout.write("")
        # Counts of what exists, not of what this run created: a second run prints the same.
        for slug, counts in services.demo_contacts():
            self.stdout.write(
                f"  {slug:<10} marketing database: {counts['organizations']:,} organisations, "
                f"{counts['people']:,} people ({counts['email_granted']:,} with e-mail consent, "
                f"{counts['duplicates']:,} probable duplicates), {counts['consents']:,} consent records, "
                f"{counts['suppressions']:,} suppressions"
            )
        for slug, counts in services.demo_leads():
            self.stdout.write(
                f"  {slug:<10} leads: {counts['leads']:,} ({counts['open']:,} open, {counts['won']:,} won, "
                f"{counts['lost']:,} lost), {counts['events']:,} events, {counts['follow_ups']:,} follow-ups"
            )
        self.stdout.write("")
        if no_serve:
            return
        self._serve(host, port)

    def _serve(self, host: str, port: int) -> None:
        """Web and worker as child processes; Ctrl-C or SIGTERM stops both."""
        cli = [sys.executable, "-m", "leadwerk.cli"]
        env = os.environ.copy()
        children = [
            subprocess.Popen([*cli, "worker", "--scheduler"], env=env),  # noqa: S603  (our own CLI)
            subprocess.Popen([*cli, "serve", "--host", host, "--port", str(port)], env=env),  # noqa: S603
        ]
        self.stdout.write(self.style.SUCCESS(f"Open http://{host}:{port}/ — press Ctrl-C to stop."))

        stopping = False

        def stop(*_args) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        self.stdout.write("Stopped web and worker.")
