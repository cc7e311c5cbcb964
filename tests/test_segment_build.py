"""``segments()`` builds its records the fast way (a plain twin given Segment's class, the cyclic
GC paused): what it returns must be Segments in every respect a caller can see, and the
collector must be left as the caller had it."""

from __future__ import annotations

import dataclasses
import gc

import pytest

from qdx.model import Code, Coding, Guid, Project, TextSelection, TextSource, User
from qdx.segment import Segment, segments


def g(n: int) -> Guid:
    return Guid(f"00000000-0000-4000-8000-{n:012d}")


def project() -> Project:
    code = Code(guid=g(1), name="c", children=(Code(guid=g(2), name="d"),))
    selections = tuple(TextSelection(guid=g(100 + i), start=i, end=i + 3,
                                     codings=(Coding(guid=g(200 + i), code=g(1 + i % 2), creating_user=g(9)),))
                       for i in range(5))
    return Project(codes=(code,), users=(User(guid=g(9), name="ann"),),
                   sources=(TextSource(guid=g(10), name="s", text="abcdefghij", selections=selections,
                                       codings=(Coding(guid=g(300), code=g(2)),)),))


def test_segments_are_segments() -> None:
    found = segments(project())
    assert len(found) == 6
    for seg in found:
        assert type(seg) is Segment
        fields = {f.name: getattr(seg, f.name) for f in dataclasses.fields(Segment)}
        same = Segment(**fields)  # built the ordinary way
        assert seg == same and hash(seg) == hash(same) and repr(seg) == repr(same)
        with pytest.raises(dataclasses.FrozenInstanceError):
            seg.text = "changed"  # type: ignore[misc]
        assert dataclasses.replace(seg, text="x").text == "x"
    # the values, written by hand from the project above
    assert [(s.start, s.end, s.text, s.code_path, s.coder, s.kind) for s in found[:2]] == [
        (0, 3, "abc", ("c",), "ann", "text"), (1, 4, "bcd", ("c", "d"), "ann", "text")]
    assert (found[-1].kind, found[-1].selection, found[-1].code_path) == ("source", None, ("c", "d"))


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        segments(project())
        assert gc.isenabled() == enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_objects_the_application_froze_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        segments(project())
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
