"""Django's SQLite backend with a queue for write transactions.

SQLite has one writer at a time. A connection that finds the write lock taken waits in SQLite's busy handler,
which sleeps in growing steps (up to 100 ms) and tries again: under a steady stream of writes the lock is
mostly taken again by a newcomer before a sleeper wakes, so some requests wait seconds while others pass
(bench/intake: p99 2.8 s at a p50 of 81 ms). Here a write transaction (Django opens them with
``BEGIN IMMEDIATE``) first queues for the database's write turn: threads of one process on a lock with a
timeout, processes on an advisory lock of a file next to the database, so a waiter takes its turn as soon as
the writer before it commits instead of when its sleep ends. An in-memory database has one connection and
needs no queue. Writes outside a transaction (autocommit) still meet SQLite's own lock alone.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _process_lock(path: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._write_turn: tuple[threading.Lock, int] | None = None

    def _queue_path(self) -> str | None:
        if self.is_in_memory_db():
            return None
        return os.path.abspath(str(self.settings_dict["NAME"])) + "-writers"

    def _take_write_turn(self) -> None:
        path = self._queue_path()
        if path is None or self._write_turn is not None:
            return
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        deadline = time.monotonic() + timeout
        lock = _process_lock(path)
        if not lock.acquire(timeout=timeout):
            raise OperationalError("database is locked (waited for the write turn)")
        try:
            # One thread per process gets here, so at most one waiter per process polls the file lock.
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            pause = 0.0005
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        os.close(fd)
                        raise OperationalError("database is locked (waited for the write turn)") from None
                    time.sleep(pause)
                    pause = min(pause * 2, 0.004)
        except BaseException:
            lock.release()
            raise
        self._write_turn = (lock, fd)

    def _end_write_turn(self) -> None:
        turn, self._write_turn = self._write_turn, None
        if turn is not None:
            lock, fd = turn
            os.close(fd)  # closing the descriptor releases the file lock
            lock.release()

    def _start_transaction_under_autocommit(self):
        self._take_write_turn()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._end_write_turn()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._end_write_turn()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._end_write_turn()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._end_write_turn()
