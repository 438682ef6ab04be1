"""The child side of a recompute split over processes (``scoring.score_recompute``).

Spawned children unpickle these functions before Django is set up, so this module imports nothing of the
app at import time: ``setup`` points the child at the parent's database and starts Django, then
``score_range`` scores one id range with the engine compiled once per child.
"""

from __future__ import annotations

import datetime as dt

_engines: dict = {}


def setup(database: str) -> None:
    import django
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = database  # e.g. the test database the parent runs on
    django.setup()


def score_range(tenant_id: int, start: int, end: int, by_id: int | None, reason: str, now: dt.datetime):
    from .scoring import _recompute_range, engine_build

    engine = _engines.get(tenant_id)
    if engine is None:
        engine = _engines[tenant_id] = engine_build(tenant_id)
    return _recompute_range(engine, start, end, by=by_id, reason=reason, now=now)
