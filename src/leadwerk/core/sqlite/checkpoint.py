"""WAL checkpoints of a long write job (an import) in a thread of its own.

In WAL mode a commit that leaves more than ``wal_autocheckpoint`` pages (1,000) in the log copies the log back
into the database file before COMMIT returns. At a million people one import chunk of 5,000 rows dirties
≈ 25,000 pages (each index insert lands on a leaf page of its own), so every commit also copied ≈ 100 MB,
and the worker waited for it: 38 s of a 166-s import of a million rows (bench/import). With automatic
checkpoints switched off on the import's connection, a thread with its own connection copies the log while
the worker matches the next chunk: SQLite runs without Python's GIL, so on two cores the copy costs the
import almost nothing. A PASSIVE checkpoint never blocks a writer or a reader; SQLite starts the log afresh
at the next write once it is copied completely, so the log stays about as large as before.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


class WalCheckpointer:
    """A thread that checkpoints the database at ``path`` each time ``committed()`` is called.

    Calls that arrive while a checkpoint runs are folded into one more checkpoint after it.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.checkpoints = 0  # completed ones (tests)
        self._wanted = threading.Condition()
        self._pending = False
        self._busy = False
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        with self._wanted:
            self._pending = True
            self._wanted.notify()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no checkpoint is wanted or running (tests: close() also waits for the last one)."""
        with self._wanted:
            return self._wanted.wait_for(lambda: not self._pending and not self._busy, timeout=timeout)

    def close(self) -> None:
        with self._wanted:
            self._closing = True
            self._wanted.notify()
        self._thread.join()

    def _run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=20, check_same_thread=False)
        try:
            while True:
                with self._wanted:
                    self._wanted.wait_for(lambda: self._pending or self._closing)
                    if not self._pending:
                        return
                    self._pending, self._busy = False, True
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error:
                    # The next commit asks again; SQLite's log only grows meanwhile, nothing is lost.
                    log.warning("background WAL checkpoint failed", exc_info=True)
                finally:
                    with self._wanted:
                        self._busy = False
                        self._wanted.notify_all()
        finally:
            db.close()


@contextmanager
def background_checkpoints(connection) -> Iterator[WalCheckpointer | None]:
    """Checkpoint a Django connection's SQLite file in a thread while the block runs; call ``committed()``
    after each commit. None (nothing to do) on PostgreSQL and for databases without a WAL (in memory)."""
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        yield None
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        wal = cursor.fetchone()[0] == "wal"
        if wal:
            cursor.execute("PRAGMA wal_autocheckpoint")
            automatic = cursor.fetchone()[0]
            cursor.execute("PRAGMA wal_autocheckpoint=0")
    if not wal:
        yield None
        return
    checkpointer = WalCheckpointer(str(connection.settings_dict["NAME"]))
    try:
        yield checkpointer
    finally:
        checkpointer.close()
        if connection.connection is not None:  # the same connection still open: give it its checkpoints back
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA wal_autocheckpoint={int(automatic)}")
