"""Integrity rules on in-memory projects, file-level validation and the ``qdx validate`` command.

Expected issues are worked out by hand from the defect each test plants (REFI §3.7, §5.3, §8.3,
§10.2, §11; STANDARD.md §2 "What the XSDs do NOT enforce").
"""

from __future__ import annotations

import copy
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from qdx.cli.validate import validate as validate_command
from qdx.errors import Issue, Severity, UsageError
from qdx.model import (
    AudioSelection,
    AudioSource,
    Case,
    Code,
    Coding,
    Edge,
    Graph,
    Guid,
    Link,
    Project,
    Provenance,
    Set,
    SyncPoint,
    TextSelection,
    TextSource,
    Transcript,
    TranscriptSelection,
    User,
    ValueKind,
    Variable,
    VariableType,
    VariableValue,
    Vertex,
)
from qdx.validation import has_errors, validate, validate_file
from tests.conftest import REFI_SAMPLES, need_shared, refi_sample_files


def g(n: int) -> Guid:
    return Guid(f"0b5e7a11-0000-4000-8000-{n:012d}")


TEXT = "I love this place."  # 18 code points


def sound_project() -> Project:
    """A small project in which every reference resolves (no issue expected)."""
    coding = Coding(guid=g(30), code=g(11), creating_user=g(1), note_refs=(g(60),))
    selection = TextSelection(guid=g(21), start=2, end=6, codings=(coding,), creating_user=g(1))
    source = TextSource(
        guid=g(20),
        name="Interview",
        text=TEXT,
        selections=(selection,),
        variable_values=(VariableValue(variable=g(40), kind=ValueKind.INTEGER, value="3"),),
    )
    transcript = Transcript(
        guid=g(51),
        text="hello there",
        text_inline=True,
        sync_points=(SyncPoint(guid=g(52), time_stamp=0, position=0), SyncPoint(guid=g(53), position=5)),
        selections=(TranscriptSelection(guid=g(54), from_sync_point=g(52), to_sync_point=g(53)),),
    )
    audio = AudioSource(
        guid=g(50),
        path="relative://talk.m4a",
        transcripts=(transcript,),
        selections=(AudioSelection(guid=g(55), begin=0, end=900),),
    )
    return Project(
        name="Sound",
        creating_user=g(1),
        users=(User(guid=g(1), name="Ana"),),
        codes=(
            Code(
                guid=g(10),
                name="Feelings",
                is_codable=False,
                children=(Code(guid=g(11), name="Joy"),),
            ),
            Code(guid=g(12), name="Place", note_refs=(g(60),)),
        ),
        variables=(Variable(guid=g(40), name="Age", type=VariableType.INTEGER),),
        cases=(Case(guid=g(70), code_refs=(g(11),), source_refs=(g(20),), selection_refs=(g(21),)),),
        sources=(source, audio),
        notes=(TextSource(guid=g(60), name="Memo", text="think", text_inline=True),),
        links=(Link(guid=g(80), origin=g(11), target=g(20)),),
        sets=(Set(guid=g(81), name="S", member_codes=(g(12),), member_sources=(g(20),), member_notes=(g(60),)),),
        graphs=(
            Graph(
                guid=g(90),
                vertices=(
                    Vertex(guid=g(91), first_x=0, first_y=0, represented=g(11)),
                    Vertex(guid=g(92), first_x=1, first_y=1),
                ),
                edges=(Edge(guid=g(93), source_vertex=g(91), target_vertex=g(92)),),
            ),
        ),
        note_refs=(g(60),),
    )


LOST_VALUE = VariableValue(variable=g(998))


def _lost_vertex(project: Project) -> tuple[Vertex, ...]:
    first, second = project.graphs[0].vertices
    return (replace(first, represented=g(998)), second)


def codes_of(issues: list[Issue]) -> list[str]:
    return [issue.code for issue in issues]


def with_text_source(project: Project, **changes: object) -> Project:
    source = project.sources[0]
    assert isinstance(source, TextSource)
    return replace(project, sources=(replace(source, **changes), *project.sources[1:]))


def with_selection(project: Project, **changes: object) -> Project:
    source = project.sources[0]
    assert isinstance(source, TextSource)
    return with_text_source(project, selections=(replace(source.selections[0], **changes),))


# --------------------------------------------------------------------------- integrity rules


def test_sound_project_has_no_issues() -> None:
    assert validate(sound_project()) == []


def test_validate_does_not_change_its_input() -> None:
    project = with_selection(sound_project(), start=9, end=3)
    before = copy.deepcopy(project)
    validate(project)
    assert project == before


def test_dangling_code_ref_in_coding_is_located_by_path() -> None:
    coding = Coding(guid=g(30), code=g(999))
    project = with_selection(sound_project(), codings=(coding,))
    issues = validate(project)
    assert codes_of(issues) == ["QDX101"]
    assert issues[0].severity is Severity.ERROR
    assert issues[0].location == "/Project/Sources/TextSource[1]/PlainTextSelection[1]/Coding[1]"
    assert str(g(999)) in issues[0].message


def test_location_prefers_the_records_loc() -> None:
    coding = Coding(guid=g(30), code=g(999), loc="project.qde:412")
    issues = validate(with_selection(sound_project(), codings=(coding,)))
    assert [i.location for i in issues] == ["project.qde:412"]


def test_code_ref_to_a_source_names_the_wrong_kind() -> None:
    coding = Coding(guid=g(30), code=g(20))  # the TextSource's GUID
    issues = validate(with_selection(sound_project(), codings=(coding,)))
    assert codes_of(issues) == ["QDX101"]
    assert "names a source, not a code" in issues[0].message


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda p: replace(p, cases=(replace(p.cases[0], code_refs=(g(998),)),)), "QDX101"),
        (lambda p: replace(p, sets=(replace(p.sets[0], member_codes=(g(998),)),)), "QDX101"),
        (lambda p: replace(p, note_refs=(g(998),)), "QDX102"),
        (lambda p: replace(p, sets=(replace(p.sets[0], member_notes=(g(998),)),)), "QDX102"),
        (lambda p: replace(p, codes=(p.codes[0], replace(p.codes[1], note_refs=(g(998),)))), "QDX102"),
        (lambda p: replace(p, cases=(replace(p.cases[0], source_refs=(g(998),)),)), "QDX103"),
        (lambda p: replace(p, sets=(replace(p.sets[0], member_sources=(g(998),)),)), "QDX103"),
        (lambda p: replace(p, cases=(replace(p.cases[0], selection_refs=(g(998),)),)), "QDX104"),
        (lambda p: replace(p, cases=(replace(p.cases[0], variable_values=(LOST_VALUE,)),)), "QDX105"),
        (lambda p: replace(p, creating_user=g(998)), "QDX106"),
        (lambda p: replace(p, modifying_user=g(998)), "QDX106"),
        (lambda p: with_selection(p, modifying_user=g(998)), "QDX106"),
        (lambda p: with_selection(p, codings=(Coding(guid=g(30), code=g(11), creating_user=g(998)),)), "QDX106"),
        (lambda p: replace(p, links=(replace(p.links[0], target=g(998)),)), "QDX108"),
        (lambda p: replace(p, graphs=(replace(p.graphs[0], vertices=_lost_vertex(p)),)), "QDX109"),
    ],
)
def test_each_dangling_reference_kind(change: object, code: str) -> None:
    project = change(sound_project())  # type: ignore[operator]
    issues = validate(project)
    assert codes_of(issues) == [code]
    assert has_errors(issues)


def test_edge_end_must_be_a_vertex_of_its_own_graph() -> None:
    project = sound_project()
    other = Graph(guid=g(94), vertices=(Vertex(guid=g(95), first_x=0, first_y=0),))
    graph = replace(project.graphs[0], edges=(Edge(guid=g(93), source_vertex=g(95), target_vertex=g(92)),))
    issues = validate(replace(project, graphs=(graph, other)))
    assert codes_of(issues) == ["QDX109"]
    assert "sourceVertex" in issues[0].message


def test_transcript_selection_sync_points_must_be_its_own() -> None:
    project = sound_project()
    audio = project.sources[1]
    assert isinstance(audio, AudioSource)
    transcript = audio.transcripts[0]
    foreign = TranscriptSelection(guid=g(54), from_sync_point=g(52), to_sync_point=g(30))  # a coding's GUID
    changed = replace(audio, transcripts=(replace(transcript, selections=(foreign,)),))
    issues = validate(replace(project, sources=(project.sources[0], changed)))
    assert codes_of(issues) == ["QDX107"]
    assert issues[0].location == "/Project/Sources/AudioSource[1]/Transcript[1]/TranscriptSelection[1]"


def test_sync_points_out_of_order() -> None:
    project = sound_project()
    audio = project.sources[1]
    assert isinstance(audio, AudioSource)
    backwards = TranscriptSelection(guid=g(54), from_sync_point=g(53), to_sync_point=g(52))
    changed = replace(audio, transcripts=(replace(audio.transcripts[0], selections=(backwards,)),))
    assert codes_of(validate(replace(project, sources=(project.sources[0], changed)))) == ["QDX111"]


def test_duplicate_guid_matches_case_and_braces() -> None:
    project = sound_project()
    twin = Code(guid=Guid("{" + str(g(11)).upper() + "}"), name="Joy again")
    issues = validate(replace(project, codes=(*project.codes, twin)))
    assert codes_of(issues) == ["QDX110"]
    assert issues[0].location == "/Project/CodeBook/Codes/Code[3]"
    assert "/Project/CodeBook/Codes/Code[1]/Code[1]" in issues[0].message


def test_start_after_end() -> None:
    issues = validate(with_selection(sound_project(), start=9, end=3))
    assert codes_of(issues) == ["QDX111"]


@pytest.mark.parametrize(
    ("start", "end", "codes"), [(0, 18, []), (0, 19, ["QDX112"]), (-1, 4, ["QDX112"]), (18, 18, [])]
)
def test_positions_within_the_text(start: int, end: int, codes: list[str]) -> None:
    # TEXT has 18 code points and ends are exclusive (model convention), so 0..18 is the whole.
    assert codes_of(validate(with_selection(sound_project(), start=start, end=end))) == codes


def test_positions_count_code_points_not_utf16_units() -> None:
    project = with_text_source(sound_project(), text="😀😀ab")  # 4 code points, 6 UTF-16 units
    assert codes_of(validate(with_selection(project, start=0, end=4))) == []
    assert codes_of(validate(with_selection(project, start=0, end=5))) == ["QDX112"]


def test_positions_unchecked_without_text() -> None:
    project = with_text_source(sound_project(), text=None)
    assert validate(with_selection(project, start=0, end=500)) == []


def test_media_selection_begin_after_end() -> None:
    project = sound_project()
    audio = project.sources[1]
    assert isinstance(audio, AudioSource)
    changed = replace(audio, selections=(AudioSelection(guid=g(55), begin=900, end=10),))
    assert codes_of(validate(replace(project, sources=(project.sources[0], changed)))) == ["QDX111"]


def test_sync_point_outside_transcript() -> None:
    project = sound_project()
    audio = project.sources[1]
    assert isinstance(audio, AudioSource)
    points = (SyncPoint(guid=g(52), position=0), SyncPoint(guid=g(53), position=12))  # text has 11
    changed = replace(audio, transcripts=(replace(audio.transcripts[0], sync_points=points),))
    assert codes_of(validate(replace(project, sources=(project.sources[0], changed)))) == ["QDX112"]


def test_missing_internal_file_is_an_error_in_a_package() -> None:
    project = with_text_source(sound_project(), text=None, plain_text_path=f"internal://{g(20)}.txt")
    project.provenance = Provenance(fmt="qdpx")
    issues = validate(project)
    assert codes_of(issues) == ["QDX113"]
    assert issues[0].severity is Severity.ERROR


def test_missing_internal_file_is_a_warning_in_a_bare_qde() -> None:
    project = with_text_source(sound_project(), text=None, plain_text_path=f"internal://{g(20)}.txt")
    project.provenance = Provenance(fmt="qde")
    issues = validate(project)
    assert codes_of(issues) == ["QDX113"]
    assert issues[0].severity is Severity.WARNING
    assert not has_errors(issues)


def test_external_files_are_not_reported_missing() -> None:
    project = with_text_source(sound_project(), text=None, plain_text_path="relative://talk.txt")
    assert validate(project) == []


def test_missing_embedded_file_of_a_media_source() -> None:
    project = sound_project()
    audio = replace(project.sources[1], path=f"internal://{g(50)}.m4a")
    assert codes_of(validate(replace(project, sources=(project.sources[0], audio)))) == ["QDX113"]


def test_coding_on_a_folder_code_is_a_warning() -> None:
    project = with_selection(sound_project(), codings=(Coding(guid=g(30), code=g(10)),))
    issues = validate(project)
    assert codes_of(issues) == ["QDX114"]
    assert issues[0].severity is Severity.WARNING


def test_value_kind_must_match_variable_type() -> None:
    value = VariableValue(variable=g(40), kind=ValueKind.TEXT, value="three")
    issues = validate(with_text_source(sound_project(), variable_values=(value,)))
    assert codes_of(issues) == ["QDX115"]


def test_codebook_set_members_are_checked() -> None:
    book = Project(
        is_codebook=True,
        codes=(Code(guid=g(1), name="A"),),
        sets=(Set(guid=g(2), name="S", member_codes=(g(1), g(3))),),
    )
    issues = validate(book)
    assert codes_of(issues) == ["QDX101"]
    assert issues[0].location == "/CodeBook/Sets/Set[1]"


# --------------------------------------------------------------------------- files

P_NS = "urn:QDA-XML:project:1.0"


def project_xml(body: str = "", text_attrs: str = "", text_children: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Project xmlns="{P_NS}" name="T">
  <CodeBook><Codes><Code guid="{g(11)}" name="Joy" isCodable="true"/></Codes></CodeBook>
  <Sources>
    <TextSource guid="{g(20)}" name="S" {text_attrs}>{text_children}
      <PlainTextSelection guid="{g(21)}" startPosition="2" endPosition="6">
        <Coding guid="{g(30)}"><CodeRef targetGUID="{g(11)}"/></Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>{body}
</Project>
"""


def write_qdpx(path: Path, qde: str, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", qde)
        for name, data in files.items():
            archive.writestr(f"sources/{name}", data)
    return path


def test_valid_package(tmp_path: Path) -> None:
    qde = project_xml(text_attrs=f'plainTextPath="internal://{g(20)}.txt"')
    path = write_qdpx(tmp_path / "ok.qdpx", qde, {f"{g(20)}.txt": TEXT.encode()})
    assert validate_file(path) == []


def test_package_missing_text_file_reported_once(tmp_path: Path) -> None:
    qde = project_xml(text_attrs=f'plainTextPath="internal://{g(20)}.txt"')
    issues = validate_file(write_qdpx(tmp_path / "gone.qdpx", qde, {}))
    assert codes_of(issues) == ["QDX113"]
    assert issues[0].severity is Severity.ERROR
    assert issues[0].location == "project.qde:5"


def test_dangling_reference_in_file_is_located_by_line(tmp_path: Path) -> None:
    qde = project_xml(text_children="<PlainTextContent>I love this place.</PlainTextContent>").replace(
        f'<CodeRef targetGUID="{g(11)}"/>', f'<CodeRef targetGUID="{g(12)}"/>'
    )
    path = tmp_path / "p.qde"
    path.write_text(qde, encoding="utf-8")
    issues = validate_file(path)
    assert codes_of(issues) == ["QDX101"]
    assert issues[0].location == "p.qde:7"  # the <Coding> line


def test_plain_text_content_with_path_is_flagged_at_xml_level(tmp_path: Path) -> None:
    qde = project_xml(
        text_attrs=f'plainTextPath="internal://{g(20)}.txt"',
        text_children="<PlainTextContent>I love this place.</PlainTextContent>",
    )
    path = write_qdpx(tmp_path / "both.qdpx", qde, {f"{g(20)}.txt": TEXT.encode()})
    issues = validate_file(path)
    assert "QDX056" in codes_of(issues)
    assert not [i for i in issues if i.code.startswith("QDX05") and i.code != "QDX056"]  # schema-valid
    flagged = next(i for i in issues if i.code == "QDX056")
    assert flagged.location == "project.qde:5" and "/Project/Sources/TextSource" in flagged.message


def test_schema_errors_are_located(tmp_path: Path) -> None:
    qde = project_xml(text_children="<PlainTextContent>x</PlainTextContent>").replace(
        'isCodable="true"', 'isCodable="True" color="#FF000080"'
    )
    path = tmp_path / "bad.qde"
    path.write_text(qde, encoding="utf-8")
    schema = [i for i in validate_file(path) if i.code == "QDX055"]
    assert len(schema) == 2
    assert {i.location for i in schema} == {"bad.qde:3"}
    assert all("/Project/CodeBook/Codes/Code" in i.message for i in schema)
    assert any("colour" in i.message for i in schema) and any("isCodable" in i.message for i in schema)


def test_known_namespace_variant_is_an_error_not_a_crash(tmp_path: Path) -> None:
    qdc = f"""<CodeBook xmlns="urn:QDA-XML:codebook:0:4" origin="ATLAS.ti">
  <Codes><Code guid="{g(1)}" name="A" isCodable="True"/></Codes>
  <Sets/>
</CodeBook>"""
    path = tmp_path / "atlas.qdc"
    path.write_text(qdc, encoding="utf-8")
    issues = validate_file(path)
    first = issues[0]
    assert (first.code, first.location) == ("QDX051", "atlas.qdc:1")
    assert "urn:QDA-XML:codebook:0:4" in first.message and "urn:QDA-XML:codebook:1.0" in first.message
    # The rest of the file is still checked as if the namespace were right.
    located = {(i.code, i.location) for i in issues}
    assert ("QDX055", "atlas.qdc:2") in located and ("QDX055", "atlas.qdc:3") in located


def test_not_well_formed(tmp_path: Path) -> None:
    path = tmp_path / "broken.qde"
    path.write_text(f'<Project xmlns="{P_NS}" name="x">\n<Users>\n</Project>', encoding="utf-8")
    issues = validate_file(path)
    assert codes_of(issues) == ["QDX050"]
    assert issues[0].location == "broken.qde:3"


def test_unknown_root(tmp_path: Path) -> None:
    path = tmp_path / "x.qde"
    path.write_text('<Other xmlns="urn:x"/>', encoding="utf-8")
    assert codes_of(validate_file(path))[0] == "QDX052"


def test_package_without_qde(tmp_path: Path) -> None:
    path = tmp_path / "empty.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("sources/a.txt", "x")
    assert codes_of(validate_file(path)) == ["QDX053"]


def test_user_schema(tmp_path: Path) -> None:
    xsd = tmp_path / "strict.xsd"
    xsd.write_text(
        f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{P_NS}"
        elementFormDefault="qualified"><xs:element name="Project"><xs:complexType>
        <xs:attribute name="name" type="xs:string" fixed="Other"/></xs:complexType></xs:element></xs:schema>""",
        encoding="utf-8",
    )
    path = tmp_path / "p.qde"
    path.write_text(f'<Project xmlns="{P_NS}" name="T"/>', encoding="utf-8")
    issues = validate_file(path, xsd=xsd)
    assert codes_of(issues) == ["QDX055"]
    assert "fixed" in issues[0].message or "Other" in issues[0].message


def test_user_schema_must_be_a_schema(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xsd"
    bad.write_text("<notaschema/>", encoding="utf-8")
    path = tmp_path / "p.qde"
    path.write_text(f'<Project xmlns="{P_NS}" name="T"/>', encoding="utf-8")
    with pytest.raises(UsageError):
        validate_file(path, xsd=bad)


def test_invalid_sample_gives_located_schema_errors() -> None:
    sample = need_shared(REFI_SAMPLES / "tool-generated-paper_themes" / "project_with_generated_codes.qde")
    issues = validate_file(sample)
    schema = [i for i in issues if i.code == "QDX055"]
    assert len(schema) == 1
    assert schema[0].location == "project_with_generated_codes.qde:6"
    assert "urn:QDA-XML:codebook:0:4" in schema[0].message and "(at /Project/CodeBook)" in schema[0].message


def test_spec_example_duplicate_guids() -> None:
    """STANDARD.md quirk 13: ATLAS.ti 8.4's example reuses 2 GUIDs (PDFSelection + its text)."""
    sample = need_shared(REFI_SAMPLES / "atlasti-8.4-refi-standard-example" / "Project.qde")
    duplicates = [i for i in validate_file(sample) if i.code == "QDX110"]
    assert len(duplicates) == 2


@pytest.mark.parametrize("sample", refi_sample_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_sample_validates_without_crashing(sample: Path) -> None:
    issues = validate_file(sample)
    schema_invalid = any(i.code in {"QDX051", "QDX055"} for i in issues)
    # STANDARD.md §7: only the paper_themes file is schema-invalid.
    assert schema_invalid is (sample.name == "project_with_generated_codes.qde")


# --------------------------------------------------------------------------- command line


def test_cli_json_and_exit_status(tmp_path: Path) -> None:
    qde = project_xml(text_children="<PlainTextContent>I love this place.</PlainTextContent>")
    good = tmp_path / "good.qde"
    good.write_text(qde, encoding="utf-8")
    bad = tmp_path / "bad.qde"
    bad.write_text(qde.replace('endPosition="6"', 'endPosition="60"'), encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(validate_command, [str(good), "--json"])
    assert ok.exit_code == 0 and json.loads(ok.output) == {"valid": True, "issues": []}
    failed = runner.invoke(validate_command, [str(bad), "--json"])
    assert failed.exit_code == 1
    data = json.loads(failed.output)
    assert data["valid"] is False
    assert data["issues"] == [
        {
            "code": "QDX112",
            "severity": "error",
            "message": "position 2..60 lies outside the text (0..18)",
            "location": "bad.qde:6",
        }
    ]


def test_cli_text_output_and_warnings_only_pass(tmp_path: Path) -> None:
    qde = project_xml(text_attrs=f'plainTextPath="internal://{g(20)}.txt"')
    path = tmp_path / "bare.qde"
    path.write_text(qde, encoding="utf-8")
    result = CliRunner().invoke(validate_command, [str(path)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("bare.qde:5: warning QDX113 ")
    assert lines[-1] == f"{path}: valid (1 warning)"


def test_cli_invalid_sample_has_no_traceback() -> None:
    sample = need_shared(REFI_SAMPLES / "tool-generated-paper_themes" / "project_with_generated_codes.qde")
    result = CliRunner().invoke(validate_command, [str(sample)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "project_with_generated_codes.qde:6: error QDX055" in result.output
    assert "INVALID" in result.output.splitlines()[-1]


def test_cli_usage_errors(tmp_path: Path) -> None:
    path = tmp_path / "p.qde"
    path.write_text(f'<Project xmlns="{P_NS}" name="T"/>', encoding="utf-8")
    bad = tmp_path / "bad.xsd"
    bad.write_text("<x/>", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(validate_command, [str(path), "--xsd", str(bad)]).exit_code == 2
    missing = runner.invoke(validate_command, [str(tmp_path / "nope.qde")])
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_xmlschema_engine_diagnostics_point_at_the_offending_child(tmp_path: Path) -> None:
    """The fallback engine (used for user schemas libxml2 cannot compile) locates issues too."""
    import xmlschema

    from qdx.validation.document import parse_document
    from qdx.validation.schema import check_document, schema_file

    text = f'<Project xmlns="{P_NS}" name="T">\n<Sources/>\n<Users><User guid="{g(1)}"/></Users>\n</Project>'
    doc = parse_document(text.encode(), label="x.qde")
    issues = check_document(doc, label="x.qde", schema=xmlschema.XMLSchema(str(schema_file("project"))))
    assert issues and all(i.code == "QDX055" for i in issues)
    assert issues[0].location == "x.qde:2" and "(at /Project/Sources)" in issues[0].message


def test_codebook_messages_speak_of_the_codebook(tmp_path: Path) -> None:
    path = tmp_path / "cb.qdc"
    path.write_text(
        f"""<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="{g(1)}" name="A" isCodable="true"/></Codes>
<Sets><Set guid="{g(2)}" name="S"><MemberCode guid="{g(3)}"/></Set></Sets></CodeBook>""",
        encoding="utf-8",
    )
    issues = validate_file(path)
    assert codes_of(issues) == ["QDX101"]
    assert issues[0].location == "cb.qdc:2" and issues[0].message.endswith("names no code in the codebook")


@pytest.mark.parametrize("name", ["empty.qde", "empty.qdpx", "empty.qdc"])
def test_empty_file_is_invalid(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    issues = validate_file(path)
    assert codes_of(issues) == ["QDX050"]
    assert has_errors(issues)


def test_dtd_is_refused_as_an_issue(tmp_path: Path) -> None:
    path = tmp_path / "xxe.qde"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        f'<Project xmlns="{P_NS}" name="&x;"/>',
        encoding="utf-8",
    )
    issues = validate_file(path)
    assert codes_of(issues) == ["QDX050"]
    assert "DTD" in issues[0].message


def test_reader_notes_repeating_a_schema_violation_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "noname.qde"
    path.write_text(f'<Project xmlns="{P_NS}"/>', encoding="utf-8")
    issues = validate_file(path)
    # The reader also notes the missing name (QDX006); the schema violation says it already.
    assert codes_of(issues) == ["QDX055"]
    assert "'name' is required" in issues[0].message


def test_top_level_api_exports_validate() -> None:
    import qdx

    assert qdx.validate(sound_project()) == []


def test_validate_file_names_each_step_as_it_starts(tmp_path: Path) -> None:
    from qdx.validation.document import STEPS

    study = Path(__file__).parent.parent / "fixtures" / "wechat-moments" / "project.qdpx"
    seen: list[str] = []
    assert validate_file(study, progress=seen.append) == validate_file(study)
    assert seen == list(STEPS)
    other = tmp_path / "other.qde"
    other.write_bytes(b"<Other/>")  # no REFI root: no model is read, so no integrity step
    seen.clear()
    validate_file(other, progress=seen.append)
    assert seen == list(STEPS[:2])
