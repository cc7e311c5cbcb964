"""The cyclic garbage collector paused while many objects are built (readers, segments, tables).

Building 10^5-10^6 records frees almost nothing, so every burst of allocations makes the
collector walk a heap that only grows: it took a third to most of the building time of the
REFI reader, ``qdx.segment.segments`` and the NVivo and Parquet table builders. None of those
objects forms a cycle, and reference counting still frees whatever is dropped; the collector
runs again, if it was on, as soon as the block ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused(*, keep: bool = False) -> Iterator[None]:
    """No cyclic collection inside the block.

    Args:
        keep: the objects built outlive the block (a project, its segments). Resuming would
            scan them all once more as young objects (0.1 s per 10^5 selections), so they join
            the oldest generation first: ``freeze()`` + ``unfreeze()``, a list splice. Never
            done when the application froze objects itself, which would thaw them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if keep and not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()  # everything frozen goes back to the oldest generation
            gc.enable()
