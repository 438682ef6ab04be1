"""WAL checkpoints of a long write job (an import) in a thread of its own.

In WAL mode a commit that leaves more than ``wal_autocheckpoint`` pages (1,000) in the log copies the log back
into the database file before COMMIT returns. At a million people one import chunk of 5,000 rows dirties
≈ 25,000 pages (each index insert lands on a leaf page of its own), so every commit also copied ≈ 100 MB,
and the worker waited for it: 38 s of a 166-s import of a million rows (bench/import). With automatic
checkpoints switched off on the import's connection, a thread with its own connection copies the log while
the worker matches the next chunk: SQLite runs without Python's GIL, so on two cores the copy costs the
import almost nothing. A PASSIVE checkpoint never blocks a writer or a reader; SQLite starts the log afresh
at the next write once it is copied completely.

That last condition needs a bound: SQLite restarts the log only if, when the writer writes its first page of
a transaction, the whole log is copied already. If the copy takes longer than the job's work between two
commits (a slow disk, or a bare insert loop with no work between chunks), each checkpoint copies what was
there when it started while the writer appends behind it, the log is never restarted and grows with every
chunk: 11 GB during a 1M-row import on a host with slow writes (2026-12-02), and every page read then
searches an ever larger log index. So once a checkpoint finds the log beyond ``LOG_LIMIT_BYTES``, the next
``committed()`` waits for a checkpoint of everything committed so far: the writer's next page restarts the
log. When the thread keeps up, nobody waits.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

# A chunk of 5,000 rows at a million people writes ≈ 100 MB of log; beyond this the checkpoints fell behind.
LOG_LIMIT_BYTES = 256 * 1024 * 1024


class WalCheckpointer:
    """A thread that checkpoints the database at ``path`` each time ``committed()`` is called.

    Calls that arrive while a checkpoint runs are folded into one more checkpoint after it. When the last
    checkpoint found more than ``log_limit`` bytes of log, ``committed()`` waits for the next one.
    """

    def __init__(self, path: str, *, log_limit: int = LOG_LIMIT_BYTES) -> None:
        self.path = path
        self.log_limit = log_limit
        self.checkpoints = 0  # completed ones (tests)
        self.waits = 0  # commits that waited for a checkpoint (the log was beyond the limit)
        self.log_bytes = 0  # the log's length when the last checkpoint began
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
        if self.log_bytes > self.log_limit:
            # Fallen behind: copy all that is committed before the next write, which then restarts the log.
            self.waits += 1
            self.wait_idle()

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
            page_size = db.execute("PRAGMA page_size").fetchone()[0]
            while True:
                with self._wanted:
                    self._wanted.wait_for(lambda: self._pending or self._closing)
                    if not self._pending:
                        return
                    self._pending, self._busy = False, True
                try:
                    _busy, frames, _copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.log_bytes = max(frames, 0) * page_size
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
