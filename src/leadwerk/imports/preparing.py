"""A large import's rows prepared one chunk ahead, in a second process.

Preparing a row (names, e-mail syntax, phone numbers through phonenumbers, postcodes, attributes) is
pure CPU and about a third of a large import's time (bench/import). For a file of at least
``PARALLEL_MIN_ROWS`` rows still to import, and with ``settings.IMPORT_PROCESSES`` above 1, a spawned
process reads the file from the job's offset, runs the loader's ``prepare`` on each chunk and passes the
result through a queue that holds at most ``AHEAD`` chunks. The worker meanwhile matches and writes the
previous chunk (the loader's ``load``), in order, one transaction per chunk as before: crash safety,
cancelling and resuming do not change. The child never touches the database.

Spawned, not forked: the worker runs threads, and a fork would copy its open database connection.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue as queues
import traceback
from collections.abc import Iterator
from pathlib import Path

PARALLEL_MIN_ROWS = 20_000
AHEAD = 2
POLL_SECONDS = 5


def wanted(loader, rows_left: int) -> bool:
    from django.conf import settings

    return settings.IMPORT_PROCESSES > 1 and rows_left >= PARALLEL_MIN_ROWS and hasattr(loader, "prepare")


def prepared_chunks(
    loader, path: Path, delimiter: str, columns: int, *, offset: int, size: int
) -> Iterator[tuple[int, int, object]]:
    """(first row index, rows in the chunk, the loader's prepared chunk), in file order.

    Close the iterator (or let it finish) to stop the child; an error in the child is raised here. A loader's
    ``warm_up()``, if it has one, runs while the child starts and prepares the first chunk (≈ 3 s of Django's
    start and ≈ 1 s of rows the worker would otherwise wait for).
    """
    from django.utils import translation

    context = multiprocessing.get_context("spawn")
    channel = context.Queue(maxsize=AHEAD)
    child = context.Process(
        target=_produce,
        args=(channel, pickle.dumps(loader), str(path), delimiter, columns, offset, size, translation.get_language()),
        daemon=True,
    )
    child.start()
    try:
        if hasattr(loader, "warm_up"):
            loader.warm_up()
        while True:
            try:
                kind, payload = channel.get(timeout=POLL_SECONDS)
            except queues.Empty:
                if not child.is_alive():
                    code = child.exitcode
                    raise RuntimeError(f"The preparing process ended unexpectedly (exit code {code}).") from None
                continue
            if kind == "done":
                return
            if kind == "error":
                raise RuntimeError(f"Preparing rows failed in the second process:\n{payload}")
            yield payload
    finally:
        if child.is_alive():
            child.terminate()
        child.join(timeout=POLL_SECONDS)
        channel.close()


def _produce(channel, loader_bytes: bytes, path: str, delimiter: str, columns: int, offset: int, size: int, language):
    """The child: set up Django (settings from the inherited environment), then prepare chunk after chunk."""
    try:
        import django

        django.setup()
        from django.utils import translation

        from . import parsing

        translation.activate(language or "en")
        loader = pickle.loads(loader_bytes)  # noqa: S301 (our own object, from the parent process)
        first = offset
        for rows in parsing.read_chunks(Path(path), delimiter, columns, offset=offset, size=size):
            channel.put(("chunk", (first, len(rows), loader.prepare(rows, first + 2))))  # +2: header, 1-based
            first += len(rows)
        channel.put(("done", None))
    except BaseException:
        channel.put(("error", traceback.format_exc()))
        raise
