"""The codebook appendix (qdx codebook / qdx.codebook): Word structure, read-back, MacQueen
fields, the example-quote rule, escaping and the CLI."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

import qdx
from qdx.cli import main
from qdx.model import Code, Coding, Guid, Project, TextSelection, TextSource, iter_codes
from qdx.report.codebook_data import QUOTE_LIMIT, choose_quote, codebook_data
from qdx.report.codebook_doc import docx_bytes, html_text, markdown_text
from qdx.segment import Segment
from qdx.validation.misfit import macqueen_fields

STUDY = Path(__file__).resolve().parent.parent / "fixtures" / "wechat-moments" / "project.qdpx"


@pytest.fixture(scope="module")
def study() -> Project:
    return qdx.read(STUDY)


@pytest.fixture(scope="module")
def study_docx(study: Project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("codebook") / "codebook.docx"
    qdx.codebook(study, path)
    return path


def _tree(project: Project) -> list[tuple[int, str, str]]:
    return [(len(anc), c.name, (c.description or "").strip()) for c, anc in iter_codes(project.codes)]


def test_docx_reads_back_to_the_same_tree(study: Project, study_docx: Path) -> None:
    back = qdx.read(study_docx)
    assert back.provenance is not None and back.provenance.fmt == "nvivo-codebook-docx"
    assert back.name == study.name
    assert len(_tree(back)) == 65
    assert _tree(back) == _tree(study)  # names, nesting and descriptions, in order


def test_docx_counts_are_the_codes_own_codings(study: Project, study_docx: Path) -> None:
    # Oracle: count codings per code straight from the model's selections.
    own: Counter[str] = Counter()
    files: dict[str, set[str]] = {}
    for source in study.sources:
        for sel in source.selections if isinstance(source, TextSource) else ():
            for coding in sel.codings:
                own[coding.code.key] += 1
                files.setdefault(coding.code.key, set()).add(source.guid.key)
    back = qdx.read(study_docx)
    assert back.provenance is not None
    by_name = {c.name: c.guid for c, _ in iter_codes(study.codes)}
    counts = {c.code: c for c in back.provenance.code_counts}
    for code, _ in iter_codes(back.codes):
        original = by_name[code.name].key
        assert counts[code.guid].references == own.get(original, 0)
        assert counts[code.guid].files == len(files.get(original, ()))


def test_docx_has_word_headings_toc_and_own_styles(study_docx: Path) -> None:
    from docx import Document

    document = Document(str(study_docx))
    headings = Counter(p.style.name for p in document.paragraphs if p.style.name.startswith("Heading"))
    # 3 sections + the core (Heading 2), 4 main (3), 20 sub (4), 40 concepts (5).
    assert headings["Heading 2"] == 1 and headings["Heading 3"] == 4
    assert headings["Heading 4"] == 20 and headings["Heading 5"] == 40
    styles = {s.name for s in document.styles}
    assert {"Codebook Title", "Codebook Field Label", "Codebook Quote", "Codebook Memo"} <= styles
    xml = zipfile.ZipFile(study_docx).read("word/document.xml").decode()
    assert 'TOC \\o "1-3"' in xml and 'w:fldCharType="begin"' in xml and 'w:fldCharType="end"' in xml
    settings = zipfile.ZipFile(study_docx).read("word/settings.xml").decode()
    # CT_Settings is an ordered sequence (ECMA-376 §17.15.1.78): Word rejects updateFields after compat.
    assert "updateFields" in settings and settings.index("<w:updateFields") < settings.index("<w:compat")
    body = "\n".join(p.text for p in document.paragraphs)
    assert "When not to use: " in body and "Example from the data: " in body
    assert "Axial memo - Platform Factors." in body  # a memo attached to a main category


def test_macqueen_fields_split_labelled_lines() -> None:
    text = "Brief definition: Hiding.\nFull: All ways\nof hiding.\n不适用：删除\n适用：屏蔽\nExamples: 'I hid it.'"
    assert macqueen_fields(text) == {"brief": "Hiding.", "full": "All ways\nof hiding.", "use": "屏蔽",
                                     "do not use": "删除", "example": "'I hid it.'"}
    assert macqueen_fields("Just a definition.") == {"definition": "Just a definition."}
    assert macqueen_fields("") == {}


def _seg(text: str | None) -> Segment:
    return Segment(source="S", source_guid=Guid("s"), selection=None, start=0, end=len(text or ""), text=text,
                   code="c", code_guid=Guid("c"), code_path=("c",), coder=None, coding_guid=Guid("g"))


def test_quote_rule_longest_that_fits_then_earliest() -> None:
    passages = [(0, _seg("short")), (1, _seg("x" * 40)), (2, _seg("y" * 40)), (3, _seg("z" * (QUOTE_LIMIT + 1)))]
    quote = choose_quote(passages)
    assert quote is not None and quote.text == "x" * 40 and not quote.cut
    assert choose_quote([(0, _seg(None)), (1, _seg("  "))]) is None


def test_quote_rule_cuts_the_shortest_when_all_are_long() -> None:
    quote = choose_quote([(0, _seg("a" * 900)), (1, _seg("b" * 400))])
    assert quote is not None and quote.cut
    assert quote.text == "b" * (QUOTE_LIMIT - 1) + "…" and len(quote.text) == QUOTE_LIMIT


HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def _hostile() -> Project:
    code = Code(guid=Guid("00000000-0000-4000-8000-000000000001"), name=HOSTILE + "\x01",
                description="Use when: [x](javascript:alert(3))", color='red" onmouseover="x')
    sel = TextSelection(guid=Guid("00000000-0000-4000-8000-000000000002"), start=0, end=len(HOSTILE),
                        codings=(Coding(guid=Guid("00000000-0000-4000-8000-000000000003"), code=code.guid),))
    src = TextSource(guid=Guid("00000000-0000-4000-8000-000000000004"), name="<b>src</b>", text=HOSTILE,
                     selections=(sel,))
    return Project(name="<title>", codes=(code,), sources=(src,))


def test_html_and_markdown_keep_hostile_text_inert() -> None:
    book = codebook_data(_hostile())
    page = html_text(book)
    assert "<script>" not in page and "<img" not in page and "onmouseover" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    md = markdown_text(book)
    assert "<script>" not in md and "](javascript:" not in md
    assert book.entries[0].color is None  # not a #RRGGBB colour: no swatch at all


def test_docx_survives_control_characters() -> None:
    data = docx_bytes(codebook_data(_hostile()))
    from io import BytesIO

    from docx import Document

    names = [p.text for p in Document(BytesIO(data)).paragraphs]
    assert HOSTILE in names  # the heading, minus the XML-illegal \x01


def test_cli_writes_each_format_and_refuses_others(tmp_path: Path) -> None:
    runner = CliRunner()
    for suffix in (".docx", ".md", ".html"):
        out = tmp_path / f"codebook{suffix}"
        result = runner.invoke(main, ["codebook", str(STUDY), "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert "65 codes, 40 example quotes" in result.output and out.stat().st_size > 0
    bad = tmp_path / "codebook.pdf"
    result = runner.invoke(main, ["codebook", str(STUDY), "-o", str(bad)])
    assert result.exit_code == 2 and not bad.exists()
    assert "Traceback" not in result.output


def test_a_codebook_without_codings_says_counts_are_not_available() -> None:
    book = codebook_data(qdx.read(STUDY.with_name("codebook.qdc")))
    assert len(book.entries) == 65
    assert all(e.references is None and e.references_total is None and e.example is None for e in book.entries)
    assert "counts n/a \\(no coding data\\)" in markdown_text(book)  # Markdown-escaped parentheses
    assert "0 references" not in markdown_text(book)


def test_reported_counts_of_a_codebook_docx_roll_up(study: Project, study_docx: Path) -> None:
    # Oracle: codings counted straight from the study's selections, all under the one core.
    codings = sum(len(sel.codings) for s in study.sources if isinstance(s, TextSource) for sel in s.selections)
    book = codebook_data(qdx.read(study_docx))
    core = book.entries[0]
    assert core.depth == 0 and core.references_total == codings == 627
    assert core.sources_total is None  # files of subcodes cannot be added up
    leaves = [e for e in book.entries if e.is_leaf]
    assert sum(e.references or 0 for e in leaves) == codings


def test_markdown_renders_hostile_text_as_text() -> None:
    # An independent CommonMark renderer, with raw HTML allowed: only qdx's escapes keep it text.
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark", {"html": True}).render(markdown_text(codebook_data(_hostile())))
    assert "<script" not in rendered and "<img" not in rendered and "<a " not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered  # shown, as text
