"""qdx.collector.collector_paused: the one way qdx pauses the cyclic garbage collector."""

from __future__ import annotations

import gc

import pytest

from qdx.collector import collector_paused


@pytest.mark.parametrize("keep", [False, True])
def test_paused_inside_and_as_before_after(keep: bool) -> None:
    assert gc.isenabled()
    with collector_paused(keep=keep):
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()  # an application that turned it off keeps it off
    try:
        with collector_paused(keep=keep):
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_resumed_after_an_error() -> None:
    with pytest.raises(ValueError), collector_paused(keep=True):
        raise ValueError("a reader failed")
    assert gc.isenabled()


def test_kept_objects_join_the_oldest_generation_and_nothing_stays_frozen() -> None:
    gc.collect()  # generation 2 starts without them, whatever earlier tests left
    with collector_paused(keep=True):
        built = [[i] for i in range(10_000)]  # tracked containers, as a reader builds them
    oldest = gc.get_objects(generation=2)
    assert any(o is built for o in oldest)  # kept: not scanned again as young objects
    assert any(o is built[-1] for o in oldest)
    assert gc.get_freeze_count() == 0


def test_what_the_application_froze_stays_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_paused(keep=True):
            _ = [[i] for i in range(100)]
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
