"""qdx.merge3 (three-way merge): properties over random edits, the Table 2 pair, conflicts.

Oracles: the three-way rule itself (a field changed on one side takes that side's value), and
coding identities computed here as (source, quoted text, code, coder), independently of qdx.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qdx
from qdx.cli import main
from qdx.errors import Severity
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
    ValueKind,
    Variable,
    VariableType,
    VariableValue,
    iter_codes,
)
from qdx.ops.merge import MergeConflictError
from qdx.ops.merge3 import merge3
from qdx.validation import validate

ROOT = Path(__file__).resolve().parent.parent
CODEBOOK = ROOT / "fixtures" / "wechat-moments" / "codebook.qdc"
TABLE2 = ROOT / "fixtures" / "table2-as-printed.qdc"
TEXTS = (
    "A-1-1 I post photos of food.\nA-1-2 My parents cannot see them.\nA-1-3 I group friends.\n",
    "A-2-1 Moments is for close friends.\nA-2-2 Work contacts see three days.\n",
)


def g(n: int) -> Guid:
    return Guid(str(uuid.UUID(int=n)))


USERS = (User(guid=g(1), name="A"), User(guid=g(2), name="B"))


def base_project() -> Project:
    blocking = Code(guid=g(13), name="Blocking", color="#aa0000")
    hiding = Code(guid=g(12), name="Hiding", children=(blocking,))
    privacy = Code(guid=g(10), name="Privacy", is_codable=False, children=(Code(guid=g(11), name="Audience"), hiding))
    codes = (privacy, Code(guid=g(14), name="Sharing", children=(Code(guid=g(15), name="Food"),)))

    def sel(n: int, start: int, end: int, code: int) -> TextSelection:
        coding = Coding(guid=g(5000 + n), code=g(code), creating_user=g(1))
        return TextSelection(guid=g(4000 + n), start=start, end=end, codings=(coding,))

    sources = (
        TextSource(guid=g(100), name="I1", text=TEXTS[0], selections=(sel(1, 0, 28, 15), sel(2, 29, 62, 13))),
        TextSource(guid=g(101), name="I2", text=TEXTS[1], selections=(sel(3, 0, 35, 11),)),
    )
    var = Variable(guid=g(300), name="gender", type=VariableType.TEXT)
    case = Case(
        guid=g(310),
        name="P1",
        source_refs=(g(100),),
        variable_values=(VariableValue(variable=g(300), kind=ValueKind.TEXT, value="f"),),
    )
    return Project(
        name="study",
        users=USERS,
        codes=codes,
        sources=sources,
        variables=(var,),
        cases=(case,),
        sets=(Set(guid=g(500), name="Core", member_codes=(g(11),)),),
    )


# --------------------------------------------------------------------------- random edits


def _map_codes(codes: tuple[Code, ...], key: str, fn: object) -> tuple[Code, ...]:
    out = []
    for code in codes:
        new = replace(code, children=_map_codes(code.children, key, fn))
        out.append(fn(new) if code.guid.key == key else new)  # type: ignore[operator]
    return tuple(out)


def _remove_code(codes: tuple[Code, ...], key: str) -> tuple[Code, ...]:
    return tuple(replace(c, children=_remove_code(c.children, key)) for c in codes if c.guid.key != key)


def _add_under(codes: tuple[Code, ...], parent: str | None, new: Code) -> tuple[Code, ...]:
    if parent is None:
        return (*codes, new)
    return tuple(
        replace(c, children=(*c.children, new) if c.guid.key == parent else _add_under(c.children, parent, new))
        for c in codes
    )


def _keys(p: Project) -> list[str]:
    return [c.guid.key for c, _ in iter_codes(p.codes)]


def _used(p: Project) -> set[str]:
    return {c.code.key for s in p.sources for sel in s.selections for c in sel.codings}  # type: ignore[union-attr]


class _Editor:
    """Random edits of every kind the merge handles; new GUIDs are side-specific."""

    def __init__(self, rnd: random.Random, side: int) -> None:
        self.rnd, self.side = rnd, side
        self.fresh = iter(range(100_000 * side, 100_000 * side + 1000))

    def new_guid(self) -> Guid:
        return g(next(self.fresh))

    def code_field(self, p: Project, key: str) -> Project:
        rnd = self.rnd
        change = rnd.choice(
            [
                lambda c: replace(c, name=c.name + rnd.choice("xyz")),
                lambda c: replace(c, description=f"d{rnd.randint(0, 3)}"),
                lambda c: replace(c, color=rnd.choice(["#112233", None])),
                lambda c: replace(c, is_codable=not c.is_codable),
            ]
        )
        return replace(p, codes=_map_codes(p.codes, key, change))

    def move(self, p: Project, key: str) -> Project:
        code = next(c for c, _ in iter_codes(p.codes) if c.guid.key == key)
        below = {c.guid.key for c, _ in iter_codes((code,))}
        target = self.rnd.choice([None, *(k for k in _keys(p) if k not in below)])
        return replace(p, codes=_add_under(_remove_code(p.codes, key), target, code))

    def add_code(self, p: Project, _: str) -> Project:
        new = Code(guid=self.new_guid(), name=f"new{self.side}-{self.rnd.randint(0, 2)}")
        return replace(p, codes=_add_under(p.codes, self.rnd.choice([None, *_keys(p)]), new))

    def delete_code(self, p: Project, key: str) -> Project:
        code = next(c for c, _ in iter_codes(p.codes) if c.guid.key == key)
        gone = {c.guid.key for c, _ in iter_codes((code,))}
        if gone & _used(p) or any(gone & {m.key for m in s.member_codes} for s in p.sets):
            return p
        return replace(p, codes=_remove_code(p.codes, key))

    def source(self, p: Project, key: str) -> Project:
        rnd = self.rnd
        i = rnd.randrange(len(p.sources))
        src = p.sources[i]
        assert isinstance(src, TextSource) and src.text is not None
        sels, text = list(src.selections), src.text
        kind = rnd.choice(["add", "delete", "recode", "text", "describe"])
        if kind == "add":
            start = rnd.randrange(len(text) - 5)
            end = rnd.randint(start + 1, min(len(text), start + 25))
            coding = Coding(guid=self.new_guid(), code=Guid(key), creating_user=g(self.side))
            sels.append(TextSelection(guid=self.new_guid(), start=start, end=end, codings=(coding,)))
        elif kind == "delete" and sels:
            sels.pop(rnd.randrange(len(sels)))
        elif kind == "recode" and sels:
            j = rnd.randrange(len(sels))
            sels[j] = replace(sels[j], codings=tuple(replace(c, code=Guid(key)) for c in sels[j].codings))
        elif kind == "text":
            # Words inserted at the start: every selection shifts with it (as an editor would).
            words = f"NEW{self.side} "
            text = words + text
            sels = [replace(s, start=s.start + len(words), end=s.end + len(words)) for s in sels]
        new = replace(src, text=text, selections=tuple(sels))
        if kind == "describe":
            new = replace(src, description=f"s{self.side}")
        return replace(p, sources=(*p.sources[:i], new, *p.sources[i + 1 :]))

    def value(self, p: Project, _: str) -> Project:
        value = VariableValue(variable=g(300), kind=ValueKind.TEXT, value=self.rnd.choice("fmx"))
        return replace(p, cases=(replace(p.cases[0], variable_values=(value,)),))

    def member(self, p: Project, key: str) -> Project:
        s = p.sets[0]
        members = tuple(m for m in s.member_codes if m.key != key)
        if len(members) == len(s.member_codes):
            members = (*members, Guid(key))
        return replace(p, sets=(replace(s, member_codes=members),))


def edit(p: Project, rnd: random.Random, side: int, n: int) -> Project:
    """Apply ``n`` random edits (see :class:`_Editor`)."""
    editor = _Editor(rnd, side)
    kinds = [
        editor.code_field,
        editor.move,
        editor.add_code,
        editor.delete_code,
        editor.source,
        editor.source,
        editor.value,
        editor.member,
    ]
    for _ in range(n):
        keys = _keys(p)
        if keys:
            p = rnd.choice(kinds)(p, rnd.choice(keys))
    return p


@st.composite
def edited(draw: st.DrawFn) -> tuple[Project, Project, Project]:
    base = base_project()
    seed = draw(st.integers(0, 2**32 - 1))
    rnd = random.Random(seed)
    return base, edit(base, rnd, 1, draw(st.integers(0, 6))), edit(base, rnd, 2, draw(st.integers(0, 6)))


def canonical(value: object) -> object:
    """A project with every tuple of records sorted by GUID: the same content in any order."""
    if isinstance(value, tuple):
        items = [canonical(x) for x in value]
        return tuple(sorted(items, key=repr))
    if hasattr(type(value), "__dataclass_fields__") and not isinstance(value, Guid):
        return replace(
            value,
            **{  # type: ignore[type-var]
                f: canonical(getattr(value, f))
                for f in type(value).__dataclass_fields__  # type: ignore[attr-defined]
                if isinstance(getattr(value, f), tuple)
            },
        )
    return value


def codings(p: Project) -> Counter[tuple[str, str, str, str | None]]:
    """(source, quoted text, code, coder) of every coding of every text source (the quote
    identifies the passage across text edits)."""
    out: Counter[tuple[str, str, str, str | None]] = Counter()
    for source in p.sources:
        assert isinstance(source, TextSource) and source.text is not None
        for sel in source.selections:
            for c in sel.codings:
                coder = c.creating_user.key if c.creating_user is not None else None
                # Stripped: text alignment treats whitespace ending a text as representation
                # (qdx.textmap), so a carried passage may lose a final line break.
                out[(source.guid.key, source.text[sel.start : sel.end].strip(), c.code.key, coder)] += 1
    return out


def errors(project: Project) -> list[str]:
    return [f"{i.code} {i.message}" for i in validate(project) if i.severity is Severity.ERROR]


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(edited())
def test_property_one_sided_edits_are_taken_whole(data: tuple[Project, Project, Project]) -> None:
    base, x, _ = data
    for result in (merge3(base, base, x), merge3(base, x, base)):
        assert result.conflicts == ()
        assert result.project == x


@SETTINGS
@given(edited())
def test_property_symmetric_up_to_conflict_sides(data: tuple[Project, Project, Project]) -> None:
    base, a, b = data
    ab = merge3(base, a, b, policy="ours")
    ba = merge3(base, b, a, policy="theirs")
    assert canonical(ab.project) == canonical(ba.project)
    # The same conflicts, each seen from the other side (the label names the side taken first).
    seen = sorted(repr(replace(c.swapped(), name=None)) for c in ab.conflicts)
    assert seen == sorted(repr(replace(c, name=None)) for c in ba.conflicts)


@SETTINGS
@given(edited())
def test_property_every_coding_is_kept_or_listed(data: tuple[Project, Project, Project]) -> None:
    base, a, b = data
    try:
        result = merge3(base, a, b)
        listed = 0
    except MergeConflictError as exc:
        result = merge3(base, a, b, policy="ours")
        listed = len(exc.conflicts)
        assert listed == len(result.conflicts)
    got, cb, ca, cbb = codings(result.project), codings(base), codings(a), codings(b)
    # Codings in a listed conflict: lost on an edited text, or recoded differently on both sides.
    lost = sum(1 for c in result.conflicts if c.area == "codings")
    # What one side added is there (or in a listed conflict) ...
    missing = ((ca - cb) | (cbb - cb)) - got
    assert sum(missing.values()) <= lost
    # ... what both kept is there, and nothing comes from nowhere.
    assert not ((ca & cbb) - got) or lost
    assert not got - (ca | cbb)
    if not listed:
        assert errors(result.project) == []


def test_same_edit_on_both_sides_is_taken_once() -> None:
    base = base_project()
    edit_ = replace(base, codes=_map_codes(base.codes, g(13).key, lambda c: replace(c, description="new")))
    result = merge3(base, edit_, edit_)
    assert result.conflicts == () and result.project == edit_


def test_different_edits_conflict_with_base_and_both_sides() -> None:
    base = base_project()
    a = replace(base, codes=_map_codes(base.codes, g(13).key, lambda c: replace(c, name="Blocking people")))
    b = replace(base, codes=_map_codes(base.codes, g(13).key, lambda c: replace(c, name="Muting")))
    with pytest.raises(MergeConflictError) as caught:
        merge3(base, a, b)
    (conflict,) = caught.value.conflicts
    assert conflict.as_dict()["base"] == "Blocking"
    assert (conflict.ours, conflict.theirs) == ("Blocking people", "Muting")
    assert merge3(base, a, b, policy="theirs").project == b


def test_edited_text_carries_the_other_sides_codings() -> None:
    base = base_project()
    src = base.sources[0]
    assert isinstance(src, TextSource) and src.text is not None
    # Ours rewrites the second line; theirs adds a coding on the third line of the old text.
    new_text = src.text.replace("My parents cannot see them.", "Parents and aunts never see them.")
    shift = len(new_text) - len(src.text)
    kept = tuple(s for s in src.selections if s.end <= 29)
    a = replace(base, sources=(replace(src, text=new_text, selections=kept), *base.sources[1:]))
    start = src.text.index("A-1-3")
    coding = Coding(guid=g(9001), code=g(12), creating_user=g(2))
    added = TextSelection(guid=g(9000), start=start, end=start + 20, codings=(coding,))
    b = replace(base, sources=(replace(src, selections=(*src.selections, added)), *base.sources[1:]))
    merged = merge3(base, a, b).project
    doc = merged.sources[0]
    assert isinstance(doc, TextSource) and doc.text == new_text
    moved = [s for s in doc.selections if any(c.guid == g(9001) for c in s.codings)]
    assert [(s.start, s.end) for s in moved] == [(start + shift, start + shift + 20)]
    assert doc.text[moved[0].start : moved[0].end] == "A-1-3 I group friend"


def _iter_named(p: Project) -> Iterator[tuple[str, Code]]:
    for code, ancestors in iter_codes(p.codes):
        yield " > ".join([*(a.name for a in ancestors), code.name]), code


@pytest.mark.skipif(not TABLE2.exists() or not CODEBOOK.exists(), reason="study fixtures absent")
def test_table2_pair_with_the_published_codebook_as_base_has_no_false_conflict() -> None:
    published, printed = qdx.read(CODEBOOK), qdx.read(TABLE2)
    # Two-way merge of the pair: every one-sided edit is a conflict (the issue counts 8).
    with pytest.raises(MergeConflictError) as two_way:
        qdx.merge(printed, published)
    assert len(two_way.value.conflicts) == 8
    for ours, theirs in ((printed, published), (published, printed)):
        result = merge3(published, ours, theirs)
        assert result.conflicts == ()
        assert result.project == printed
    # A coder's own edit of the published codebook merges with Table 2's changes, no conflict.
    root = published.codes[0]
    coder = replace(published, codes=(replace(root, children=(*root.children, Code(guid=g(77), name="Other"))),))
    merged = merge3(published, printed, coder).project
    assert dict(_iter_named(merged)).keys() == dict(_iter_named(printed)).keys() | {f"{root.name} > Other"}


def test_cli_three_way_and_conflict_report(tmp_path: Path) -> None:
    base = base_project()
    a = replace(base, codes=_map_codes(base.codes, g(13).key, lambda c: replace(c, name="Blocking people")))
    b = replace(base, codes=_map_codes(base.codes, g(11).key, lambda c: replace(c, description="who sees")))
    paths = []
    for name, p in (("base", base), ("a", a), ("b", b)):
        paths.append(str(tmp_path / f"{name}.qdpx"))
        qdx.write(p, paths[-1])
    out = tmp_path / "out.qdpx"
    run = CliRunner().invoke(main, ["merge", "--base", paths[0], paths[1], paths[2], "-o", str(out)])
    assert run.exit_code == 0, run.output
    merged = qdx.read(out)
    names = {c.guid.key: (c.name, c.description) for c, _ in iter_codes(merged.codes)}
    assert names[g(13).key] == ("Blocking people", None) and names[g(11).key] == ("Audience", "who sees")
    c = replace(base, codes=_map_codes(base.codes, g(13).key, lambda c: replace(c, name="Muting")))
    qdx.write(c, str(tmp_path / "c.qdpx"))
    report = tmp_path / "conflicts.json"
    out2 = tmp_path / "out2.qdpx"
    run = CliRunner().invoke(
        main,
        ["merge", "--base", paths[0], paths[1], str(tmp_path / "c.qdpx"), "-o", str(out2), "--conflicts", str(report)],
    )
    assert run.exit_code == 1 and not out2.exists()
    listed = json.loads(report.read_text(encoding="utf-8"))["conflicts"]
    assert [(x["base"], x["ours"], x["theirs"]) for x in listed] == [("Blocking", "Blocking people", "Muting")]
    # Under --json the conflicts and the error are one document on stdout (as a two-way merge's).
    run = CliRunner().invoke(main, ["merge", "--base", paths[0], paths[1], str(tmp_path / "c.qdpx"),
                                    "-o", str(out2), "--json"])  # fmt: skip
    document = json.loads(run.stdout)
    assert run.exit_code == 1 and not out2.exists() and document["written"] is False
    assert document["error"]["type"] == "MergeConflictError" and len(document["conflicts"]) == 1


def test_conflict_report_as_xlsx_lists_base_ours_theirs(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from qdx.report.conflicts import write_conflicts

    base = base_project()
    a = replace(base, codes=_map_codes(base.codes, g(13).key, lambda c: replace(c, name="=1+1")))
    b = replace(base, codes=_map_codes(base.codes, g(13).key, lambda c: replace(c, name="Muting")))
    conflicts = merge3(base, a, b, policy="ours").conflicts
    path = tmp_path / "conflicts.xlsx"
    write_conflicts(conflicts, path, inputs={"base": "base.qdpx"})
    rows = [[c.value for c in row] for row in load_workbook(path)["Conflicts"].iter_rows()]
    assert rows[0] == ["kind", "area", "name", "guid", "base", "ours", "theirs", "resolution"]
    # A value that looks like a formula stays text (never evaluated by a spreadsheet).
    assert rows[1][4:] == ["Blocking", "=1+1", "Muting", "ours"]
    assert load_workbook(path)["Conflicts"]["F2"].data_type == "s"


STUDY = ROOT / "fixtures" / "wechat-moments"


@pytest.mark.skipif(not (STUDY / "coder-b.qdpx").exists(), reason="study fixtures absent")
def test_study_round_lead_revises_codebook_while_coder_b_codes() -> None:
    """The workflow of the issue: the lead sends the project out, revises code definitions as
    printed in Table 2 while coder B codes five interviews; the merge has both, no conflict."""
    sent = qdx.read(STUDY / "project.qdpx")
    printed = {c.guid.key: c for c, _ in iter_codes(qdx.read(TABLE2).codes)}

    def revise(codes: tuple[Code, ...]) -> tuple[Code, ...]:
        out = []
        for code in codes:
            new = printed.get(code.guid.key)
            fields = {"name": new.name, "description": new.description} if new is not None else {}
            out.append(replace(code, **fields, children=revise(code.children)))
        return tuple(out)

    lead = replace(sent, codes=revise(sent.codes))
    coder = qdx.read(STUDY / "coder-b.qdpx")
    theirs = {s.guid.key: s for s in coder.sources}
    sources = []
    for source in sent.sources:
        other = theirs.get(source.guid.key)
        assert isinstance(source, TextSource)
        if other is not None:
            assert isinstance(other, TextSource) and other.text == source.text
            source = replace(source, selections=(*source.selections, *other.selections))
        sources.append(source)
    known = {u.guid.key for u in sent.users}
    users = (*sent.users, *(u for u in coder.users if u.guid.key not in known))
    coded = replace(sent, users=users, sources=tuple(sources))
    result = merge3(sent, lead, coded)
    assert result.conflicts == ()
    merged = result.project
    assert merged.codes == lead.codes
    assert codings(merged) == codings(sent) + codings(coder)  # every coding of both, once
    assert errors(merged) == []
    # The same round with the sides swapped gives the same project, up to order.
    assert canonical(merge3(sent, coded, lead).project) == canonical(merged)


def test_boundaries_changed_differently_keep_both_and_are_listed() -> None:
    base = base_project()
    src = base.sources[0]
    assert isinstance(src, TextSource)
    first = src.selections[0]

    def widened(end: int) -> Project:
        moved = replace(first, end=end)
        return replace(base, sources=(replace(src, selections=(moved, *src.selections[1:])), *base.sources[1:]))

    a, b = widened(20), widened(22)
    with pytest.raises(MergeConflictError) as caught:
        merge3(base, a, b)
    (conflict,) = caught.value.conflicts
    assert (conflict.kind, conflict.as_dict()["base"], conflict.ours, conflict.theirs) == (
        "range",
        [0, 28],
        [0, 20],
        [0, 22],
    )
    merged = merge3(base, a, b, policy="ours").project.sources[0]
    assert isinstance(merged, TextSource)
    assert sorted((s.start, s.end) for s in merged.selections)[:2] == [(0, 20), (0, 22)]
    # One side only: taken, no conflict.
    assert merge3(base, a, base).project == a


def test_cli_two_way_merge_writes_its_conflicts_too(tmp_path: Path) -> None:
    base = base_project()
    a = replace(base, codes=_map_codes(base.codes, g(13).key, lambda c: replace(c, name="Blocking people")))
    paths = [str(tmp_path / "a.qdpx"), str(tmp_path / "b.qdpx")]
    qdx.write(base, paths[0])
    qdx.write(a, paths[1])
    report = tmp_path / "c.json"
    run = CliRunner().invoke(main, ["merge", *paths, "-o", str(tmp_path / "o.qdpx"), "--conflicts", str(report)])
    assert run.exit_code == 1 and not (tmp_path / "o.qdpx").exists()
    (listed,) = json.loads(report.read_text(encoding="utf-8"))["conflicts"]
    assert (listed["base"], listed["ours"], listed["theirs"]) == (
        None,
        {"name": "Blocking"},
        {"name": "Blocking people"},
    )
    bad = CliRunner().invoke(main, ["merge", *paths, "-o", str(tmp_path / "o.qdpx"), "--conflicts", "c.csv"])
    assert bad.exit_code == 2 and "use .json, .xlsx" in bad.output
