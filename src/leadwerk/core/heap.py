"""Keeping Python's cyclic garbage collector out of the way of a long bulk job (a large import).

A large import holds an in-memory index of a million people (``contacts.matching.BlockIndex``): millions of
lists and tuples that are never garbage. While it grows, every full collection walks all of it again, and
afterwards each full collection that the job's own churn triggers walks it once more. The job's churn itself
(dicts and tuples per row, freed by reference counting a moment later) sets off a young collection every
2,000 allocations. Measured at 100,000 rows into a million people (bench/import): ten full collections,
6.2 s of a 35 s import; at 1,000,000 rows 52 full collections and 18.7 s of 231 s.

``long_lived()`` builds such a structure with the collector paused and then freezes everything alive
(``gc.freeze``): frozen objects stay out of all later collections, while reference counting still frees them
as usual. ``bulk_job()`` around the job collects less often while it runs (young collections every
``BULK_THRESHOLDS[0]`` allocations, full ones practically not) and, when it ends, restores the thresholds
and gives whatever was frozen back to the collector, so that a long-running worker process collects it
again like any other object. Cyclic garbage the job makes is still collected, only in larger batches.

The collector's settings belong to the process, and the worker runs tasks in threads (two imports can run
at once): the first ``bulk_job()`` to start sets the thresholds, the last one to end restores them and
unfreezes.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Young collections every 200,000 allocations instead of 2,000; a full one after 50 × 1,000 of those. At
# 300,000 rows into a million people: 3.6 s of collections → 0.5 s, peak memory unchanged (bench/import).
BULK_THRESHOLDS = (200_000, 50, 1000)

_jobs_lock = threading.Lock()
_jobs = 0  # bulk jobs running in this process
_saved_thresholds: tuple[int, ...] = ()


@contextmanager
def long_lived() -> Iterator[None]:
    """Build a large long-lived structure inside this block: no collections meanwhile, then frozen.

    ``gc.freeze()`` freezes every object alive in the process, not only the structure: use this inside a
    ``bulk_job()``, whose end gives them back to the collector."""
    was_enabled = gc.isenabled()
    gc.collect()  # garbage made before this point is not frozen with the structure (cheap: small heap)
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


@contextmanager
def bulk_job() -> Iterator[None]:
    """Fewer collections inside this block; what ``long_lived()`` froze in it is collectable again after
    (once no other bulk job of the process runs)."""
    global _jobs, _saved_thresholds
    with _jobs_lock:
        if _jobs == 0:
            _saved_thresholds = gc.get_threshold()
            gc.set_threshold(*BULK_THRESHOLDS)
        _jobs += 1
    try:
        yield
    finally:
        with _jobs_lock:
            _jobs -= 1
            if _jobs == 0:
                gc.set_threshold(*_saved_thresholds)
                gc.unfreeze()
