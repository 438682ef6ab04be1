"""core.memo: answers once per request, and shared between requests only while their stamp is unchanged."""

from __future__ import annotations

import threading
import time

import pytest

from leadwerk.core.memo import config_memo, config_share, memoized

CONFIG: dict[int, str] = {}
READS: list[int] = []


@memoized
def setting(tenant_id: int) -> str:
    READS.append(tenant_id)
    return CONFIG[tenant_id]


NAMES = {setting.memo_name}


@pytest.fixture(autouse=True)
def _config():
    CONFIG.clear()
    CONFIG.update({1: "a", 2: "b"})
    READS.clear()


def request(tenant_id: int, stamp, *, share: bool = True) -> str:
    with config_memo():
        if share:
            config_share(tenant_id, stamp, NAMES)
        first = setting(tenant_id)
        assert setting(tenant_id) == first  # once per request
        return first


def test_outside_a_memo_every_call_reads():
    setting(1)
    setting(1)
    assert READS == [1, 1]


def test_a_memo_without_a_stamp_keeps_answers_for_its_request_only():
    request(1, None, share=False)
    request(1, None, share=False)
    assert READS == [1, 1]


def test_requests_with_the_same_stamp_share_the_answer():
    assert request(1, "s1") == "a"
    assert request(1, "s1") == "a"
    assert READS == [1]


def test_a_new_stamp_reads_again_and_sees_the_change():
    request(1, "s1")
    CONFIG[1] = "changed"
    assert request(1, "s2") == "changed"
    assert READS == [1, 1]


def test_answers_are_per_tenant():
    assert request(1, "s") == "a"
    assert request(2, "s") == "b"
    assert READS == [1, 2]


def test_an_answer_read_before_the_stamp_is_neither_shared_nor_kept():
    with config_memo():
        assert setting(1) == "a"  # before the stamp: configuration may have changed since
        CONFIG[1] = "changed"
        config_share(1, "s2", NAMES)
        assert setting(1) == "changed"
    assert request(1, "s2") == "changed"
    assert READS == [1, 1]


def test_functions_not_named_are_not_shared():
    with config_memo():
        config_share(1, "s", set())
        setting(1)
    request(1, "s", share=False)
    assert READS == [1, 1]


def test_sharing_needs_an_open_memo():
    with pytest.raises(RuntimeError):
        config_share(1, "s", NAMES)


def test_threads_never_get_an_answer_older_than_their_stamp():
    """Readers read the stamp, then the answer, while a writer keeps changing the configuration: whatever
    interleaving the threads take, no reader is served configuration older than the stamp it read."""
    database = {"version": 0}
    seen: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    @memoized
    def version(tenant_id: int) -> int:
        return database["version"]

    def reader() -> None:
        try:
            while not done.is_set():
                stamp = database["version"]
                with config_memo():
                    config_share(1, stamp, {version.memo_name})
                    seen.append((stamp, version(1)))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for t in readers:
        t.start()
    for _ in range(100):
        database["version"] += 1
        time.sleep(0.0005)
    done.set()
    for t in readers:
        t.join()
    assert not errors and seen
    assert all(answer >= stamp for stamp, answer in seen)
