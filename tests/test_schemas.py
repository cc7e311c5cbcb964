"""qdx's own XSDs (schemas/) must give the same verdict as the official REFI-QDA 1.0 XSDs.

The official schemas are the oracle (read from ../shared, never copied; the tests skip when it
is absent). Compared documents: every sample project, every sample re-written by qdx, and
documents mutated by this file from small valid documents written here. For the mutations the
expected verdict is also stated by hand from STANDARD.md §2-4 and §7, so a bug shared by both
schemas' reading would still be caught.
"""

from __future__ import annotations

import copy
import io
import re
import warnings
import zipfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from qdx.errors import LossyConversionWarning
from qdx.validation.schema import compiled, schema_file
from tests.conftest import REFI_SCHEMA, need_shared, refi_sample_files

P = "urn:QDA-XML:project:1.0"
C = "urn:QDA-XML:codebook:1.0"
NS = {"p": P, "c": C}
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def g(n: int) -> str:
    """A distinct valid GUID per number."""
    return f"6f1c2a3b-0000-4000-8000-{n:012d}"


# --------------------------------------------------------------------------- base documents

BASE_PROJECT = f"""<?xml version="1.0" encoding="UTF-8"?>
<Project xmlns="{P}" name="Base" origin="qdx tests" creatingUserGUID="{g(1)}"
         creationDateTime="2024-05-01T10:00:00Z" basePath="absolute:///data">
  <Users><User guid="{g(1)}" name="Ana" id="ana"/><User guid="{g(2)}" name="Ben"/></Users>
  <CodeBook><Codes>
    <Code guid="{g(10)}" name="Feelings" isCodable="false" color="#336699">
      <Description>folder</Description>
      <NoteRef targetGUID="{g(90)}"/>
      <Code guid="{g(11)}" name="Joy" isCodable="true" color="#FC0"/>
    </Code>
    <Code guid="{g(12)}" name="Place" isCodable="true"/>
  </Codes></CodeBook>
  <Variables><Variable guid="{g(20)}" name="Age" typeOfVariable="Integer"><Description>years</Description></Variable>
    <Variable guid="{g(21)}" name="Score" typeOfVariable="Float"/></Variables>
  <Cases><Case guid="{g(30)}" name="P1"><Description>first</Description>
    <CodeRef targetGUID="{g(11)}"/>
    <VariableValue><VariableRef targetGUID="{g(20)}"/><IntegerValue>41</IntegerValue></VariableValue>
    <VariableValue><VariableRef targetGUID="{g(21)}"/><FloatValue>2.5</FloatValue></VariableValue>
    <SourceRef targetGUID="{g(40)}"/><SelectionRef targetGUID="{g(41)}"/></Case></Cases>
  <Sources>
    <TextSource guid="{g(40)}" name="Interview" plainTextPath="internal://{g(40)}.txt"
                creatingUser="{g(1)}" creationDateTime="2024-05-01T10:00:00Z">
      <Description>an interview</Description>
      <PlainTextSelection guid="{g(41)}" name="s1" startPosition="0" endPosition="5" creatingUser="{g(1)}">
        <Description>memo</Description>
        <Coding guid="{g(42)}" creatingUser="{g(1)}" creationDateTime="2024-05-01T10:00:00Z">
          <CodeRef targetGUID="{g(11)}"/><NoteRef targetGUID="{g(90)}"/></Coding>
        <NoteRef targetGUID="{g(90)}"/>
      </PlainTextSelection>
      <Coding guid="{g(43)}"><CodeRef targetGUID="{g(12)}"/></Coding>
      <NoteRef targetGUID="{g(90)}"/>
      <VariableValue><VariableRef targetGUID="{g(20)}"/><IntegerValue>3</IntegerValue></VariableValue>
    </TextSource>
    <PictureSource guid="{g(50)}" name="Photo" path="internal://{g(50)}.jpg">
      <TextDescription guid="{g(51)}"><PlainTextContent>a photo</PlainTextContent></TextDescription>
      <PictureSelection guid="{g(52)}" firstX="1" firstY="2" secondX="30" secondY="40">
        <Coding guid="{g(53)}"><CodeRef targetGUID="{g(12)}"/></Coding></PictureSelection>
    </PictureSource>
    <PDFSource guid="{g(60)}" name="Paper" path="internal://{g(60)}.pdf">
      <PDFSelection guid="{g(61)}" page="1" firstX="0" firstY="0" secondX="10" secondY="10">
        <Representation guid="{g(62)}" plainTextPath="internal://{g(62)}.txt"/>
        <Coding guid="{g(63)}"><CodeRef targetGUID="{g(12)}"/></Coding></PDFSelection>
      <Representation guid="{g(64)}" plainTextPath="internal://{g(64)}.txt">
        <PlainTextSelection guid="{g(65)}" startPosition="2" endPosition="4"/></Representation>
    </PDFSource>
    <AudioSource guid="{g(70)}" name="Talk" path="relative://talk.m4a">
      <Transcript guid="{g(71)}" name="Talk transcript">
        <PlainTextContent>hello there</PlainTextContent>
        <SyncPoint guid="{g(72)}" timeStamp="0" position="0"/>
        <SyncPoint guid="{g(73)}" timeStamp="900" position="5"/>
        <TranscriptSelection guid="{g(74)}" fromSyncPoint="{g(72)}" toSyncPoint="{g(73)}">
          <Coding guid="{g(75)}"><CodeRef targetGUID="{g(11)}"/></Coding></TranscriptSelection>
      </Transcript>
      <AudioSelection guid="{g(76)}" begin="0" end="900"/>
    </AudioSource>
    <VideoSource guid="{g(80)}" path="absolute:///v.mp4">
      <VideoSelection guid="{g(81)}" begin="10" end="20"/>
    </VideoSource>
  </Sources>
  <Notes><Note guid="{g(90)}" name="Memo"><PlainTextContent>think</PlainTextContent></Note></Notes>
  <Links><Link guid="{g(91)}" name="causes" direction="OneWay" color="#000000"
               originGUID="{g(11)}" targetGUID="{g(12)}"><NoteRef targetGUID="{g(90)}"/></Link></Links>
  <Sets><Set guid="{g(92)}" name="Group"><Description>grp</Description>
    <MemberCode targetGUID="{g(11)}"/><MemberSource targetGUID="{g(40)}"/>
    <MemberNote targetGUID="{g(90)}"/></Set></Sets>
  <Graphs><Graph guid="{g(93)}" name="Map">
    <Vertex guid="{g(94)}" representedGUID="{g(11)}" firstX="0" firstY="0" secondX="5" secondY="5"
            shape="Oval" color="#fff"/>
    <Vertex guid="{g(95)}" firstX="9" firstY="9"/>
    <Edge guid="{g(96)}" sourceVertex="{g(94)}" targetVertex="{g(95)}" direction="Associative"
          lineStyle="dashed"/></Graph></Graphs>
  <Description>the project</Description>
  <NoteRef targetGUID="{g(90)}"/>
</Project>
"""

BASE_CODEBOOK = f"""<?xml version="1.0" encoding="UTF-8"?>
<CodeBook xmlns="{C}" origin="qdx tests">
  <Codes>
    <Code guid="{g(10)}" name="Topics" isCodable="false"><Description>folder</Description>
      <Code guid="{g(11)}" name="Food" isCodable="true" color="#ffff00"/></Code>
    <Code guid="{g(12)}" name="Values" isCodable="0"/>
  </Codes>
  <Sets><Set guid="{g(20)}" name="S"><Description>d</Description><MemberCode guid="{g(11)}"/></Set></Sets>
</CodeBook>
"""

Mutation = Callable[[etree._Element], None]


def _one(root: etree._Element, path: str) -> etree._Element:
    found = root.xpath(path, namespaces=NS)
    assert isinstance(found, list) and found, path
    elem = found[0]
    assert isinstance(elem, etree._Element)
    return elem


def set_attr(path: str, name: str, value: str) -> Mutation:
    return lambda root: _one(root, path).set(name, value)


def drop_attr(path: str, name: str) -> Mutation:
    return lambda root: _one(root, path).attrib.pop(name)


def empty(path: str) -> Mutation:
    def apply(root: etree._Element) -> None:
        elem = _one(root, path)
        for child in list(elem):
            elem.remove(child)

    return apply


def remove(path: str) -> Mutation:
    def apply(root: etree._Element) -> None:
        elem = _one(root, path)
        parent = elem.getparent()
        assert parent is not None
        parent.remove(elem)

    return apply


def move_after(path: str, anchor: str) -> Mutation:
    """Move the element at ``path`` to just after ``anchor`` (breaking schema order)."""

    def apply(root: etree._Element) -> None:
        elem, target = _one(root, path), _one(root, anchor)
        target.addnext(elem)

    return apply


def set_text(path: str, text: str) -> Mutation:
    def apply(root: etree._Element) -> None:
        _one(root, path).text = text

    return apply


def add_child(path: str, xml: str, index: int | None = None) -> Mutation:
    def apply(root: etree._Element) -> None:
        parent = _one(root, path)
        child = etree.fromstring(xml)
        parent.append(child) if index is None else parent.insert(index, child)

    return apply


def rename_ns(namespace: str | None) -> Mutation:
    def apply(root: etree._Element) -> None:
        for elem in root.iter():
            local = etree.QName(elem).localname
            elem.tag = local if namespace is None else f"{{{namespace}}}{local}"
        etree.cleanup_namespaces(root)

    return apply


def chain(*steps: Mutation) -> Mutation:
    def apply(root: etree._Element) -> None:
        for step in steps:
            step(root)

    return apply


CODE = "//p:Code[@name='Joy']"
SEL = "//p:PlainTextSelection[@name='s1']"
VV = "//p:Case/p:VariableValue[2]"
CODING = f"//p:Coding[@guid='{g(43)}']"
PV = f'xmlns="{P}"'

# (id, mutation, expected verdict) — expectations from STANDARD.md §2-4, §7.
PROJECT_CASES: list[tuple[str, Mutation, bool]] = [
    ("missing-project-name", drop_attr("/p:Project", "name"), False),
    ("bad-guid-word", set_attr(CODE, "guid", "c-joy"), False),
    ("bad-guid-short", set_attr(CODE, "guid", "6f1c2a3b-0000-4000-8000-00000000011"), False),
    ("bad-guid-half-brace", set_attr(CODE, "guid", "{" + g(11)), False),
    ("bad-guid-nonhex", set_attr(CODE, "guid", g(11).replace("6f", "6g")), False),
    ("colour-rgba", set_attr(CODE, "color", "#FF000080"), False),
    ("colour-no-hash", set_attr(CODE, "color", "FF0000"), False),
    ("colour-4-digits", set_attr(CODE, "color", "#FF00"), False),
    ("colour-name", set_attr(CODE, "color", "red"), False),
    ("iscodable-True", set_attr(CODE, "isCodable", "True"), False),
    ("iscodable-missing", drop_attr(CODE, "isCodable"), False),
    ("code-name-missing", drop_attr(CODE, "name"), False),
    ("users-after-codebook", move_after("/p:Project/p:Users", "/p:Project/p:CodeBook"), False),
    ("description-before-graphs", move_after("/p:Project/p:Description", "/p:Project/p:Sets"), False),
    ("plaintextcontent-after-syncpoint", move_after("//p:Transcript/p:PlainTextContent", "//p:SyncPoint[2]"), False),
    ("selection-coding-before-description", move_after(SEL + "/p:Description", SEL + "/p:Coding"), False),
    ("code-noteref-after-child", move_after("//p:Code[@name='Feelings']/p:NoteRef", CODE), False),
    ("case-value-before-coderef", move_after("//p:Case/p:CodeRef", VV), False),
    ("graph-edge-before-vertex", move_after("//p:Vertex[2]", "//p:Edge"), False),
    ("empty-codes", empty("//p:Codes"), False),
    ("empty-sets", empty("/p:Project/p:Sets"), False),
    ("empty-sources", empty("/p:Project/p:Sources"), False),
    ("empty-users", empty("/p:Project/p:Users"), False),
    ("empty-notes", empty("/p:Project/p:Notes"), False),
    ("empty-graphs", empty("/p:Project/p:Graphs"), False),
    ("empty-codebook", empty("/p:Project/p:CodeBook"), False),
    ("variable-type-String", set_attr("//p:Variable", "typeOfVariable", "String"), False),
    ("variable-type-missing", drop_attr("//p:Variable", "typeOfVariable"), False),
    ("link-direction-Both", set_attr("//p:Link", "direction", "Both"), False),
    ("vertex-shape-Circle", set_attr("//p:Vertex", "shape", "Circle"), False),
    ("edge-linestyle-Solid", set_attr("//p:Edge", "lineStyle", "Solid"), False),
    ("float-empty", set_text(VV + "/p:FloatValue", ""), False),
    ("float-exponent", set_text(VV + "/p:FloatValue", "1e3"), False),
    ("float-nan", set_text(VV + "/p:FloatValue", "NaN"), False),
    ("integer-fraction", set_text("//p:Case/p:VariableValue[1]/p:IntegerValue", "1.5"), False),
    ("two-values", add_child(VV, f"<TextValue {PV}>x</TextValue>"), False),
    ("value-without-ref", remove(VV + "/p:VariableRef"), False),
    ("boolean-yes", add_child(VV, f"<BooleanValue {PV}>yes</BooleanValue>", 1), False),
    (
        "date-month-13",
        chain(remove(VV + "/p:FloatValue"), add_child(VV, f"<DateValue {PV}>2020-13-01</DateValue>")),
        False,
    ),
    ("datetime-date-only", set_attr("/p:Project", "creationDateTime", "2024-05-01"), False),
    ("coding-without-coderef", remove(f"{CODING}/p:CodeRef"), False),
    (
        "coding-two-coderefs",
        add_child(CODING, f'<CodeRef {PV} targetGUID="{g(11)}"/>', 0),
        False,
    ),
    ("coding-modifying-user", set_attr(CODING, "modifyingUser", g(1)), False),
    ("selection-no-end", drop_attr(SEL, "endPosition"), False),
    ("selection-start-word", set_attr(SEL, "startPosition", "abc"), False),
    ("pdf-selection-no-page", drop_attr("//p:PDFSelection", "page"), False),
    ("picture-selection-no-secondY", drop_attr("//p:PictureSelection", "secondY"), False),
    ("vertex-no-firstX", drop_attr("//p:Vertex", "firstX"), False),
    ("edge-no-source", drop_attr("//p:Edge", "sourceVertex"), False),
    ("syncpoint-fraction", set_attr("//p:SyncPoint", "timeStamp", "1.5"), False),
    ("namespace-0-10", rename_ns("urn:QDA-XML:project:0:10"), False),
    ("namespace-1-0-colon", rename_ns("urn:QDA-XML:project:1:0"), False),
    ("no-namespace", rename_ns(None), False),
    ("unknown-element", add_child("/p:Project", f"<Foo {PV}/>"), False),
    ("unknown-attribute", set_attr(CODE, "parent", g(10)), False),
    ("note-in-sources", add_child("/p:Project/p:Sources", f'<Note {PV} guid="{g(99)}"/>'), False),
    ("set-member-with-guid", set_attr("//p:MemberCode", "guid", g(11)), False),
    (
        "set-member-guid-only",
        chain(set_attr("//p:MemberCode", "guid", g(11)), drop_attr("//p:MemberCode", "targetGUID")),
        False,
    ),
    (
        "sets-inside-codebook",
        add_child("/p:Project/p:CodeBook", f'<Sets {PV}><Set guid="{g(98)}" name="x"/></Sets>'),
        False,
    ),
    ("set-without-name", drop_attr("//p:Set", "name"), False),
    ("transcript-selection-bad-sync", set_attr("//p:TranscriptSelection", "fromSyncPoint", "sp-1"), False),
    # valid edge cases
    ("base", chain(), True),
    ("braced-lowercase-guid", set_attr(CODE, "guid", "{" + g(11).lower() + "}"), True),
    ("braced-uppercase-guid", set_attr(CODE, "guid", "{" + g(11).upper() + "}"), True),
    ("guid-with-spaces", set_attr(CODE, "guid", f"  {g(11)} "), True),
    ("datetime-no-zone", set_attr("/p:Project", "creationDateTime", "2014-06-09T00:00:00"), True),
    ("datetime-fraction-offset", set_attr("/p:Project", "creationDateTime", "2014-06-09T00:00:00.125+02:00"), True),
    (
        "plaintextcontent-and-path",
        add_child("//p:TextSource", f"<PlainTextContent {PV}>hello</PlainTextContent>", 1),
        True,
    ),
    ("iscodable-1", set_attr(CODE, "isCodable", "1"), True),
    ("iscodable-0", set_attr(CODE, "isCodable", "0"), True),
    ("colour-3-lower", set_attr(CODE, "color", "#abc"), True),
    ("valueless-variable-value", remove(VV + "/p:FloatValue"), True),
    ("float-signed", set_text(VV + "/p:FloatValue", "-1.50"), True),
    ("float-integer-form", set_text(VV + "/p:FloatValue", "7"), True),
    ("negative-positions", chain(set_attr(SEL, "startPosition", "-5"), set_attr(SEL, "endPosition", "-9")), True),
    ("start-after-end", set_attr(SEL, "startPosition", "99"), True),
    ("dangling-coderef", set_attr(f"{CODING}/p:CodeRef", "targetGUID", g(777)), True),
    ("duplicate-guid", set_attr(CODE, "guid", g(12)), True),
    ("schema-location", set_attr("/p:Project", f"{{{XSI}}}schemaLocation", f"{P} Project.xsd"), True),
    ("video-before-text", move_after("//p:TextSource", "//p:VideoSource"), True),
    (
        "minimal",
        chain(
            *(
                remove(f"/p:Project/p:{n}")
                for n in (
                    "Users",
                    "CodeBook",
                    "Variables",
                    "Cases",
                    "Sources",
                    "Notes",
                    "Links",
                    "Sets",
                    "Graphs",
                    "Description",
                    "NoteRef",
                )
            )
        ),
        True,
    ),
    ("empty-description", set_text("/p:Project/p:Description", ""), True),
    ("project-name-empty", set_attr("/p:Project", "name", ""), True),
    ("edge-without-vertices", chain(remove("//p:Vertex[1]"), remove("//p:Vertex[1]")), True),
]

CODEBOOK_CASES: list[tuple[str, Mutation, bool]] = [
    ("qdc-base", chain(), True),
    (
        "qdc-member-targetGUID",
        chain(set_attr("//c:MemberCode", "targetGUID", g(11)), drop_attr("//c:MemberCode", "guid")),
        False,
    ),
    ("qdc-member-both", set_attr("//c:MemberCode", "targetGUID", g(11)), False),
    ("qdc-namespace-1-0-colon", rename_ns("urn:QDA-XML:codebook:1:0"), False),
    ("qdc-namespace-0-4", rename_ns("urn:QDA-XML:codebook:0:4"), False),
    ("qdc-project-namespace", rename_ns(P), False),
    ("qdc-empty-sets", empty("//c:Sets"), False),
    ("qdc-empty-codes", empty("//c:Codes"), False),
    ("qdc-no-codes", remove("//c:Codes"), False),
    ("qdc-code-noteref", add_child("//c:Code[@name='Food']", f'<NoteRef xmlns="{C}" targetGUID="{g(11)}"/>'), False),
    ("qdc-sets-first", move_after("//c:Codes", "//c:Sets"), False),
    ("qdc-iscodable-True", set_attr("//c:Code[@name='Food']", "isCodable", "True"), False),
    ("qdc-colour-alpha", set_attr("//c:Code[@name='Food']", "color", "#ffff0000"), False),
    ("qdc-name-attribute", set_attr("/c:CodeBook", "name", "x"), False),
    ("qdc-set-no-guid", drop_attr("//c:Set", "guid"), False),
    (
        "qdc-description-after-child",
        move_after("//c:Code[@name='Topics']/c:Description", "//c:Code[@name='Food']"),
        False,
    ),
    ("qdc-no-sets", remove("//c:Sets"), True),
    ("qdc-braced-guid", set_attr("//c:MemberCode", "guid", "{" + g(11) + "}"), True),
    ("qdc-set-without-members", chain(remove("//c:MemberCode"), remove("//c:Set/c:Description")), True),
    ("qdc-no-origin", drop_attr("/c:CodeBook", "origin"), True),
]


# --------------------------------------------------------------------------- verdicts


@cache
def official(kind: str) -> etree.XMLSchema:
    name = {"project": "Project-mrt2019.xsd", "codebook": "Codebook-mrt2019.xsd"}[kind]
    return etree.XMLSchema(etree.parse(str(need_shared(REFI_SCHEMA / name))))


@cache
def slow_schema(path: str) -> object:
    import xmlschema

    return xmlschema.XMLSchema(path)


def kind_of(doc: etree._Element) -> str:
    return "codebook" if etree.QName(doc).localname == "CodeBook" else "project"


def verdicts(doc: etree._Element) -> tuple[bool, bool]:
    """(ours, official) under libxml2."""
    kind = kind_of(doc)
    tree = etree.ElementTree(doc)
    return compiled(kind).validate(tree), official(kind).validate(tree)


def mutated(base: str, mutation: Mutation) -> etree._Element:
    root = copy.deepcopy(etree.fromstring(base.encode()))
    mutation(root)
    return root


def qde_of(data: bytes) -> bytes:
    if not data.startswith(b"PK"):
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        name = next(n for n in archive.namelist() if n.lower().endswith(".qde"))
        return archive.read(name)


# --------------------------------------------------------------------------- tests


def test_schemas_are_found_and_compile() -> None:
    for kind in ("project", "codebook"):
        assert schema_file(kind).name == f"{kind}.xsd"
        assert isinstance(compiled(kind), etree.XMLSchema)


def test_schemas_are_our_own_text() -> None:
    """Same verdicts, not the same file: no official type name or comment is reused."""
    official_text = (need_shared(REFI_SCHEMA) / "Project-mrt2019.xsd").read_text(encoding="utf-8")
    ours = schema_file("project").read_text(encoding="utf-8")
    for name in ("ProjectType", "PlainTextSelectionType", "CodingType", "GUIDType", "XMLSpy"):
        assert name in official_text and name not in ours


# libxml2 (2.14) compiles the official RGBType pattern "#([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})" into
# an automaton that also accepts exactly eight hex digits (#RRGGBBAA), which the pattern does
# not match (XSD Part 2 §F; xmlschema and Python's re reject it, STANDARD.md §2 says invalid).
# qdx's pattern is written so that libxml2 gets it right; only for these documents does
# "official schema under libxml2" therefore differ from the official schema's meaning.
LIBXML2_RGB_BUG = {"colour-rgba", "qdc-colour-alpha"}


@pytest.mark.parametrize(("case_id", "mutation", "expected"), PROJECT_CASES, ids=[c[0] for c in PROJECT_CASES])
def test_project_mutations_agree(case_id: str, mutation: Mutation, expected: bool) -> None:
    ours, theirs = verdicts(mutated(BASE_PROJECT, mutation))
    assert ours is expected
    assert theirs is (not expected if case_id in LIBXML2_RGB_BUG else expected)


@pytest.mark.parametrize(("case_id", "mutation", "expected"), CODEBOOK_CASES, ids=[c[0] for c in CODEBOOK_CASES])
def test_codebook_mutations_agree(case_id: str, mutation: Mutation, expected: bool) -> None:
    ours, theirs = verdicts(mutated(BASE_CODEBOOK, mutation))
    assert ours is expected
    assert theirs is (not expected if case_id in LIBXML2_RGB_BUG else expected)


def test_mutations_agree_under_xmlschema_too() -> None:
    """A second, independent XSD engine (pure Python) must also see no difference."""
    need_shared(REFI_SCHEMA)
    ours = {k: slow_schema(str(schema_file(k))) for k in ("project", "codebook")}
    theirs = {
        "project": slow_schema(str(REFI_SCHEMA / "Project-mrt2019.xsd")),
        "codebook": slow_schema(str(REFI_SCHEMA / "Codebook-mrt2019.xsd")),
    }
    cases = [(BASE_PROJECT, c) for c in PROJECT_CASES] + [(BASE_CODEBOOK, c) for c in CODEBOOK_CASES]
    disagreements = []
    for base, (case_id, mutation, expected) in cases:
        doc = mutated(base, mutation)
        kind = kind_of(doc)
        got = (ours[kind].is_valid(doc), theirs[kind].is_valid(doc))  # type: ignore[attr-defined]
        if got != (expected, expected):
            disagreements.append((case_id, got))
    assert disagreements == []


def test_enough_mutated_documents() -> None:
    invalid = [c for c in PROJECT_CASES + CODEBOOK_CASES if not c[2]]
    valid = [c for c in PROJECT_CASES + CODEBOOK_CASES if c[2]]
    assert len(invalid) >= 30 and len(valid) >= 10


def _sample_ids() -> list[str]:
    return [p.parent.name + "/" + p.name for p in refi_sample_files()]


@pytest.mark.parametrize("sample", refi_sample_files(), ids=_sample_ids())
def test_samples_agree(sample: Path) -> None:
    doc = etree.fromstring(qde_of(sample.read_bytes()))
    ours, theirs = verdicts(doc)
    assert ours is theirs


def test_samples_present() -> None:
    need_shared(REFI_SCHEMA)
    assert len(refi_sample_files()) >= 13


@pytest.mark.parametrize("sample", refi_sample_files(), ids=_sample_ids())
def test_qdx_written_projects_agree(sample: Path) -> None:
    """Every sample read and written again by qdx (qdpx, and its codebook as .qdc)."""
    import qdx

    project = qdx.read(sample)
    out = io.BytesIO()
    qdx.write(project, out, fmt="qdpx")
    ours, theirs = verdicts(etree.fromstring(qde_of(out.getvalue())))
    assert ours is theirs
    if project.codes:
        book = io.BytesIO()
        with warnings.catch_warnings():
            # A .qdc keeps only codes and sets; the writer says so (LossyConversionWarning).
            warnings.simplefilter("ignore", LossyConversionWarning)
            qdx.write(project, book, fmt="qdc")
        ours, theirs = verdicts(etree.fromstring(book.getvalue()))
        assert ours is theirs


@pytest.mark.parametrize("sample", refi_sample_files(), ids=_sample_ids())
def test_samples_agree_with_official_under_xmlschema(sample: Path) -> None:
    """Ours under libxml2 against the official schema under the other engine."""
    doc = etree.fromstring(qde_of(sample.read_bytes()))
    theirs = slow_schema(str(need_shared(REFI_SCHEMA / "Project-mrt2019.xsd")))
    assert compiled("project").validate(etree.ElementTree(doc)) is theirs.is_valid(doc)  # type: ignore[attr-defined]


# The official simple-type patterns, as Python regular expressions: an oracle independent of
# both XSD engines (XSD patterns match the whole, whitespace-collapsed token).
OFFICIAL_GUID = re.compile(
    r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"|(\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\})"
)
OFFICIAL_RGB = re.compile(r"#([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})")
GUID_ALPHABET = "0123456789abcdefABCDEFg-{} "


def _token(value: str) -> str:
    return " ".join(value.split())


def _code_doc(guid: str, color: str) -> etree._ElementTree:
    root = etree.Element(f"{{{C}}}CodeBook")
    codes = etree.SubElement(root, f"{{{C}}}Codes")
    etree.SubElement(codes, f"{{{C}}}Code", guid=guid, name="x", isCodable="true", color=color)
    return etree.ElementTree(root)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(GUID_ALPHABET, max_size=40),
        st.builds(lambda u, b: "{" + u + "}" if b else u, st.uuids().map(str), st.booleans()),
        st.uuids().map(lambda u: str(u)[:-1] + "-"),
    ),
    st.one_of(st.text("#0aFg ", max_size=11), st.text("0123456789abcdef", max_size=9).map(lambda t: "#" + t)),
)
def test_simple_types_match_the_official_patterns(guid: str, color: str) -> None:
    expected = bool(OFFICIAL_GUID.fullmatch(_token(guid))) and bool(OFFICIAL_RGB.fullmatch(_token(color)))
    assert compiled("codebook").validate(_code_doc(guid, color)) is expected
