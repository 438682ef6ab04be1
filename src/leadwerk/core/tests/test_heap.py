"""core.heap: a large structure built without collections, kept out of later ones, given back at the end."""

from __future__ import annotations

import gc

import pytest

from leadwerk.core import heap


@pytest.fixture(autouse=True)
def _clean_collector():
    """Each test starts and ends with nothing frozen and the collector on."""
    thresholds = gc.get_threshold()
    gc.unfreeze()
    gc.enable()
    yield
    gc.unfreeze()
    gc.enable()
    gc.set_threshold(*thresholds)


def test_long_lived_pauses_collections_while_building_then_freezes_what_it_built():
    with heap.long_lived():
        assert not gc.isenabled()
        built = [[index] for index in range(1000)]  # lists: objects the collector tracks
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(built)
    # Frozen means out of every generation: a full collection no longer sees them.
    assert all(not any(item is row for row in gc.get_objects(generation=2)) for item in built[:3])


def test_long_lived_leaves_a_disabled_collector_disabled():
    gc.disable()
    with heap.long_lived():
        pass
    assert not gc.isenabled()


def test_long_lived_freezes_and_restores_even_when_the_build_fails():
    with pytest.raises(RuntimeError), heap.long_lived():
        raise RuntimeError("the build failed")
    assert gc.isenabled()


def test_garbage_made_before_the_build_is_not_frozen():
    cycle: list = []
    cycle.append(cycle)
    del cycle  # unreachable, waiting for a collection
    with heap.long_lived():
        pass
    assert gc.collect() == 0  # collected by long_lived() before it froze, not kept for ever


def test_a_bulk_job_collects_less_often_and_gives_everything_back_also_on_error():
    before = gc.get_threshold()
    with pytest.raises(ValueError), heap.bulk_job():
        assert gc.get_threshold() == heap.BULK_THRESHOLDS
        with heap.long_lived():
            kept = [[index] for index in range(100)]
        assert gc.get_freeze_count() >= len(kept)
        raise ValueError("the job failed")
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_a_bulk_job_still_collects_cyclic_garbage():
    import weakref

    class Node:
        pass

    with heap.bulk_job():
        node = Node()
        node.me = node
        gone = weakref.ref(node)
        del node
        assert gone() is not None  # not yet: no collection since
        alive = [Node() for _ in range(heap.BULK_THRESHOLDS[0] + 1)]  # enough new objects for a young collection
        assert gone() is None
        assert len(alive) > heap.BULK_THRESHOLDS[0]


def test_overlapping_bulk_jobs_restore_the_collector_when_the_last_one_ends():
    """Two imports in two worker threads: the first to end must not undo the settings the other still runs on."""
    before = gc.get_threshold()
    first, second = heap.bulk_job(), heap.bulk_job()
    first.__enter__()
    second.__enter__()
    with heap.long_lived():
        kept = [[index] for index in range(100)]
    first.__exit__(None, None, None)
    assert gc.get_threshold() == heap.BULK_THRESHOLDS  # the second job is still running
    assert gc.get_freeze_count() >= len(kept)  # and its blocks stay frozen
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
