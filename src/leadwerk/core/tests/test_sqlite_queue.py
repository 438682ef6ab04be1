"""The SQLite backend queues write transactions for their turn (core/sqlite/base.py)."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest
from django.db import OperationalError

from leadwerk.core.sqlite.base import DatabaseWrapper


def wrapper(path, *, timeout: float = 10.0) -> DatabaseWrapper:
    settings = {
        "NAME": str(path), "ENGINE": "leadwerk.core.sqlite", "TIME_ZONE": None, "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False, "TEST": {},
        "USER": "", "PASSWORD": "", "HOST": "", "PORT": "",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": timeout},
    }  # fmt: skip
    return DatabaseWrapper(settings, alias=f"queue-{id(settings)}")


def begin(conn: DatabaseWrapper) -> None:
    conn.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)  # what atomic() does


def end(conn: DatabaseWrapper, *, commit: bool = True) -> None:
    conn.commit() if commit else conn.rollback()
    conn.set_autocommit(True)


def turn_taken(path) -> bool:
    """Whether some connection holds the write turn (tried from a descriptor of this test's own)."""
    fd = os.open(f"{path}-writers", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@pytest.fixture(autouse=True)
def _own_connections(django_db_blocker):
    with django_db_blocker.unblock():  # these tests open their own databases, not the test database
        yield


@pytest.fixture
def counter(tmp_path):
    path = tmp_path / "queue.sqlite3"
    conn = wrapper(path)
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE counter (n INTEGER)")
        cursor.execute("INSERT INTO counter VALUES (0)")
    conn.close()
    return path


@pytest.mark.parametrize("commit", [True, False])
def test_a_transaction_holds_the_turn_until_it_ends(counter, commit):
    conn = wrapper(counter)
    begin(conn)
    conn.cursor().execute("UPDATE counter SET n = n + 1")
    assert turn_taken(counter)
    end(conn, commit=commit)
    assert not turn_taken(counter)
    assert conn.cursor().execute("SELECT n FROM counter").fetchone()[0] == (1 if commit else 0)
    conn.close()


def test_closing_a_connection_in_a_transaction_gives_the_turn_back(counter):
    conn = wrapper(counter)
    begin(conn)
    conn.close()
    assert not turn_taken(counter)


def test_a_writer_that_never_gets_its_turn_fails_clearly_and_frees_the_queue(counter):
    holder = os.open(f"{counter}-writers", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another process writing for a long time
    conn = wrapper(counter, timeout=0.2)
    with pytest.raises(OperationalError, match="write turn"):
        begin(conn)
    os.close(holder)
    conn.set_autocommit(True)
    begin(conn)  # the process's queue was not left taken
    end(conn)
    conn.close()


def test_threads_write_in_turn_without_losing_an_update(counter):
    errors: list[Exception] = []

    def work():
        conn = wrapper(counter)
        try:
            for _ in range(25):
                begin(conn)
                with conn.cursor() as cursor:  # read, then write: a lost update if two ran at once
                    n = cursor.execute("SELECT n FROM counter").fetchone()[0]
                    cursor.execute("UPDATE counter SET n = ?", [n + 1])
                end(conn)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    conn = wrapper(counter)
    assert conn.cursor().execute("SELECT n FROM counter").fetchone()[0] == 100
    conn.close()


def test_an_in_memory_database_needs_no_queue(tmp_path):
    conn = wrapper(":memory:")
    begin(conn)
    assert conn._write_turn is None
    end(conn)
    conn.close()
