"""Reader hot path (issue 9): interned references, shared locations, duplicate detection."""

from __future__ import annotations

import io

import qdx

NS = "urn:QDA-XML:project:1.0"


def _project(selections: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="p"><Sources>'
        '<TextSource guid="aaaaaaaa-0000-0000-0000-000000000001">'
        "<PlainTextContent>hello world, hello again</PlainTextContent>\n"
        f"{selections}\n</TextSource></Sources></Project>"
    ).encode()


SEL = (
    '<PlainTextSelection guid="{g}" startPosition="{s}" endPosition="{e}" creatingUser="{u}" '
    'creationDateTime="2024-01-01T00:00:00Z"><Coding guid="{c}" creatingUser="{u}" '
    'creationDateTime="2024-01-01T00:00:00Z"><CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>'
)
USER = "bbbbbbbb-0000-0000-0000-000000000001"
CODE = "cccccccc-0000-0000-0000-000000000001"


def test_duplicate_between_selection_and_its_coding_on_one_line() -> None:
    # Both elements share one location string; the duplicate must still be reported.
    sel = SEL.format(g="aaaaaaaa-0000-0000-0000-000000000002", s=0, e=5, u=USER,
                     c="AAAAAAAA-0000-0000-0000-000000000002", code=CODE)
    project = qdx.read(io.BytesIO(_project(sel)))
    dups = [i for i in project.provenance.issues if i.code == "QDX003"]
    assert len(dups) == 1
    assert dups[0].location == "<input>:3"


def test_braced_and_upper_case_guids_are_duplicates() -> None:
    a = SEL.format(g="{DDDDDDDD-0000-0000-0000-000000000001}", s=0, e=5, u=USER, c="e1", code=CODE)
    b = SEL.format(g=" dddddddd-0000-0000-0000-000000000001 ", s=6, e=11, u=USER, c="e2", code=CODE)
    project = qdx.read(io.BytesIO(_project(a + "\n" + b)))
    assert sum(1 for i in project.provenance.issues if i.code == "QDX003") == 1
    # The spelling is kept (minus surrounding blanks), as before interning.
    sels = project.sources[0].selections
    assert [str(s.guid) for s in sels] == ["{DDDDDDDD-0000-0000-0000-000000000001}",
                                           "dddddddd-0000-0000-0000-000000000001"]


def test_repeated_references_share_one_object() -> None:
    sels = "\n".join(
        SEL.format(g=f"aaaaaaaa-0000-0000-0000-00000000001{i}", s=i, e=i + 3, u=USER,
                   c=f"eeeeeeee-0000-0000-0000-00000000001{i}", code=CODE)
        for i in range(3)
    )
    project = qdx.read(io.BytesIO(_project(sels)))
    got = project.sources[0].selections
    assert len(got) == 3
    users = {id(s.creating_user) for s in got} | {id(s.codings[0].creating_user) for s in got}
    codes = {id(s.codings[0].code) for s in got}
    assert len(users) == 1 and len(codes) == 1
    assert got[0].codings[0].code == CODE.upper()  # still a Guid: case-insensitive equality
    assert got[1].codings[0].loc == got[1].loc == "<input>:4"


def test_blank_reference_is_reported_not_interned() -> None:
    sel = SEL.format(g="aaaaaaaa-0000-0000-0000-000000000002", s=0, e=5, u="  ",
                     c="eeeeeeee-0000-0000-0000-000000000002", code="  ")
    project = qdx.read(io.BytesIO(_project(sel)))
    s = project.sources[0].selections[0]
    assert s.creating_user is None and s.codings[0].creating_user is None
    assert any(i.code == "QDX006" and "targetGUID" in i.message for i in project.provenance.issues)
