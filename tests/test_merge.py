"""qdx.merge and ``qdx merge``: union of codings per coder, pairing, conflicts, validity.

The oracle for "nothing lost" is the set of coding identities (source name, range, code
path, coder name) of the inputs, computed here independently of qdx's merge code.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qdx.cli import main
from qdx.errors import Severity, UsageError
from qdx.model import (
    Code,
    Coding,
    Guid,
    Project,
    ProjectIndex,
    Set,
    Source,
    TextSelection,
    TextSource,
    User,
    iter_codes,
)
from qdx.ops.diff import diff
from qdx.ops.merge import MergeConflictError, merge
from qdx.validation import validate

STUDY = Path(__file__).resolve().parent.parent / "fixtures" / "wechat-moments"

TEXTS = (
    "A-1-1 I post photos of food.\nA-1-2 My parents cannot see them.\nA-1-3 I group friends.\n",
    "A-2-1 Moments is for close friends.\nA-2-2 Work contacts see three days.\n",
)


def g(n: int) -> Guid:
    return Guid(str(uuid.UUID(int=n)))


USERS = (User(guid=g(1), name="Researcher A"), User(guid=g(2), name="Researcher B"), User(guid=g(3), name="C"))


def codebook() -> tuple[Code, ...]:
    blocking = Code(guid=g(13), name="Blocking", color="#aa0000")
    hiding = Code(guid=g(12), name="Hiding", children=(blocking,))
    privacy = Code(guid=g(10), name="Privacy", is_codable=False, children=(Code(guid=g(11), name="Audience"), hiding))
    return (privacy, Code(guid=g(14), name="Sharing", children=(Code(guid=g(15), name="Food"),)))


def sel(n: int, start: int, end: int, code: int, user: int = 1) -> TextSelection:
    coding = Coding(guid=g(5000 + n), code=g(code), creating_user=g(user))
    return TextSelection(guid=g(4000 + n), start=start, end=end, creating_user=g(user), codings=(coding,))


def make_project(
    selections: tuple[tuple[TextSelection, ...], ...] = ((), ()),
    users: tuple[User, ...] = USERS[:1],
    codes: tuple[Code, ...] | None = None,
) -> Project:
    sources = tuple(
        TextSource(guid=g(100 + i), name=f"Interview {i + 1}", text=text, selections=sels)
        for i, (text, sels) in enumerate(zip(TEXTS, selections, strict=True))
    )
    return Project(
        name="study",
        users=users,
        codes=codebook() if codes is None else codes,
        sources=sources,
        sets=(Set(guid=g(500), name="Core", member_codes=(g(11),)),),
    )


def identities(project: Project) -> Iterator[tuple[object, ...]]:
    """(source, start, end, code path, coder) of every coding: what a coder did."""
    index = ProjectIndex(project)
    for source in project.sources:
        assert isinstance(source, TextSource)
        for s in source.selections:
            for c in s.codings:
                yield (source.name, s.start, s.end, index.code_path(c.code), index.user_name(c.creating_user))


def all_guids(project: Project) -> list[str]:
    found = [u.guid.key for u in project.users] + [c.guid.key for c, _ in iter_codes(project.codes)]
    for source in project.sources:
        assert isinstance(source, TextSource)
        found.append(source.guid.key)
        for s in source.selections:
            found.append(s.guid.key)
            found.extend(c.guid.key for c in s.codings)
    return found


def errors(project: Project) -> list[str]:
    return [f"{i.code} {i.message}" for i in validate(project) if i.severity is Severity.ERROR]


def coder_a() -> Project:
    return make_project(((sel(1, 0, 28, 15), sel(2, 29, 62, 13)), (sel(3, 0, 35, 11),)))


def coder_b() -> Project:
    """B codes the same sources with the same codebook: one segment equal to A's, two new."""
    return make_project(((sel(11, 0, 28, 15, 2), sel(12, 29, 50, 12, 2)), (sel(13, 36, 70, 11, 2),)), users=(USERS[1],))


# --------------------------------------------------------------------------- basics


def test_merge_with_itself_is_itself() -> None:
    p = coder_a()
    assert merge(p, p).project == p
    assert merge(p, p).conflicts == ()
    assert merge(p).project is p
    assert merge(p, p, p).project == p


def test_no_input_and_bad_options_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        merge()
    with pytest.raises(UsageError):
        merge(coder_a(), coder_a(), policy="mine")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        merge(coder_a(), coder_a(), match="colour")  # type: ignore[arg-type]


def test_two_coders_union_keeps_every_coding_with_its_coder() -> None:
    a, b = coder_a(), coder_b()
    a0, b0 = copy.deepcopy(a), copy.deepcopy(b)
    merged = merge(a, b).project
    assert a == a0 and b == b0
    got = sorted(identities(merged), key=repr)
    assert got == sorted([*identities(a), *identities(b)], key=repr)
    assert len(got) == 3 + 3
    assert [u.name for u in merged.users] == ["Researcher A", "Researcher B"]
    assert errors(merged) == []
    keys = all_guids(merged)
    assert len(keys) == len(set(keys))
    # What B added, seen by diff: exactly B's three segments.
    changes = sorted((c.area, c.kind, c.get("coder") or c.get("name")) for c in diff(a, merged))
    assert changes == [("codings", "added", "Researcher B")] * 3 + [("users", "added", "Researcher B")]


def test_same_coding_in_two_inputs_is_kept_once() -> None:
    a = coder_a()
    dup = make_project(((sel(21, 0, 28, 15),), ()))  # A's first segment again, other GUIDs
    merged = merge(a, dup).project
    assert sorted(identities(merged), key=repr) == sorted(identities(a), key=repr)
    assert merged == a


def test_codings_of_different_coders_on_one_range_are_both_kept() -> None:
    a = coder_a()
    b = make_project(((sel(31, 0, 28, 15, 2),), ()), users=(USERS[1],))
    merged = merge(a, b).project
    food = [i for i in identities(merged) if i[3] == ("Sharing", "Food")]
    assert sorted(i[4] for i in food) == ["Researcher A", "Researcher B"]


def test_selection_with_same_guid_gets_the_other_coders_coding() -> None:
    a = coder_a()
    base = a.sources[0].selections[0]  # type: ignore[union-attr]
    extra = Coding(guid=g(6000), code=g(11), creating_user=g(2))
    b = make_project(((replace(base, codings=(extra,)),), ()), users=USERS[:2])
    merged = merge(a, b).project
    first = merged.sources[0].selections[0]  # type: ignore[union-attr]
    assert [c.code for c in first.codings] == [g(15), g(11)]
    assert len(merged.sources[0].selections) == 2  # type: ignore[union-attr]


def test_codes_paired_by_path_when_guids_were_reminted() -> None:
    a = coder_a()
    fresh = {c.guid.key: Guid(str(uuid.uuid5(uuid.NAMESPACE_OID, c.guid.key))) for c, _ in iter_codes(codebook())}

    def remint(codes: tuple[Code, ...]) -> tuple[Code, ...]:
        return tuple(replace(c, guid=fresh[c.guid.key], children=remint(c.children)) for c in codes)

    b = coder_b()
    b = replace(
        b,
        codes=remint(b.codes),
        sources=tuple(
            replace(
                s,
                selections=tuple(
                    replace(x, codings=tuple(replace(c, code=fresh[c.code.key]) for c in x.codings))
                    for x in s.selections  # type: ignore[union-attr]
                ),
            )
            for s in b.sources
        ),
        sets=(),
    )
    merged = merge(a, b).project
    assert merged.codes == a.codes  # no duplicate codes: B's re-minted codes are A's
    assert sorted(identities(merged), key=repr) == sorted([*identities(a), *identities(b)], key=repr)
    assert errors(merged) == []
    # With GUID pairing only, B's codes come in as a second copy of the tree.
    strict = merge(a, b, match="guid").project
    assert len(list(iter_codes(strict.codes))) == 2 * len(list(iter_codes(a.codes)))


def test_new_code_of_theirs_lands_under_its_parent() -> None:
    a = coder_a()
    codes = list(codebook())
    codes[1] = replace(codes[1], children=(*codes[1].children, Code(guid=g(17), name="Travel")))
    b = make_project(((sel(41, 0, 10, 17, 2),), ()), users=(USERS[1],), codes=tuple(codes))
    merged = merge(a, b).project
    index = ProjectIndex(merged)
    assert index.code_path(g(17)) == ("Sharing", "Travel")
    assert ("Interview 1", 0, 10, ("Sharing", "Travel"), "Researcher B") in set(identities(merged))


def test_guid_collision_with_a_different_object_is_reminted() -> None:
    a = coder_a()
    # B's selection in Interview 1 reuses the GUID of A's selection in Interview 2 (and of
    # its coding): a different object, so it must get a new GUID.
    clash = replace(sel(51, 5, 9, 15, 2), guid=g(4003))
    clash = replace(clash, codings=(replace(clash.codings[0], guid=g(5003)),))
    b = make_project(((clash,), ()), users=(USERS[1],))
    merged = merge(a, b).project
    keys = all_guids(merged)
    assert len(keys) == len(set(keys))
    assert ("Interview 1", 5, 9, ("Sharing", "Food"), "Researcher B") in set(identities(merged))
    assert errors(merged) == []


# --------------------------------------------------------------------------- conflicts


def renamed_b() -> Project:
    codes = list(codebook())
    codes[1] = replace(codes[1], name="Sharing things")  # same GUID, other content
    return make_project(((sel(61, 0, 10, 15, 2),), ()), users=(USERS[1],), codes=tuple(codes))


def test_conflict_fails_by_default_with_the_list() -> None:
    a, b = coder_a(), renamed_b()
    with pytest.raises(MergeConflictError) as info:
        merge(a, b)
    (conflict,) = info.value.conflicts
    assert (conflict.kind, conflict.area, conflict.guid) == ("content", "codes", str(g(14)))
    assert "Sharing things" in conflict.message()


def test_conflict_policies_ours_theirs_keep_both() -> None:
    a, b = coder_a(), renamed_b()
    ours = merge(a, b, policy="ours")
    assert [c.name for c in ours.project.codes] == ["Privacy", "Sharing"]
    assert ours.conflicts[0].resolution == "ours"
    theirs = merge(a, b, policy="theirs").project
    assert [c.name for c in theirs.codes] == ["Privacy", "Sharing things"]
    both = merge(a, b, policy="keep-both").project
    assert [c.name for c in both.codes] == ["Privacy", "Sharing", "Sharing things"]
    # Theirs' copy has a new GUID; Food (paired) stays under ours' Sharing.
    index = ProjectIndex(both)
    assert index.code_path(g(15)) == ("Sharing", "Food")
    assert both.codes[2].guid != g(14)
    for project in (ours.project, theirs, both):
        assert errors(project) == []
        assert len(list(identities(project))) == 4


def test_moved_code_conflict() -> None:
    a = coder_a()
    codes = codebook()
    food = codes[1].children[0]
    moved = (replace(codes[0], children=(*codes[0].children, food)), replace(codes[1], children=()))
    b = make_project(((sel(71, 0, 5, 15, 2),), ()), users=(USERS[1],), codes=moved)
    with pytest.raises(MergeConflictError) as info:
        merge(a, b)
    assert [(c.kind, c.name, c.ours, c.theirs) for c in info.value.conflicts] == [
        ("moved", "Food", ["Sharing"], ["Privacy"])
    ]
    assert ProjectIndex(merge(a, b, policy="ours").project).code_path(g(15)) == ("Sharing", "Food")
    assert ProjectIndex(merge(a, b, policy="theirs").project).code_path(g(15)) == ("Privacy", "Food")


def test_source_text_conflict() -> None:
    a = coder_a()
    b = make_project(((sel(81, 0, 5, 15, 2),), ()), users=(USERS[1],))
    changed = replace(b.sources[0], text="Completely other text, other offsets.")
    b = replace(b, sources=(changed, b.sources[1]))
    with pytest.raises(MergeConflictError) as info:
        merge(a, b)
    assert [(c.kind, c.area) for c in info.value.conflicts] == [("text", "sources")]
    ours = merge(a, b, policy="ours").project
    assert ours.sources[0] == a.sources[0]  # theirs' codings on a different text are dropped
    theirs = merge(a, b, policy="theirs").project
    assert theirs.sources[0].text == changed.text  # type: ignore[union-attr]
    both = merge(a, b, policy="keep-both").project
    assert len(both.sources) == 3 and errors(both) == []
    assert len(all_guids(both)) == len(set(all_guids(both)))


# --------------------------------------------------------------------------- properties


@st.composite
def coder_projects(draw: st.DrawFn) -> tuple[Project, list[Project]]:
    """A base project and three copies; coder k adds codes and codings (GUIDs of its own)."""
    base_sels = tuple(
        tuple(
            sel(10 * i + j, 0, 5 + j, draw(st.sampled_from([11, 12, 13, 15]))) for j in range(draw(st.integers(0, 3)))
        )
        for i in range(2)
    )
    base = make_project(base_sels, users=USERS)
    copies = []
    for k in range(3):
        new_codes = [Code(guid=g(1000 * (k + 1) + m), name=f"C{k}-{m}") for m in range(draw(st.integers(0, 2)))]
        codes = (*base.codes, *new_codes)
        choices = [11, 12, 13, 15] + [1000 * (k + 1) + m for m in range(len(new_codes))]
        sources = []
        for i, source in enumerate(base.sources):
            extra = []
            for j in range(draw(st.integers(0, 4))):
                start = draw(st.integers(0, 40))
                end = draw(st.integers(start, start + 20))
                extra.append(sel(10_000 * (k + 1) + 100 * i + j, start, end, draw(st.sampled_from(choices)), k + 1))
            sources.append(replace(source, selections=(*source.selections, *extra)))  # type: ignore[union-attr]
        copies.append(replace(base, codes=codes, sources=tuple(sources)))
    return base, copies


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(coder_projects())
def test_property_merge_of_itself_is_itself(data: tuple[Project, list[Project]]) -> None:
    base, copies = data
    for p in (base, *copies):
        assert merge(p, p).project == p


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(coder_projects())
def test_property_three_coders_lose_nothing(data: tuple[Project, list[Project]]) -> None:
    _, copies = data
    before = copy.deepcopy(copies)
    merged = merge(*copies).project
    assert copies == before
    got = Counter(identities(merged))
    for p in copies:  # every input coding is found in the output ...
        assert not Counter(identities(p)) - got
    # ... and what several inputs share is kept once: the multiset union (max of the counts).
    expected: Counter[tuple[object, ...]] = Counter()
    for p in copies:
        expected |= Counter(identities(p))
    assert got == expected
    keys = all_guids(merged)
    assert len(keys) == len(set(keys))
    assert errors(merged) == []


# --------------------------------------------------------------------------- CLI


def write_pair(tmp_path: Path, a: Project, b: Project) -> tuple[str, str]:
    from qdx.api import write

    write(a, tmp_path / "a.qdpx")
    write(b, tmp_path / "b.qdpx")
    return str(tmp_path / "a.qdpx"), str(tmp_path / "b.qdpx")


def test_cli_merge_writes_union_and_reports(tmp_path: Path) -> None:
    a, b = write_pair(tmp_path, coder_a(), coder_b())
    out = tmp_path / "merged.qdpx"
    result = CliRunner().invoke(main, ["merge", a, b, "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [i["codings"] for i in data["inputs"]] == [3, 3]
    assert data["codings"] == 6 and data["users"] == ["Researcher A", "Researcher B"]
    from qdx.api import read

    assert sorted(identities(read(out)), key=repr) == sorted([*identities(coder_a()), *identities(coder_b())], key=repr)


def test_cli_conflict_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    a, b = write_pair(tmp_path, coder_a(), renamed_b())
    out = tmp_path / "merged.qdpx"
    result = CliRunner().invoke(main, ["merge", a, b, "-o", str(out)])
    assert result.exit_code == 1
    assert "1 merge conflict" in result.output and "Sharing things" in result.output
    assert not out.exists()
    result = CliRunner().invoke(main, ["merge", a, b, "-o", str(out), "--on-conflict", "keep-both"])
    assert result.exit_code == 0 and out.exists()


def test_cli_refuses_one_input_and_overwriting_an_input(tmp_path: Path) -> None:
    a, b = write_pair(tmp_path, coder_a(), coder_b())
    assert CliRunner().invoke(main, ["merge", a, "-o", str(tmp_path / "x.qdpx")]).exit_code == 2
    assert CliRunner().invoke(main, ["merge", a, b, "-o", a]).exit_code == 2


# --------------------------------------------------------------------------- the bundled study

PROJECT = STUDY / "project.qdpx"
CODER_B = STUDY / "coder-b.qdpx"


@pytest.mark.skipif(not (PROJECT.exists() and CODER_B.exists()), reason="study fixtures not generated yet")
def test_study_merge_of_coder_a_and_b(tmp_path: Path) -> None:
    from qdx.api import read

    a, b = read(PROJECT), read(CODER_B)
    out = tmp_path / "merged.qdpx"
    result = CliRunner().invoke(main, ["merge", str(PROJECT), str(CODER_B), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    merged = read(out)
    ids_a, ids_b = list(identities(a)), list(identities(b))
    assert set(ids_a).isdisjoint(ids_b)  # B's codings are B's own (coder differs)
    assert sorted(identities(merged), key=repr) == sorted([*ids_a, *ids_b], key=repr)
    assert {"Researcher A", "Researcher B"} <= {u.name for u in merged.users}
    assert errors(merged) == []
    listed = CliRunner().invoke(main, ["diff", str(PROJECT), str(out), "--json"])
    assert listed.exit_code == 1
    data = json.loads(listed.output)
    assert all(c["kind"] == "added" and c["coder"] == "Researcher B" for c in data["codings"])
    assert len(data["codings"]) == len(ids_b)
    assert sorted((c["source"], c["after"]["start"], c["after"]["end"]) for c in data["codings"]) == sorted(
        (i[0], i[1], i[2]) for i in ids_b
    )


def test_codebook_merged_with_a_project_is_a_project() -> None:
    book = replace(make_project(), sources=(), is_codebook=True)
    assert merge(book, book).project.is_codebook
    merged = merge(book, coder_a()).project
    assert not merged.is_codebook and len(merged.sources) == 2


def test_notes_cases_sets_links_are_carried_over_and_deduplicated() -> None:
    from qdx.model import Case, Link, Variable, VariableType, VariableValue

    age = Variable(guid=g(200), name="Age", type=VariableType.INTEGER)
    a = replace(
        coder_a(),
        notes=(TextSource(guid=g(400), name="Memo", text="Parents are blocked."),),
        variables=(age,),
        cases=(Case(guid=g(300), name="P1", code_refs=(g(11),)),),
        links=(Link(guid=g(600), name="leads to", origin=g(11), target=g(13)),),
    )
    b = replace(
        coder_b(),
        notes=(TextSource(guid=g(401), name="Memo", text="Parents are blocked."),),  # same text
        variables=(replace(age, guid=g(201)),),  # same name
        cases=(
            Case(
                guid=g(301),
                name="P1",
                code_refs=(g(13),),
                variable_values=(VariableValue(variable=g(201), value="31"),),
            ),
        ),
        sets=(Set(guid=g(501), name="Core", member_codes=(g(13),)),),
        links=(
            Link(guid=g(601), name="leads to", origin=g(11), target=g(13)),  # same ends and name
            Link(guid=g(602), name="contradicts", origin=g(11), target=g(15)),
        ),
    )
    merged = merge(a, b).project
    assert [n.guid for n in merged.notes] == [g(400)]
    assert [v.guid for v in merged.variables] == [g(200)]
    (case,) = merged.cases
    assert case.guid == g(300) and case.code_refs == (g(11), g(13))
    assert case.variable_values == (VariableValue(variable=g(200), value="31"),)  # B's variable is A's
    (core,) = merged.sets
    assert core.member_codes == (g(11), g(13))
    assert [link.guid for link in merged.links] == [g(600), g(602)]
    assert errors(merged) == []


def test_case_variable_value_conflict() -> None:
    from qdx.model import Case, Variable, VariableType, VariableValue

    age = Variable(guid=g(200), name="Age", type=VariableType.INTEGER)

    def with_age(p: Project, value: str) -> Project:
        case = Case(guid=g(300), name="P1", variable_values=(VariableValue(variable=g(200), value=value),))
        return replace(p, variables=(age,), cases=(case,))

    a, b = with_age(coder_a(), "31"), with_age(coder_b(), "32")
    with pytest.raises(MergeConflictError) as info:
        merge(a, b)
    assert [(c.area, c.ours, c.theirs) for c in info.value.conflicts] == [("cases", "31", "32")]
    assert merge(a, b, policy="ours").project.cases[0].variable_values[0].value == "31"
    assert merge(a, b, policy="theirs").project.cases[0].variable_values[0].value == "32"


@st.composite
def independent_projects(draw: st.DrawFn) -> Project:
    """Selections numbered from 1 in every draw: two draws share GUIDs for different content."""
    sources: list[tuple[TextSelection, ...]] = []
    n = 0
    for text in TEXTS:
        sels = []
        for _ in range(draw(st.integers(0, 5))):
            n += 1
            start = draw(st.integers(0, len(text) - 1))
            end = draw(st.integers(start, len(text)))
            sels.append(sel(n, start, end, draw(st.sampled_from([11, 12, 13, 15])), draw(st.sampled_from([1, 2]))))
        sources.append(tuple(sels))
    return make_project(tuple(sources), users=USERS[:2])


def test_keep_both_clash_does_not_duplicate_a_coding_ours_already_has() -> None:
    # Found by the property below: theirs' selection 1 clashes by GUID with ours' selection 1
    # (other range) but repeats ours' selection 2 exactly; the union must not hold it twice.
    a = make_project(((sel(1, 0, 1, 11), sel(2, 0, 0, 11), sel(3, 0, 0, 11)), ()), users=USERS[:2])
    b = make_project(((sel(1, 0, 0, 11),), ()), users=USERS[:2])
    merged = merge(a, b, policy="keep-both").project
    assert Counter(identities(merged)) == Counter(identities(a)) | Counter(identities(b))
    assert errors(merged) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(independent_projects(), independent_projects())
def test_property_keep_both_keeps_everything_despite_guid_clashes(a: Project, b: Project) -> None:
    merged = merge(a, b, policy="keep-both").project
    assert Counter(identities(merged)) == Counter(identities(a)) | Counter(identities(b))
    keys = all_guids(merged)
    assert len(keys) == len(set(keys))
    assert errors(merged) == []


def media_sources(user: int, n: int, offsets: list[int]) -> tuple[Source, ...]:
    """A picture and an audio source (with a transcript) coded by ``user`` at ``offsets``."""
    from qdx.model import (
        AudioSelection,
        AudioSource,
        Blob,
        PictureSelection,
        PictureSource,
        SyncPoint,
        Transcript,
        TranscriptSelection,
    )

    def coding(k: int, code: int) -> tuple[Coding, ...]:
        return (Coding(guid=g(8000 + k), code=g(code), creating_user=g(user)),)

    pictures = tuple(
        PictureSelection(
            guid=g(7000 + n + i), first_x=x, first_y=0, second_x=x + 10, second_y=10, codings=coding(n + i, 11)
        )
        for i, x in enumerate(offsets)
    )
    clips = tuple(
        AudioSelection(guid=g(7100 + n + i), begin=x, end=x + 500, codings=coding(100 + n + i, 13))
        for i, x in enumerate(offsets)
    )
    points = (SyncPoint(guid=g(703), time_stamp=0, position=0), SyncPoint(guid=g(704), time_stamp=900, position=5))
    said = TranscriptSelection(
        guid=g(7200 + n), from_sync_point=g(703), to_sync_point=g(704), codings=coding(200 + n, 15)
    )
    transcript = Transcript(guid=g(702), name="T", text="hello there", sync_points=points, selections=(said,))
    photo = PictureSource(guid=g(700), name="Photo", blob=Blob(ext="png", data=b"PNG"), selections=pictures)
    call = AudioSource(
        guid=g(701), name="Call", blob=Blob(ext="mp3", data=b"ID3"), selections=clips, transcripts=(transcript,)
    )
    return (photo, call)


def test_picture_audio_and_transcript_codings_are_merged_and_diffed() -> None:
    a = replace(coder_a(), sources=(*coder_a().sources, *media_sources(1, 0, [0, 20])))
    b = replace(coder_b(), sources=(*coder_b().sources, *media_sources(2, 50, [0, 40])), users=USERS[:2])
    merged = merge(a, b).project
    assert merge(merged, merged).project == merged
    photo, call = merged.sources[2:]
    assert len(photo.selections) == 4 and len(call.selections) == 4  # type: ignore[union-attr]
    (transcript,) = call.transcripts  # type: ignore[union-attr]
    assert sorted(str(s.codings[0].creating_user) for s in transcript.selections) == [str(g(1)), str(g(2))]
    assert errors(merged) == []
    lanes = Counter(c.get("lane") for c in diff(a, merged) if c.area == "codings")
    assert lanes == {"text": 3, "picture": 2, "audio": 2, "transcript:" + g(702).key: 1}
    same_range = merge(a, replace(a, users=USERS[:2])).project  # nothing new: nothing added
    assert same_range == replace(a, users=USERS[:2])
