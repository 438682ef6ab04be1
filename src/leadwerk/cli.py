"""The ``leadwerk`` command: Django's manage.py plus ``demo``, ``serve`` and ``worker``."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadwerk.settings")
    from django.core.exceptions import ImproperlyConfigured

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "leadwerk"
    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(argv)
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
