"""Users, Variables, Cases and Links are read in batches as they end (issue 15: 10^6 users took
~30 s through one call per user). The batched read must give what the whole-tree reader gives
-- records, locations, issues and their order -- for every shape, across batch boundaries."""

from __future__ import annotations

from dataclasses import fields

from qdx.formats.refi._context import Context
from qdx.formats.refi.reader import parse_xml, read_document
from qdx.formats.refi.records import read_user, read_users
from qdx.formats.refi.roots import read_root
from qdx.formats.refi.streaming import _Streamer

NS = "urn:QDA-XML:project:1.0"


def _odd_user(i: int) -> str:
    """Every shape the fast loop must hand to read_user, by turns."""
    g = f"bbbbbbbb-0000-0000-0001-{i:012d}"
    shapes = [
        f'<User guid="{{{g}}}" name="braced"/>',
        f'<User guid=" {g}" name="blank"/>',
        '<User name="no guid"/>',
        f'<User guid="{g}" name="extra" colour="red"/>',
        f'<User guid="{g}" name="ns" xmlns:q="urn:q" q:x="1"/>',
        f'<User guid="{g}" id="only id"/>',
        f'<User guid="{g}" name="child"><Unknown/><Unknown/></User>',
        "<!-- a comment between users -->",
        f'<q:User xmlns:q="urn:other" guid="{g}" name="other namespace"/>',
        '<User guid="bbbbbbbb-0000-0000-0000-000000000003" name="duplicate"/>',
    ]
    return shapes[i % len(shapes)]


def _users(n: int) -> str:
    parts = []
    for i in range(n):
        if i % 89 == 0 or _Streamer.BATCH - 3 <= i % _Streamer.BATCH or i % _Streamer.BATCH < 3:
            parts.append(_odd_user(i))
        else:
            keys = f'name="user {i}" guid="bbbbbbbb-0000-0000-0000-{i:012d}"'
            parts.append(f'<User {keys} id="{i}"/>' if i % 7 else f"<User {keys}/>")  # layouts change
    return "\n".join(parts)


def _document() -> bytes:
    n = 3 * _Streamer.BATCH + 7  # several batches and a ragged last one
    cases = "\n".join(f'<Case guid="dddddddd-0000-0000-0000-{i:012d}" name="c{i}"/>' for i in range(600))
    variables = "\n".join(
        f'<Variable guid="eeeeeeee-0000-0000-0000-{i:012d}" name="v{i}" typeOfVariable="Text"/>' for i in range(520)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="p">\n<Users>\n{_users(n)}\n'
        "<Unknown/>\n</Users>\n"
        f"<Variables>\n{variables}\n</Variables>\n<Cases>\n{cases}\n</Cases>\n</Project>"
    ).encode()


def test_batched_users_equal_read_user_element_by_element() -> None:
    root = parse_xml(_document(), "x")
    els = [el for el in root.iter() if isinstance(el.tag, str) and el.tag.endswith("}User")]
    fast, slow = Context(label="x"), Context(label="x")
    got = read_users(els, fast)
    want = [read_user(el, slow) for el in els]
    assert got == want and [u.loc for u in got] == [u.loc for u in want]
    assert fast.issues == slow.issues and len(fast.issues) > 0
    assert fast.owned == slow.owned and fast.owned_at == slow.owned_at and fast.braced == slow.braced
    assert fast.outside == slow.outside and len(fast.outside) > 0
    for user in got:  # filled slot by slot: every field must be set
        for field in fields(user):
            assert hasattr(user, field.name), f"User.{field.name} left unset"


def test_batched_stream_equals_the_whole_tree_read() -> None:
    data = _document()
    streamed, whole = Context(label="x"), Context(label="x")
    a = read_document(data, "x", streamed, ("Project",))
    b = read_root(parse_xml(data, "x"), whole, ("Project",))
    assert a == b
    assert streamed.issues == whole.issues and streamed.quirks == whole.quirks
    assert [u.loc for u in a.users] == [u.loc for u in b.users]
    assert [c.loc for c in a.cases] == [c.loc for c in b.cases]
    # Every User element written (comments are not users), in document order.
    assert len(a.users) == data.count(b"<User ") + data.count(b"<q:User ")
    assert [c.name for c in a.cases] == [f"c{i}" for i in range(600)]
    assert len(a.variables) == 520
    assert any(i.code == "QDX003" for i in streamed.issues)  # the duplicate user GUIDs
