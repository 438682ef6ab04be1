"""pytest plugin loaded with ``-p leadwerk.testing`` before Django settings are read.

It selects the test environment (tasks run at once through the real huey storage) and gives every
test session — and every xdist worker — its own data directory and queue name.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("LEADWERK_ENV", "test")
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
os.environ.setdefault("LEADWERK_DATA_DIR", tempfile.mkdtemp(prefix=f"leadwerk-test-{_worker}-"))
os.environ.setdefault("LEADWERK_HUEY_NAME", f"leadwerk-test-{_worker}-{os.getpid()}")
