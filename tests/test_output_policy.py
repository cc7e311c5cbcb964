"""The output policy shared by convert and merge: refuse invalid output, --repair, --allow-invalid.

Oracles: the validator (qdx validate) and, when ../shared is present, the official REFI-QDA XSD
(libxml2) decide validity; every error of the refused attempt must be accounted for by a listed
repair (the GUID or file it names appears in a repair line).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qdx
from qdx.cli import main
from qdx.errors import InvalidOutputError, Severity
from qdx.model import Case, Code, Coding, Guid, Link, Project, Set, TextSelection, TextSource, User
from qdx.ops.repair import repair
from qdx.validation import validate
from tests.conftest import REFI_SAMPLES, REFI_SCHEMA, need_shared, refi_sample_files

ATLAS = REFI_SAMPLES / "atlasti-8.4-refi-standard-example" / "TestProject.qdpx"
TOOL_QDE = REFI_SAMPLES / "tool-generated-paper_themes" / "project_with_generated_codes.qde"
BLANK_ATLAS = REFI_SAMPLES / "atlasti-23-ponte" / "blank-atlas-project.qdpx"

G = [Guid(f"00000000-0000-4000-8000-{i:012d}") for i in range(20)]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def errors_of(path: Path, xsd: Path | None = None) -> list[qdx.Issue]:
    return [i for i in qdx.validate_file(path, xsd=xsd) if i.severity is Severity.ERROR]


def official_xsd(path: Path) -> Path | None:
    name = "Codebook-mrt2019.xsd" if path.suffix == ".qdc" else "Project-mrt2019.xsd"
    xsd = REFI_SCHEMA / name
    return xsd if xsd.exists() else None


def broken_project() -> Project:
    """One of each repairable error: a coding of a missing code, a duplicate GUID, a selection
    past the end of its text, a set member naming nothing, a coding by an unknown user."""
    text = "Hello world."  # 12 code points
    selections = (
        TextSelection(guid=G[3], start=0, end=5, codings=(Coding(guid=G[4], code=G[1]),)),
        TextSelection(guid=G[5], start=6, end=11, codings=(Coding(guid=G[6], code=G[9]),)),  # no code G9
        TextSelection(guid=G[3], start=6, end=12, codings=(Coding(guid=G[7], code=G[1], creating_user=G[12]),)),
        TextSelection(guid=G[8], start=3, end=40, codings=(Coding(guid=G[10], code=G[1]),)),  # past the end
    )
    source = TextSource(
        guid=G[2], name="doc", text=text, plain_text_path=f"internal://{G[2]}.txt", selections=selections
    )
    return Project(
        name="broken",
        users=(User(guid=G[0], name="A"),),
        codes=(Code(guid=G[1], name="greeting"),),
        sources=(source,),
        sets=(Set(guid=G[11], name="s", member_sources=(G[2], G[13])),),
    )


# --------------------------------------------------------------------------- library


def test_write_check_refuses_and_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "out.qdpx"
    with pytest.raises(InvalidOutputError) as caught:
        qdx.write(broken_project(), target, check=True)
    codes = sorted(i.code for i in caught.value.issues)
    # QDX101 missing code, QDX106 unknown user, QDX103 set member, QDX110 duplicate, QDX112 range
    assert set(codes) == {"QDX101", "QDX103", "QDX106", "QDX110", "QDX112"}
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_write_check_keeps_a_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "out.qdpx"
    target.write_bytes(b"previous")
    with pytest.raises(InvalidOutputError):
        qdx.write(broken_project(), target, check=True)
    assert target.read_bytes() == b"previous"


def test_repair_lists_each_change_and_gives_a_valid_file(tmp_path: Path) -> None:
    project = broken_project()
    result = repair(project)
    text = "\n".join(result.repairs)
    assert len(result.repairs) == 5, text
    assert f"Coding ({G[6]})" in text and "does not exist" in text  # coding of the missing code
    assert "new GUID" in text and f"({G[3]})" in text  # the second selection G3 re-minted
    assert f"({G[8]})" in text and "outside the text" in text
    assert f"MemberSource {G[13]}" in text
    assert f"creating_user {G[12]}" in text
    assert project == broken_project()  # the input is untouched
    target = tmp_path / "fixed.qdpx"
    qdx.write(result.project, target, check=True)
    assert errors_of(target) == []
    back = qdx.read(target)
    assert [s.guid for s in back.sources[0].selections][:2] == [G[3], G[5]]
    assert len(back.sources[0].selections) == 3  # only the out-of-range selection is gone
    assert len({s.guid for s in back.sources[0].selections}) == 3


def test_repair_of_a_valid_project_changes_nothing() -> None:
    study = qdx.read(Path(__file__).resolve().parent.parent / "fixtures" / "wechat-moments" / "project.qdpx")
    result = repair(study)
    assert result.repairs == () and result.project == study


def test_empty_codebook_is_refused_for_qdc(tmp_path: Path) -> None:
    target = tmp_path / "book.qdc"
    with pytest.raises(InvalidOutputError, match="at least one code"):
        qdx.write(Project(name="empty", is_codebook=True), target, check=True)
    assert not target.exists()


# --------------------------------------------------------------------------- command line


def test_convert_refuses_then_repairs_a_constructed_project(tmp_path: Path) -> None:
    source = tmp_path / "in.qdpx"
    qdx.write(broken_project(), source)  # the library writes what it is given unless asked to check
    target = tmp_path / "out.qdpx"
    code, _out, err = run("convert", str(source), str(target))
    assert code == 1 and not target.exists()
    assert "QDX101" in err and "QDX110" in err and "nothing written" in err
    assert err.strip().splitlines()[-1].startswith("qdx: error:")
    code, _out, err = run("convert", str(source), str(target), "--repair")
    assert code == 0, err
    assert len(re.findall(r"^qdx: repaired: ", err, re.M)) == 5
    assert errors_of(target) == []


def test_convert_allow_invalid_writes_and_says_so(tmp_path: Path) -> None:
    source = tmp_path / "in.qdpx"
    qdx.write(broken_project(), source)
    target = tmp_path / "out.qdpx"
    code, out, _err = run("convert", str(source), str(target), "--allow-invalid", "--json")
    assert code == 1 and target.exists()
    data = json.loads(out)
    assert data["written"] is True and data["valid"] is False
    assert {i["code"] for i in data["output_issues"]} >= {"QDX101", "QDX110"}


def test_convert_json_refusal(tmp_path: Path) -> None:
    source = tmp_path / "in.qdpx"
    qdx.write(broken_project(), source)
    code, out, _err = run("convert", str(source), str(tmp_path / "out.qdpx"), "--json")
    data = json.loads(out)
    assert code == 1 and data["written"] is False and data["output_issues"]


def test_merge_follows_the_same_policy(tmp_path: Path) -> None:
    broken = broken_project()
    source = broken.sources[0]
    assert isinstance(source, TextSource)
    # Without the duplicate selection GUID (merge pairs selections by GUID and would report
    # a range conflict first).
    single = dataclasses.replace(broken, sources=(dataclasses.replace(source, selections=source.selections[:2]),))
    a, b = tmp_path / "a.qdpx", tmp_path / "b.qdpx"
    qdx.write(single, a)
    qdx.write(dataclasses.replace(single, name="other"), b)
    target = tmp_path / "m.qdpx"
    code, out, err = run("merge", str(a), str(b), "-o", str(target))
    assert code == 1 and not target.exists() and "would not validate" in err and "QDX101" in err
    code, out, err = run("merge", str(a), str(b), "-o", str(target), "--repair", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["repairs"] and data["valid"] is True
    assert errors_of(target) == []


# --------------------------------------------------------------------------- real samples


GUID = r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}"


def _accounted(error: qdx.Issue, repairs: str, sample: qdx.Project) -> bool:
    """An error of the refused output is fixed by a listed repair that names what it names,
    or by the listed drop of the source holding the record it names."""
    names = re.findall(rf"internal://[^ ]+|{GUID}", error.message)
    if any(name.lower() in repairs.lower() for name in names):
        return True
    for source in sample.sources:
        held = repr(source).lower()  # every nested file path and GUID of the source
        if any(name.lower() in held for name in names):
            return f"dropped {type(source).__name__}" in repairs and str(source.guid).lower() in repairs.lower()
    return False


@pytest.mark.parametrize(
    ("sample", "ext", "expected_errors"),
    [(ATLAS, "qdpx", 25), (TOOL_QDE, "qdpx", 10), (ATLAS, "qde", 2)],
    ids=["atlas-missing-texts", "tool-qde-to-qdpx", "atlas-duplicate-guids-qde"],
)
def test_invalid_samples_are_refused_then_repaired(
    tmp_path: Path, sample: Path, ext: str, expected_errors: int
) -> None:
    need_shared(sample)
    target = tmp_path / f"out.{ext}"
    code, out, err = run("convert", str(sample), str(target), "--json")
    assert code == 1 and not target.exists()
    refused = json.loads(out)
    errors = refused["output_issues"]
    assert len(errors) == expected_errors  # the counts issue 14 measured with qdx validate
    code, out, err = run("convert", str(sample), str(target), "--repair", "--json")
    assert code == 0, err
    data = json.loads(out)
    repairs = "\n".join(data["repairs"])
    for error in errors:
        issue = qdx.Issue(error["code"], Severity.ERROR, error["message"], error["location"])
        assert _accounted(issue, repairs, qdx.read(sample)), error
    assert errors_of(target) == []
    xsd = official_xsd(target)
    if xsd is not None:
        assert errors_of(target, xsd) == []


def test_codebook_with_no_codes_is_refused(tmp_path: Path) -> None:
    need_shared(BLANK_ATLAS)
    target = tmp_path / "book.qdc"
    code, _out, err = run("convert", str(BLANK_ATLAS), str(target))
    assert code == 1 and not target.exists()
    assert "at least one code" in err and len(err.strip().splitlines()) <= 3


# --------------------------------------------------------------------------- what is carried over

CODEBOOK_WITH_ATTRIBUTE = b"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="hand-made">
  <Codes>
    <Code guid="00000000-0000-4000-8000-000000000001" name="trust" isCodable="true"
          description="Statements about trusting others" mood="warm">
      <Code guid="00000000-0000-4000-8000-000000000002" name="distrust" isCodable="true"
            description="attribute copy">
        <Description>element copy</Description>
      </Code>
    </Code>
  </Codes>
</CodeBook>
"""


@pytest.mark.parametrize("ext", ["qdc", "qdpx", "qde"])
def test_description_attribute_becomes_the_description(tmp_path: Path, ext: str) -> None:
    source = tmp_path / "in.qdc"
    source.write_bytes(CODEBOOK_WITH_ATTRIBUTE)
    target = tmp_path / f"out.{ext}"
    code, _out, err = run("convert", str(source), str(target))
    assert code == 0, err
    # The attribute that disagrees with the element, and one the schema does not know, are
    # listed as not carried over; the description attribute that became the Description is not.
    carried = [line for line in err.splitlines() if line.startswith("qdx: not carried over:")]
    assert any("differs from its <Description>" in line for line in carried), err
    assert any("attribute mood of <Code> is outside the REFI-QDA schema" in line for line in carried), err
    assert len(carried) == 2
    back = qdx.read(target)
    assert back.codes[0].description == "Statements about trusting others"
    assert back.codes[0].children[0].description == "element copy"
    assert errors_of(target) == []


@pytest.mark.parametrize("sample", refi_sample_files(), ids=lambda p: p.parent.name + "/" + p.name)
def test_every_sample_converts_to_a_valid_file_or_is_refused_then_repaired(tmp_path: Path, sample: Path) -> None:
    """The whole class: whatever convert writes validates (qdx validate and the official XSD);
    whatever it refuses, --repair makes valid, except a codebook with no code to write."""
    project = qdx.read(sample)
    for ext in ("qdpx", "qde", "qdc"):
        target = tmp_path / f"out.{ext}"
        code, _out, err = run("convert", str(sample), str(target))
        if not target.exists():
            assert code == 1 and "nothing written" in err, err
            code, _out, err = run("convert", str(sample), str(target), "--repair")
            if ext == "qdc" and not project.codes:
                assert code == 1 and "at least one code" in err and not target.exists()
                continue
            assert code == 0 and "qdx: repaired: " in err, err
        assert errors_of(target) == [], (ext, err)
        xsd = official_xsd(target)
        if xsd is not None:
            assert errors_of(target, xsd) == [], ext


def test_coded_text_output_lists_codings_it_cannot_hold(tmp_path: Path) -> None:
    project = broken_project()
    source = project.sources[0]
    assert isinstance(source, TextSource)
    whole = Coding(guid=G[15], code=G[1])
    valid = dataclasses.replace(
        project,
        sets=(),
        sources=(dataclasses.replace(source, selections=source.selections[:1], codings=(whole,)),),
    )
    path = tmp_path / "in.qdpx"
    qdx.write(valid, path, check=True)
    code, _out, err = run("convert", str(path), str(tmp_path / "texts") + "/", "--to", "nvivo-text")
    assert code == 0, err
    assert "qdx: not carried over: 1 coding(s) of whole-source codings" in err


# --------------------------------------------------------------------------- repair, as a property

POOL = [Guid(f"00000000-0000-4000-8000-{i:012d}") for i in range(1, 13)]


@st.composite
def messy_projects(draw: st.DrawFn) -> Project:
    """Projects whose every reference is drawn from a small pool of GUIDs, some defined twice and
    some not at all, with selections anywhere in or beyond their text."""
    guid = st.sampled_from(POOL)
    text = "abcdefghij"
    codes = tuple(Code(guid=draw(guid), name=f"c{i}") for i in range(draw(st.integers(0, 3))))
    users = tuple(User(guid=draw(guid), name=f"u{i}") for i in range(draw(st.integers(0, 2))))
    sources = []
    for s in range(draw(st.integers(0, 3))):
        sels = []
        for _ in range(draw(st.integers(0, 3))):
            start, end = draw(st.integers(-2, 14)), draw(st.integers(-2, 14))
            codings = tuple(
                Coding(guid=draw(guid), code=draw(guid), creating_user=draw(st.none() | guid))
                for _ in range(draw(st.integers(0, 2)))
            )
            sels.append(TextSelection(guid=draw(guid), start=start, end=end, codings=codings,
                                      note_refs=tuple(draw(st.lists(guid, max_size=1)))))  # fmt: skip
        sources.append(TextSource(guid=draw(guid), name=f"s{s}", text=text, selections=tuple(sels)))
    cases = tuple(
        Case(guid=draw(guid), code_refs=tuple(draw(st.lists(guid, max_size=2))),
             source_refs=tuple(draw(st.lists(guid, max_size=2))),
             selection_refs=tuple(draw(st.lists(guid, max_size=2))))
        for _ in range(draw(st.integers(0, 2)))
    )  # fmt: skip
    sets = tuple(
        Set(guid=draw(guid), name="s", member_codes=tuple(draw(st.lists(guid, max_size=2))),
            member_sources=tuple(draw(st.lists(guid, max_size=2))))
        for _ in range(draw(st.integers(0, 2)))
    )  # fmt: skip
    links = tuple(Link(guid=draw(guid), origin=draw(guid), target=draw(guid)) for _ in range(draw(st.integers(0, 2))))
    return Project(name="messy", users=users, codes=codes, sources=tuple(sources), cases=cases, sets=sets, links=links)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messy_projects())
def test_repair_always_leaves_no_integrity_error(project: Project) -> None:
    result = repair(project)
    assert [i for i in validate(result.project) if i.severity is Severity.ERROR] == []
    # Nothing silent: when something changed, it was listed.
    assert (result.project == project) == (result.repairs == ())
