"""qdx.diff and ``qdx diff``: codebook, source, coding and record changes; exit status as diff(1).

Expectations are written by hand from the edits each test makes (the oracle is the edit
itself), never taken from qdx's own output.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qdx.cli import main
from qdx.errors import UsageError
from qdx.model import (
    Case,
    Code,
    Coding,
    Guid,
    Project,
    Set,
    TextSelection,
    TextSource,
    User,
    Variable,
    VariableType,
    VariableValue,
    iter_codes,
)
from qdx.ops.diff import diff, text_diff

TEXTS = (
    "A-1-1 I post photos of food.\nA-1-2 My parents cannot see them.\nA-1-3 I group friends.\n",
    "A-2-1 Moments is for close friends.\nA-2-2 Work contacts see three days.\n",
)


def g(n: int) -> Guid:
    return Guid(str(uuid.UUID(int=n)))


USER_A = User(guid=g(1), name="Researcher A")
USER_B = User(guid=g(2), name="Researcher B")


def codebook() -> tuple[Code, ...]:
    """Privacy > {Audience, Hiding > {Blocking}}, Sharing > {Food}, Other (guids 10..16)."""
    blocking = Code(guid=g(13), name="Blocking", color="#aa0000")
    hiding = Code(guid=g(12), name="Hiding", children=(blocking,))
    audience = Code(guid=g(11), name="Audience", color="#00aa00", description="who sees")
    privacy = Code(guid=g(10), name="Privacy", is_codable=False, children=(audience, hiding))
    food = Code(guid=g(15), name="Food")
    sharing = Code(guid=g(14), name="Sharing", children=(food,))
    return (privacy, sharing, Code(guid=g(16), name="Other"))


def sel(n: int, start: int, end: int, code: int, user: Guid = USER_A.guid) -> TextSelection:
    coding = Coding(guid=g(5000 + n), code=g(code), creating_user=user)
    return TextSelection(guid=g(4000 + n), start=start, end=end, creating_user=user, codings=(coding,))


def make_project(selections: tuple[tuple[TextSelection, ...], ...] | None = None) -> Project:
    if selections is None:
        selections = ((sel(1, 0, 28, 15), sel(2, 29, 62, 13)), (sel(3, 0, 35, 11),))
    sources = tuple(
        TextSource(guid=g(100 + i), name=f"Interview {i + 1}", text=text, selections=sels)
        for i, (text, sels) in enumerate(zip(TEXTS, selections, strict=True))
    )
    variable = Variable(guid=g(200), name="Age", type=VariableType.INTEGER)
    case = Case(
        guid=g(300),
        name="P1",
        source_refs=(g(100),),
        variable_values=(VariableValue(variable=g(200), value="31"),),
    )
    note = TextSource(guid=g(400), name="Memo", text="Blocking parents is common.")
    return Project(
        name="study",
        users=(USER_A, USER_B),
        codes=codebook(),
        sources=sources,
        variables=(variable,),
        cases=(case,),
        notes=(note,),
        sets=(Set(guid=g(500), name="Core", member_codes=(g(11), g(13))),),
    )


def kinds(result: tuple[object, ...], area: str) -> list[tuple[str, object]]:
    """(kind, code name / source name / record name) of the changes of one area, sorted."""
    out = []
    for change in result:
        if change.area == area:  # type: ignore[attr-defined]
            name = change.get("code") or change.get("source") or change.get("name")  # type: ignore[attr-defined]
            out.append((change.kind, name))  # type: ignore[attr-defined]
    return sorted(out, key=repr)


def edit_code(codes: tuple[Code, ...], guid: Guid, **changes: object) -> tuple[Code, ...]:
    out = []
    for code in codes:
        new = replace(code, **changes) if code.guid == guid else code  # type: ignore[arg-type]
        out.append(replace(new, children=edit_code(new.children, guid, **changes)))
    return tuple(out)


def remove_code(codes: tuple[Code, ...], guid: Guid) -> tuple[Code, ...]:
    return tuple(replace(c, children=remove_code(c.children, guid)) for c in codes if c.guid != guid)


def add_child(codes: tuple[Code, ...], parent: Guid, child: Code) -> tuple[Code, ...]:
    out = []
    for code in codes:
        kids = add_child(code.children, parent, child)
        out.append(replace(code, children=(*kids, child) if code.guid == parent else kids))
    return tuple(out)


def edited_codebook() -> tuple[Code, ...]:
    """Rename Audience, recolour Food, move Blocking under Sharing, delete Other."""
    codes = codebook()
    codes = edit_code(codes, g(11), name="Visible to")
    codes = edit_code(codes, g(15), color="#FFCC00")
    blocking = next(c for c, _ in iter_codes(codes) if c.guid == g(13))
    codes = add_child(remove_code(codes, g(13)), g(14), blocking)
    return remove_code(codes, g(16))


def remint(codes: tuple[Code, ...], mapping: dict[str, Guid]) -> tuple[Code, ...]:
    out = []
    for code in codes:
        new_guid = Guid(str(uuid.uuid5(uuid.NAMESPACE_URL, code.guid.key)))
        mapping[code.guid.key] = new_guid
        out.append(replace(code, guid=new_guid, children=remint(code.children, mapping)))
    return tuple(out)


def recode(project: Project, mapping: dict[str, Guid]) -> Project:
    sources = []
    for source in project.sources:
        assert isinstance(source, TextSource)
        sels = tuple(
            replace(s, codings=tuple(replace(c, code=mapping[c.code.key]) for c in s.codings))
            for s in source.selections
        )
        sources.append(replace(source, selections=sels))
    sets = tuple(replace(s, member_codes=tuple(mapping[c.key] for c in s.member_codes)) for s in project.sets)
    return replace(project, sources=tuple(sources), sets=sets)


# --------------------------------------------------------------------------- identity


def test_diff_of_a_project_with_itself_and_a_deep_copy_is_empty() -> None:
    p = make_project()
    assert diff(p, p) == ()
    assert diff(p, copy.deepcopy(p)) == ()
    assert not diff(p, p)


def test_diff_leaves_inputs_unchanged() -> None:
    a, b = make_project(), replace(make_project(), codes=edited_codebook())
    a0, b0 = copy.deepcopy(a), copy.deepcopy(b)
    assert diff(a, b)
    assert a == a0 and b == b0


# --------------------------------------------------------------------------- codebook


def test_edited_codebook_diffs_to_exactly_the_edits() -> None:
    a = make_project()
    b = replace(a, codes=edited_codebook())
    assert kinds(diff(a, b), "codes") == sorted(
        [("renamed", "Audience"), ("recoloured", "Food"), ("moved", "Blocking"), ("removed", "Other")], key=repr
    )
    changes = {c.kind: c for c in diff(a, b) if c.area == "codes"}
    assert changes["renamed"].before == "Audience" and changes["renamed"].after == "Visible to"
    assert changes["moved"].before == ["Privacy", "Hiding"] and changes["moved"].after == ["Sharing"]
    assert changes["recoloured"].after == "#FFCC00"
    assert changes["removed"].get("path") == ["Other"]
    assert all(c.get("match") == "guid" for c in changes.values() if c.kind != "removed")
    # Nothing else changed: the Set and codings still point at the same GUIDs.
    assert [c.area for c in diff(a, b)] == ["codes"] * 4


def test_colour_case_and_codability_and_description() -> None:
    a = make_project()
    codes = edit_code(a.codes, g(13), color="#AA0000")  # same colour, other case: not a change
    codes = edit_code(codes, g(12), is_codable=False)
    codes = edit_code(codes, g(11), description="audience setting")
    result = diff(a, replace(a, codes=codes))
    assert kinds(result, "codes") == sorted([("codable-changed", "Hiding"), ("redescribed", "Audience")], key=repr)


def test_added_code_is_listed_with_its_path() -> None:
    a = make_project()
    b = replace(a, codes=add_child(a.codes, g(14), Code(guid=g(17), name="Travel")))
    (change,) = diff(a, b)
    assert (change.area, change.kind, change.get("path")) == ("codes", "added", ["Sharing", "Travel"])


def test_reminted_guids_are_paired_by_path_and_codings_follow() -> None:
    a = make_project()
    mapping: dict[str, Guid] = {}
    b = recode(replace(a, codes=remint(a.codes, mapping)), mapping)
    result = diff(a, b)
    # Every code paired by its path: only the GUID changes, no coding or set change.
    assert {(c.area, c.kind, c.get("match")) for c in result} == {("codes", "guid-changed", "path")}
    assert len(result) == 7
    assert result.matching["codes"] == {"path": 7}
    # Pairing by GUID only: every code is removed and added, codings move to "new" codes.
    strict = diff(a, b, match="guid")
    assert len([c for c in strict if c.area == "codes" and c.kind == "removed"]) == 7
    assert len([c for c in strict if c.area == "codes" and c.kind == "added"]) == 7


def test_reminted_and_edited_codebook_uses_name_then_path() -> None:
    a = make_project()
    mapping: dict[str, Guid] = {}
    b = recode(replace(a, codes=remint(edited_codebook(), mapping)), mapping)
    result = [c for c in diff(a, b, match="name") if c.kind != "guid-changed"]
    got = {(c.kind, c.get("code"), c.get("match")) for c in result}
    # Blocking moved: its path changed, so only its (unique) name pairs it. Food kept its path.
    # Audience was renamed *and* re-minted: only content can pair it (match="content", the
    # default, tests/test_renames.py); here it is removed and added (and its coding moves).
    assert ("moved", "Blocking", "name") in got
    assert ("recoloured", "Food", "path") in got
    assert ("removed", "Audience", None) in got and ("added", "Visible to", None) in got
    assert ("removed", "Other", None) in got
    codings = sorted((c.kind, c.get("code")) for c in result if c.area == "codings")
    assert codings == [("added", "Visible to"), ("removed", "Audience")]
    # ... and so does the Set's membership (Audience was a member).
    (members,) = [c for c in result if c.area == "sets"]
    assert members.after == ["Privacy > Hiding > Blocking", "Privacy > Visible to"]
    assert len(result) == 8


def test_default_match_never_pairs_by_name_alone() -> None:
    """The default (path, as merge's) does not take a re-minted code that moved for the old
    one on its name only: it is removed and added, as a merge with the default would keep both."""
    a = make_project()
    mapping: dict[str, Guid] = {}
    b = recode(replace(a, codes=remint(edited_codebook(), mapping)), mapping)
    got = {(c.kind, c.get("code"), c.get("match")) for c in diff(a, b)}
    assert ("removed", "Blocking", None) in got and ("added", "Blocking", None) in got
    assert not any(match == "name" for _, _, match in got)


def test_diff_and_merge_share_their_match_default() -> None:
    import inspect

    import click

    from qdx.cli import main
    from qdx.ops.merge import merge

    library = {inspect.signature(f).parameters["match"].default for f in (diff, merge)}
    ctx = click.Context(main)
    commands = [main.get_command(ctx, name) for name in ("diff", "merge")]
    cli = {p.default for c in commands if c is not None for p in c.params if p.name == "match"}
    assert library == cli == {"path"}


def test_unknown_match_level_is_a_usage_error() -> None:
    p = make_project()
    with pytest.raises(UsageError):
        diff(p, p, match="colour")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- sources


def test_source_added_removed_and_text_changed_with_unified_diff() -> None:
    a = make_project()
    s1 = a.sources[0]
    assert isinstance(s1, TextSource)
    changed = replace(s1, text=s1.text.replace("My parents", "My mother"))  # type: ignore[union-attr]
    new = TextSource(guid=g(199), name="Interview 9", text="A-9-1 New.\n")
    b = replace(a, sources=(changed, new))
    result = diff(a, b)
    assert kinds(result, "sources") == sorted(
        [("text-changed", "Interview 1"), ("removed", "Interview 2"), ("added", "Interview 9")], key=repr
    )
    patch = next(c for c in result if c.kind == "text-changed").get("diff")
    assert isinstance(patch, str)
    assert "-A-1-2 My parents cannot see them." in patch.splitlines()
    assert "+A-1-2 My mother cannot see them." in patch.splitlines()
    # The removed source's coding is reported as removed (Interview 2 had one Audience coding);
    # B kept the Blocking range [29, 62) while the text before its end shrank by one character,
    # so its passage is not A's passage (qdx.textmap): the coding is reported as edited.
    assert kinds(result, "codings") == [("passage-edited", "Blocking"), ("removed", "Audience")]


def test_text_diff_is_cut_when_long() -> None:
    before = "\n".join(f"line {i}" for i in range(200))
    after = "\n".join(f"LINE {i}" for i in range(200))
    patch = text_diff(before, after, limit=10).splitlines()
    assert len(patch) == 11 and patch[-1].startswith("... (")


def test_source_paired_by_content_when_its_guid_changed() -> None:
    a = make_project()
    s1, s2 = a.sources
    b = replace(a, sources=(replace(s1, guid=g(190), name="Renamed"), s2))
    got = kinds(diff(a, b), "sources")
    assert got == sorted([("guid-changed", "Interview 1"), ("renamed", "Interview 1")], key=repr)
    assert all(c.get("match") == "content" for c in diff(a, b) if c.area == "sources")


# --------------------------------------------------------------------------- codings


def test_codings_added_removed_and_boundary_changed() -> None:
    a = make_project(((sel(1, 0, 28, 15), sel(2, 29, 62, 13), sel(5, 63, 85, 11)), (sel(3, 0, 35, 11),)))
    b = make_project(
        (
            # 1 unchanged; 2 widened (same coder); 5 removed; 6 added by B on the same range as 1.
            (sel(1, 0, 28, 15), sel(2, 25, 70, 13), sel(6, 0, 28, 15, USER_B.guid)),
            (sel(3, 0, 35, 11), sel(7, 36, 70, 16)),
        )
    )
    result = [c for c in diff(a, b) if c.area == "codings"]
    got = sorted((c.kind, c.get("source"), c.get("code"), c.get("coder")) for c in result)
    assert got == [
        ("added", "Interview 1", "Food", "Researcher B"),
        ("added", "Interview 2", "Other", "Researcher A"),
        ("boundary-changed", "Interview 1", "Blocking", "Researcher A"),
        ("removed", "Interview 1", "Audience", "Researcher A"),
    ]
    widened = next(c for c in result if c.kind == "boundary-changed")
    assert widened.before == {"start": 29, "end": 62, "text": TEXTS[0][29:62], "selection": str(g(4002))}
    assert (widened.after["start"], widened.after["end"]) == (25, 70)  # type: ignore[index]
    added = next(c for c in result if c.get("code") == "Other")
    assert added.after["text"] == TEXTS[1][36:70]  # type: ignore[index]
    assert added.get("path") == ["Other"]


def test_overlap_pairs_same_coder_only_and_disjoint_ranges_do_not_pair() -> None:
    a = make_project(((sel(1, 0, 10, 15), sel(2, 40, 50, 15)), ()))
    b = make_project(((sel(3, 5, 12, 15, USER_B.guid), sel(4, 20, 30, 15), sel(5, 45, 60, 15)), ()))
    got = sorted(
        (c.kind, c.get("coder"), (c.before or {}).get("start"), (c.after or {}).get("start"))  # type: ignore[union-attr]
        for c in diff(a, b)
        if c.area == "codings"
    )
    assert got == [
        ("added", "Researcher A", None, 20),
        ("added", "Researcher B", None, 5),
        ("boundary-changed", "Researcher A", 40, 45),
        ("removed", "Researcher A", 0, None),
    ]


def test_a_selection_with_two_codings_counts_each_coding() -> None:
    base = sel(1, 0, 28, 15)
    two = replace(base, codings=(*base.codings, Coding(guid=g(6001), code=g(16), creating_user=g(2))))
    a = make_project(((base,), ()))
    b = make_project(((two,), ()))
    result = diff(a, b)
    assert [(c.kind, c.get("code"), c.get("coder")) for c in result] == [("added", "Other", "Researcher B")]


# --------------------------------------------------------------------------- other records


def test_notes_cases_variables_sets_users() -> None:
    a = make_project()
    b = replace(
        a,
        notes=(replace(a.notes[0], text="Blocking parents is rare."), TextSource(guid=g(401), name="M2", text="x")),
        variables=(replace(a.variables[0], type=VariableType.TEXT),),
        cases=(replace(a.cases[0], variable_values=(VariableValue(variable=g(200), value="32"),)),),
        sets=(replace(a.sets[0], member_codes=(g(11),)),),
        users=(USER_A, replace(USER_B, name="Coder B")),
    )
    result = diff(a, b)
    fields = sorted((c.area, c.kind, c.get("field")) for c in result)
    assert fields == [
        ("cases", "changed", "variables"),
        ("notes", "added", None),
        ("notes", "changed", "text"),
        ("sets", "changed", "codes"),
        ("users", "changed", "name"),
        ("variables", "changed", "type"),
    ]
    case = next(c for c in result if c.area == "cases")
    assert (case.before, case.after) == ({"Age": "31"}, {"Age": "32"})
    members = next(c for c in result if c.area == "sets")
    assert members.before == ["Privacy > Audience", "Privacy > Hiding > Blocking"]
    assert members.after == ["Privacy > Audience"]


# --------------------------------------------------------------------------- properties


@st.composite
def projects(draw: st.DrawFn) -> Project:
    """A project over the fixed codebook and texts with random selections by two coders."""
    sources: list[tuple[TextSelection, ...]] = []
    n = 0
    for text in TEXTS:
        sels = []
        for _ in range(draw(st.integers(0, 6))):
            n += 1
            start = draw(st.integers(0, len(text) - 1))
            end = draw(st.integers(start, len(text)))
            code = draw(st.sampled_from([11, 12, 13, 15, 16]))
            user = draw(st.sampled_from([USER_A.guid, USER_B.guid]))
            sels.append(sel(n, start, end, code, user))
        sources.append(tuple(sels))
    return make_project(tuple(sources))


def count_codings(p: Project) -> int:
    return sum(len(s.codings) for src in p.sources for s in src.selections)  # type: ignore[union-attr]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects())
def test_property_diff_with_itself_is_empty(p: Project) -> None:
    assert diff(p, p) == ()
    assert diff(p, copy.deepcopy(p)) == ()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects(), projects())
def test_property_coding_changes_account_for_every_coding(a: Project, b: Project) -> None:
    a0, b0 = copy.deepcopy(a), copy.deepcopy(b)
    result = [c for c in diff(a, b) if c.area == "codings"]
    assert a == a0 and b == b0
    added = sum(c.kind == "added" for c in result)
    removed = sum(c.kind == "removed" for c in result)
    moved = [c for c in result if c.kind == "boundary-changed"]
    assert added - removed == count_codings(b) - count_codings(a)
    for change in moved:  # a boundary change pairs overlapping ranges of one coder and code
        x, y = change.before, change.after
        assert isinstance(x, dict) and isinstance(y, dict)
        assert x["start"] <= y["end"] and y["start"] <= x["end"]
        assert (x["start"], x["end"]) != (y["start"], y["end"])


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    from qdx.api import write

    a = make_project()
    b = replace(a, codes=edited_codebook())
    write(a, tmp_path / "a.qdpx")
    write(b, tmp_path / "b.qdpx")
    return tmp_path / "a.qdpx", tmp_path / "b.qdpx"


def test_cli_identical_exit_0_and_empty(files: tuple[Path, Path]) -> None:
    a, _ = files
    result = CliRunner().invoke(main, ["diff", str(a), str(a)])
    assert result.exit_code == 0 and result.output == ""
    result = CliRunner().invoke(main, ["diff", str(a), str(a), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert all(data[key] == [] for key in ("codes", "sources", "codings", "notes", "cases", "sets"))


def test_cli_differ_exit_1_text_and_json(files: tuple[Path, Path]) -> None:
    a, b = files
    result = CliRunner().invoke(main, ["diff", str(a), str(b)])
    assert result.exit_code == 1
    assert "renamed" in result.output and "Audience" in result.output and "4 change(s)" in result.output
    result = CliRunner().invoke(main, ["diff", str(a), str(b), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert sorted(c["kind"] for c in data["codes"]) == ["moved", "recoloured", "removed", "renamed"]
    renamed = next(c for c in data["codes"] if c["kind"] == "renamed")
    assert renamed["before"] == "Audience" and renamed["after"] == "Visible to"
    assert renamed["guid"] == str(g(11))


def test_cli_unreadable_input_exits_2(files: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = files
    result = CliRunner().invoke(main, ["diff", str(a), str(tmp_path / "missing.qdpx")])
    assert result.exit_code == 2
    assert "missing.qdpx" in result.output


# --------------------------------------------------------------------------- the bundled study

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
STUDY_PROJECT = FIXTURES / "wechat-moments" / "project.qdpx"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path.name} not generated yet")
    return path


def test_table2_as_printed_against_the_corrected_codebook() -> None:
    """fixtures/wechat-moments/README.md: the rename, the two swapped descriptions, the
    descriptions of the core and 4 main categories, and the 40 added concepts."""
    from collections import Counter

    from qdx.api import read

    before = read(need(FIXTURES / "table2-as-printed.qdc"))
    after = read(need(FIXTURES / "wechat-moments" / "codebook.qdc"))
    result = diff(before, after)
    assert Counter(c.kind for c in result) == {"added": 40, "redescribed": 1 + 4 + 2, "renamed": 1}
    renamed = next(c for c in result if c.kind == "renamed")
    assert (renamed.before, renamed.after) == ("Privacy Paradox", "Sharing-Protection Conflict")


def test_study_in_nvivo_dialect_is_the_same_project() -> None:
    from qdx.api import read

    a = read(need(STUDY_PROJECT))
    b = read(need(FIXTURES / "wechat-moments" / "project-nvivo.qdpx"))
    assert diff(a, b) == ()


def test_study_with_edited_codebook_diffs_to_the_edits(tmp_path: Path) -> None:
    from qdx.api import read, write

    a = read(need(STUDY_PROJECT))
    leaves = sorted((c for c, _ in iter_codes(a.codes) if not c.children), key=lambda c: c.name)
    renamed, recoloured, moved, deleted = leaves[:4]
    index = {c.guid: anc for c, anc in iter_codes(a.codes)}
    target = next(x for x in index[leaves[10].guid][::-1] if x.guid != index[moved.guid][-1].guid)
    codes = edit_code(a.codes, renamed.guid, name=renamed.name + " (renamed)")
    codes = edit_code(codes, recoloured.guid, color="#123456")
    codes = add_child(remove_code(codes, moved.guid), target.guid, moved)
    codes = remove_code(codes, deleted.guid)
    sources = []
    n_deleted = 0
    for source in a.sources:
        assert isinstance(source, TextSource)
        kept = tuple(s for s in source.selections if all(c.code != deleted.guid for c in s.codings))
        n_deleted += len(source.selections) - len(kept)
        sources.append(replace(source, selections=kept))
    b = replace(a, codes=codes, sources=tuple(sources))
    write(b, tmp_path / "edited.qdpx")
    out = CliRunner().invoke(main, ["diff", str(STUDY_PROJECT), str(tmp_path / "edited.qdpx"), "--json"])
    assert out.exit_code == 1
    data = json.loads(out.output)
    got = sorted((c["kind"], c["code"]) for c in data["codes"])
    assert got == sorted(
        [("renamed", renamed.name), ("recoloured", recoloured.name), ("moved", moved.name), ("removed", deleted.name)]
    )
    assert n_deleted > 0
    assert [(c["kind"], c["code"]) for c in data["codings"]] == [("removed", deleted.name)] * n_deleted
    assert data["sets"] == [] or all(c["kind"] == "changed" for c in data["sets"])
    assert all(data[key] == [] for key in ("sources", "notes", "variables", "users"))


def test_study_with_reminted_code_guids_pairs_every_code_by_path() -> None:
    from qdx.api import read
    from qdx.ops.pairing import remap_guids

    a = read(need(STUDY_PROJECT))
    fresh = {c.guid.key: Guid(str(uuid.uuid5(uuid.NAMESPACE_DNS, c.guid.key))) for c, _ in iter_codes(a.codes)}
    b = remap_guids(a, fresh)  # codes, and every reference to them (codings, sets, cases)
    assert {c.guid.key for c, _ in iter_codes(b.codes)}.isdisjoint(fresh)
    result = diff(a, b)
    assert {(c.area, c.kind, c.get("match")) for c in result} == {("codes", "guid-changed", "path")}
    assert len(result) == len(fresh) == 65


def test_links_are_compared_by_what_they_join() -> None:
    from qdx.model import Link

    a = replace(make_project(), links=(Link(guid=g(600), name="leads to", origin=g(11), target=g(13)),))
    b = replace(a, links=(replace(a.links[0], target=g(15)),))
    (change,) = diff(a, b)
    assert (change.area, change.kind, change.get("field")) == ("links", "changed", "target")
    assert (change.before, change.after) == ("code Privacy > Hiding > Blocking", "code Sharing > Food")
