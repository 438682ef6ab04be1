"""The product's settings plus one bench-only URL: the issue's bare ceiling endpoint (bench/intake/bare/urls.py).

Only the bench's server loads this (``DJANGO_SETTINGS_MODULE=settings`` with this directory on the path).
"""

from leadwerk.settings import *  # noqa: F403

ROOT_URLCONF = "urls"
