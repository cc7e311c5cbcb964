"""check_integrity on text selections and their codings: the hot path and its bulk look-ups.

The walk records text selections and codings through an inlined loop, and references are first
checked in bulk on lower-cased GUIDs, with a full check only for those that fail. These tests
pin what that split must not change: other GUID spellings still resolve, a GUID shared by two
kinds of record still counts for both, locations and paths are those of each record, and the
issues keep their document order per rule (REFI §3.7, §10.2, §11).
"""

from __future__ import annotations

from qdx.errors import Severity
from qdx.model import Code, Coding, Guid, Link, Project, TextSelection, TextSource, User
from qdx.validation.integrity import check_integrity

TEXT = "I love this place."  # 18 code points
ROOT = "/Project/Sources/TextSource[1]"


def g(n: int) -> Guid:
    return Guid(f"0b5e7a11-0000-4000-8000-{n:012d}")


def braced(guid: Guid) -> Guid:
    return Guid("{" + guid.upper() + "}")


def project(*selections: TextSelection, users: tuple[User, ...] = (), links: tuple[Link, ...] = ()) -> Project:
    """Users 1 and 2, a folder code 10 (not codable) with code 11, and one text source 20."""
    return Project(
        users=(User(guid=g(1), name="Ana"), User(guid=g(2), name="Bo"), *users),
        codes=(Code(guid=g(10), name="Feelings", is_codable=False, children=(Code(guid=g(11), name="Joy"),)),),
        sources=(TextSource(guid=g(20), text=TEXT, selections=selections),),
        links=links,
    )


def selection(n: int, *codings: Coding, start: int = 0, end: int = 4, user: Guid | None = None) -> TextSelection:
    return TextSelection(guid=g(n), start=start, end=end, codings=codings, creating_user=user)


def issues_of(built: Project) -> list[tuple[str, Severity, str, str]]:
    return [(i.code, i.severity, i.message, i.location) for i in check_integrity(built)]


def test_references_in_any_spelling_resolve() -> None:
    coding = Coding(guid=g(30), code=braced(g(11)), creating_user=Guid(g(1).upper()))
    built = project(selection(21, coding, user=braced(g(2))), links=(Link(guid=g(80), origin=braced(g(30))),))
    assert issues_of(built) == []


def test_definitions_in_another_spelling_resolve_references() -> None:
    built = project(selection(21, Coding(guid=g(30), code=g(11)), user=g(3)), users=(User(guid=braced(g(3))),))
    assert issues_of(built) == []


def test_a_guid_shared_by_a_user_and_a_code_counts_as_both() -> None:
    # The user comes first in the walk, so the bulk check sees a user; the full check also sees the code.
    built = project(selection(21, Coding(guid=g(30), code=g(11))), users=(User(guid=braced(g(11))),))
    [(code, _, message, location)] = issues_of(built)
    assert (code, location) == ("QDX110", "/Project/CodeBook/Codes/Code[1]/Code[1]")
    assert message == f"GUID {g(11)} of this code is already used by the user at /Project/Users/User[3]"


def test_a_reference_to_the_wrong_kind_names_the_kind_found() -> None:
    built = project(selection(21, Coding(guid=g(30), code=g(1)), user=g(11)))
    at = f"{ROOT}/PlainTextSelection[1]"
    assert issues_of(built) == [
        ("QDX106", Severity.ERROR, f"creatingUser {g(11)} names a code, not a user", at),
        ("QDX101", Severity.ERROR, f"CodeRef {g(1)} names a user, not a code", f"{at}/Coding[1]"),
    ]


def test_issues_keep_document_order_and_each_records_path() -> None:
    first = selection(21, Coding(guid=g(30), code=g(10)), start=9, end=3)
    second = selection(
        22, Coding(guid=g(31), code=g(11)), Coding(guid=g(32), code=braced(g(99)), creating_user=g(98)), end=19
    )
    third = selection(23, Coding(guid=g(33), code=g(10), loc="project.qde:9"), user=g(97))
    found = [(code, location) for code, _, _, location in issues_of(project(first, second, third))]
    assert found == [
        ("QDX101", f"{ROOT}/PlainTextSelection[2]/Coding[2]"),
        ("QDX106", f"{ROOT}/PlainTextSelection[2]/Coding[2]"),
        ("QDX106", f"{ROOT}/PlainTextSelection[3]"),
        ("QDX114", f"{ROOT}/PlainTextSelection[1]/Coding[1]"),
        ("QDX111", f"{ROOT}/PlainTextSelection[1]"),
        ("QDX112", f"{ROOT}/PlainTextSelection[2]"),
        ("QDX114", "project.qde:9"),
    ]


def test_a_dangling_braced_reference_keeps_its_spelling_in_the_message() -> None:
    [(code, _, message, _)] = issues_of(project(selection(21, Coding(guid=g(30), code=braced(g(99))))))
    assert (code, message) == ("QDX101", f"CodeRef {braced(g(99))} names no code in the project")


def test_duplicate_selection_guids_are_reported_at_the_later_one() -> None:
    built = project(selection(21), selection(22), TextSelection(guid=braced(g(21)), start=0, end=1, loc="p.qde:7"))
    [(code, _, message, location)] = issues_of(built)
    assert (code, location) == ("QDX110", "p.qde:7")
    assert message.endswith(f"already used by the selection at {ROOT}/PlainTextSelection[1]")
