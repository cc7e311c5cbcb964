"""The codebook appendix as a Word document (``.docx``); see :mod:`qdx.report.codebook_doc` for all formats.

The Word document is built so that a thesis can take it as it is and a user can restyle it:

* real Word headings (``Heading 1`` for sections, ``Heading 2``… per tree level, so Word's
  navigation pane and a table of contents see the tree), a ``TOC`` field (pre-filled with the
  headings so it reads right before anyone presses F9; ``updateFields`` asks Word to refresh
  the page numbers on opening);
* every other paragraph and run in a named style of its own (``Codebook Title``, ``Codebook
  Field Label``, ``Codebook Quote``, ``Codebook Memo``, ``Codebook Meta``), so changing a style
  restyles the whole appendix;
* the overview table in the layout of NVivo's *Export Codebook* (docs/nvivo-exports.md §b.1: a
  ``CodebookTitle`` paragraph, one table with the header Name | Description | Files |
  References, the hierarchy as the Name cell's indent of 450 twips per level, direct counts),
  so qdx's own Codebook.docx reader (:mod:`qdx.formats.nvivo.codebook`) reads the tree back.
  That reader takes every table of the document for a codebook table, so the rest of the
  document uses paragraphs only.
"""

from __future__ import annotations

import io
from typing import Any

from qdx.report.codebook_data import FIELD_LABELS, CodebookData, CodebookEntry, Memo, xml_text
from qdx.report.codebook_words import counts_line, heading_level, memo_title, quote_source

TWIPS_PER_LEVEL = 450  # NVivo's indent per level (docs/nvivo-exports.md §b.1); the reader divides by it
TOC_LEVELS = 3

STYLE_TITLE = "Codebook Title"  # style id CodebookTitle: what the reader takes the title from
STYLE_LABEL = "Codebook Field Label"
STYLE_QUOTE = "Codebook Quote"
STYLE_MEMO = "Codebook Memo"
STYLE_META = "Codebook Meta"
STYLE_TABLE = "Codebook Table"


# --------------------------------------------------------------------------- Word


def _styles(document: Any) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt, RGBColor

    styles = document.styles
    title = styles.add_style(STYLE_TITLE, WD_STYLE_TYPE.PARAGRAPH)
    title.base_style = styles["Title"]
    label = styles.add_style(STYLE_LABEL, WD_STYLE_TYPE.CHARACTER)
    label.font.bold = True
    quote = styles.add_style(STYLE_QUOTE, WD_STYLE_TYPE.PARAGRAPH)
    quote.base_style = styles["Quote"]
    memo = styles.add_style(STYLE_MEMO, WD_STYLE_TYPE.PARAGRAPH)
    memo.base_style = styles["Normal"]
    memo.paragraph_format.left_indent = Pt(18)
    memo.font.size = Pt(10)
    meta = styles.add_style(STYLE_META, WD_STYLE_TYPE.PARAGRAPH)
    meta.base_style = styles["Normal"]
    meta.font.size = Pt(9)
    meta.font.color.rgb = RGBColor(0x59, 0x59, 0x59)
    table = styles.add_style(STYLE_TABLE, WD_STYLE_TYPE.TABLE)
    table.base_style = styles["Table Grid"]
    table.font.size = Pt(9)
    for level in range(1, TOC_LEVELS + 1):
        toc = styles.add_style(f"TOC {level}", WD_STYLE_TYPE.PARAGRAPH)
        toc.base_style = styles["Normal"]
        toc.paragraph_format.left_indent = Pt(12 * (level - 1))
        toc.paragraph_format.space_after = Pt(2)


def _field_char(kind: str) -> Any:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement("w:fldChar")
    element.set(qn("w:fldCharType"), kind)
    return element


def _instr(text: str) -> Any:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement("w:instrText")
    element.set(qn("xml:space"), "preserve")
    element.text = text
    return element


def _toc(document: Any, book: CodebookData) -> None:
    """A TOC field over Heading 1–3 whose result already lists those headings (no page numbers
    until Word updates the field; LibreOffice shows the list as it is)."""
    document.add_paragraph("Contents", style="TOC Heading")
    titles = _section_titles(book)
    entries = [(1, title) for title in titles[:3]]
    entries += [(heading_level(e), e.name) for e in book.entries if heading_level(e) <= TOC_LEVELS]
    entries += [(1, title) for title in titles[3:]]
    paragraphs = [document.add_paragraph(xml_text(text), style=f"TOC {level}") for level, text in entries]
    if not paragraphs:
        paragraphs = [document.add_paragraph("")]
    first, last = paragraphs[0], paragraphs[-1]
    begin = first.runs[0]._r if first.runs else first.add_run()._r
    begin.addprevious(_run_with(_field_char("begin")))
    begin.addprevious(_run_with(_instr(f' TOC \\o "1-{TOC_LEVELS}" \\h \\z \\u ')))
    begin.addprevious(_run_with(_field_char("separate")))
    last._p.append(_run_with(_field_char("end")))


def _run_with(child: Any) -> Any:
    from docx.oxml import OxmlElement

    run = OxmlElement("w:r")
    run.append(child)
    return run


def _update_fields_on_open(document: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement("w:updateFields")
    element.set(qn("w:val"), "true")
    settings = document.settings.element
    # CT_Settings is a sequence (ECMA-376 Part 1 §17.15.1.78): updateFields goes before these.
    later = {qn(f"w:{name}") for name in _AFTER_UPDATE_FIELDS}
    successor = next((child for child in settings if child.tag in later), None)
    if successor is None:
        settings.append(element)
    else:
        successor.addprevious(element)


_AFTER_UPDATE_FIELDS = (
    "hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids", "attachedSchema",
    "themeFontLang", "clrSchemeMapping", "doNotIncludeSubdocsInStats", "doNotAutoCompressPictures",
    "forceUpgrade", "captions", "readModeInkLockDown", "smartTagType", "schemaLibrary", "shapeDefaults",
    "doNotEmbedSmartTags", "decimalSymbol", "listSeparator",
)


def _shade(cell: Any, color: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), color.lstrip("#"))
    properties = cell._tc.get_or_add_tcPr()
    # CT_TcPr is a sequence (§17.4.70): shd follows tcW..tcBorders and precedes noWrap..vAlign.
    later = {qn(f"w:{name}") for name in ("noWrap", "tcMar", "textDirection", "tcFitText", "vAlign", "hideMark")}
    successor = next((child for child in properties if child.tag in later), None)
    if successor is None:
        properties.append(shading)
    else:
        successor.addprevious(shading)


def _section_titles(book: CodebookData) -> list[str]:
    titles = ["About this codebook", "Code tree", "Code definitions"]
    if book.project_memos:
        titles.append("Project memos")
    return titles


def _about(document: Any, book: CodebookData) -> None:
    document.add_heading("About this codebook", level=1)
    counts = book.counts
    size = (f"{counts.get('codes', len(book.entries))} codes; {counts.get('codings', 0)} codings in "
            f"{counts.get('sources', 0)} sources" if counts.get("coded", 1) else
            f"{counts.get('codes', len(book.entries))} codes; no coding data, so no counts")
    document.add_paragraph(
        f"{size}. Definitions follow MacQueen et al. (1998): brief and full "
        "definition, when to use, when not to use, example — shown where the code's description labels "
        "them. Counts: references (codings) and sources of the code itself; categories also give the "
        "numbers with all their subcodes.")
    document.add_paragraph(book.quote_rule)


def _tree_table(document: Any, book: CodebookData) -> None:
    from docx.shared import Inches, Pt

    document.add_heading("Code tree", level=1)
    document.add_paragraph("Files and References count the code's own codings (as NVivo's Export Codebook "
                           "does); the indent of a name shows its level.", style=STYLE_META)
    table = document.add_table(rows=1, cols=len(_TREE_COLUMNS))
    table.style = document.styles[STYLE_TABLE]
    table.autofit = False
    for column, (_, width) in zip(table.columns, _TREE_COLUMNS, strict=True):
        column.width = Inches(width)  # LibreOffice lays out by the grid, Word by the cells
    _fill_row(table.rows[0].cells, [[caption] for caption, _ in _TREE_COLUMNS])
    for entry in book.entries:
        cells = table.add_row().cells
        if entry.color:
            _shade(cells[0], entry.color)
        _fill_row(cells, [[""], [entry.name], entry.description.split("\n"), [_cell(entry.sources)],
                          [_cell(entry.references)]])
        cells[1].paragraphs[0].paragraph_format.left_indent = Pt(entry.depth * TWIPS_PER_LEVEL / 20)


def _cell(count: int | None) -> str:
    return "" if count is None else str(count)  # blank, as NVivo leaves counts it did not export


# (caption, width in inches): a narrow swatch, room for indented names and the description.
_TREE_COLUMNS = (("Colour", 0.45), ("Name", 1.85), ("Description", 2.85), ("Files", 0.5), ("References", 0.85))


def _fill_row(cells: Any, texts: list[list[str]]) -> None:
    """Each cell gets its column's width and one tight paragraph per line of its text."""
    from docx.shared import Inches, Pt

    for cell, lines, (_, width) in zip(cells, texts, _TREE_COLUMNS, strict=True):
        cell.width = Inches(width)
        first = cell.paragraphs[0]
        first.text = xml_text(lines[0])
        paragraphs = [first, *(cell.add_paragraph(xml_text(line)) for line in lines[1:])]
        for paragraph in paragraphs:
            paragraph.paragraph_format.space_after = Pt(0)


def _swatch(paragraph: Any, color: str | None) -> None:
    from docx.shared import RGBColor

    if color is None:
        return
    run = paragraph.add_run("■ ")
    run.font.color.rgb = RGBColor.from_string(color.lstrip("#"))


def _labelled(document: Any, label: str, text: str, style: str | None = None) -> None:
    paragraph = document.add_paragraph(style=style)
    paragraph.add_run(f"{label}: ", style=STYLE_LABEL)
    paragraph.add_run(xml_text(text))


def _entry(document: Any, entry: CodebookEntry) -> None:
    heading = document.add_heading("", level=heading_level(entry))
    _swatch(heading, entry.color)
    heading.add_run(xml_text(entry.name))
    document.add_paragraph(xml_text(" › ".join(entry.path)) + " — " + counts_line(entry), style=STYLE_META)
    for key, text in entry.fields.items():
        _labelled(document, FIELD_LABELS[key], text)
    if entry.example is not None:
        _labelled(document, "Example from the data", "“" + entry.example.text + "”", style=STYLE_QUOTE)
        document.add_paragraph("— " + xml_text(quote_source(entry.example)), style=STYLE_META)
    elif entry.is_leaf:
        document.add_paragraph("Example from the data: none (the code has no coded text).", style=STYLE_META)
    for memo in entry.memos:
        _memo(document, memo)


def _memo(document: Any, memo: Memo) -> None:
    _labelled(document, *memo_title(memo.name), style=STYLE_MEMO)
    for line in xml_text(memo.text).split("\n"):
        document.add_paragraph(line, style=STYLE_MEMO)


def docx_bytes(book: CodebookData) -> bytes:
    """The codebook as a Word document (see the module docstring)."""
    from docx import Document

    document = Document()
    _styles(document)
    document.core_properties.title = xml_text(book.title)
    document.add_paragraph(xml_text(book.title), style=STYLE_TITLE)
    _toc(document, book)
    _update_fields_on_open(document)
    _about(document, book)
    _tree_table(document, book)
    document.add_heading("Code definitions", level=1)
    for entry in book.entries:
        _entry(document, entry)
    if book.project_memos:
        document.add_heading("Project memos", level=1)
        for memo in book.project_memos:
            _memo(document, memo)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
