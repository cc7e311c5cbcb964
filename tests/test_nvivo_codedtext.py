"""NVivo coded-text (Reference view) parsing: real NIrelandNLP exports and constructed variants.

Oracles: for the real files, an independent line count with the header/head regexes written
here from EXPORTS.md §c.1; for the constructed fixtures, the numbers written into
fixtures/nvivo/make_fixtures.py by hand.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

import qdx
from qdx.formats import ReadOptions
from qdx.formats.nvivo.codedtext import CodedText, parse_lines, parse_text
from qdx.formats.nvivo.names import parse_hname
from qdx.formats.nvivo.textexport import parse_docx
from qdx.model import PDFSelection, PDFSource, iter_codes, iter_selections
from tests.conftest import FIXTURES, NVIVO_SAMPLES, need_shared

NI = NVIVO_SAMPLES / "skdreier_NIrelandNLP"
FX = FIXTURES / "nvivo"
# Written from the grammar in EXPORTS.md §c.1, independently of qdx's parser.
HEADER = re.compile(r"^.+ - § (\d+) references? coded \[ ?\d+\.\d\d% Coverage\]$")
HEAD = re.compile(r"^Reference (\d+) - \d+\.\d\d% Coverage$")
REGION = re.compile(r"^Page \d+ : \(\d+,\d+\) - \(\d+,\d+\)$")


def _oracle(path: Path) -> tuple[int, int, int, int]:
    """(headers, sum of § N, reference heads, region lines) by plain line matching."""
    lines = path.read_bytes().decode("utf-8-sig").split("\n")
    headers = [HEADER.match(x) for x in lines]
    declared = sum(int(m.group(1)) for m in headers if m)
    return sum(1 for m in headers if m), declared, sum(1 for x in lines if HEAD.match(x)), sum(
        1 for x in lines if REGION.match(x)
    )


def ni_files() -> list[Path]:
    return sorted(NI.glob("*/*.txt")) if NI.exists() else []


@pytest.mark.parametrize("path", ni_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_niireland_file_matches_independent_count(path: Path) -> None:
    headers, declared, heads, regions = _oracle(path)
    parsed = parse_text(path.read_bytes(), label=path.name)
    assert len(parsed.blocks) == headers
    assert parsed.declared == declared
    assert parsed.found == heads == declared  # the § N checksum holds in every real file
    assert sum(1 for b in parsed.blocks for r in b.references if r.region) == regions
    assert parsed.variant == "V3"
    assert not [i for i in parsed.issues if i.code == "QDX401"]


def test_niireland_folder_reads_as_one_project() -> None:
    need_shared(NI)
    project = qdx.read(NI)
    _, declared_total, _, regions = (sum(x) for x in zip(*(_oracle(p) for p in ni_files()), strict=True))
    codings = [c for s in project.sources for sel in iter_selections(s) for c in sel.codings]
    assert len(codings) == declared_total == 221
    pdf_regions = [sel for s in project.sources for sel in iter_selections(s) if isinstance(sel, PDFSelection)]
    assert len(pdf_regions) == regions
    # 17 files in 3 export folders: the folders nest the codes.
    assert len(list(iter_codes(project.codes))) == 17 + 3
    assert any(i.code == "QDX409" and i.location == "LICENSE" for i in project.provenance.issues)


def test_niireland_region_reference_values() -> None:
    path = need_shared(NI / "dates_0123" / "1970-05.txt")
    project = qdx.read(path)
    regions = [s for s in project.sources if isinstance(s, PDFSource)]
    assert len(regions) == 1
    sel = regions[0].selections[0]
    # "Page 1 : (427,176) - (555,212)" on line 3 of the file: NVivo's first page, REFI's page 0
    # (the spec's own example, Annex A.2, has page="0" for a PDF's first page).
    assert (sel.page, sel.first_x, sel.first_y, sel.second_x, sel.second_y) == (0, 427, 176, 555, 212)
    assert regions[0].name == "IMG_4735_PREM_15_101"
    assert {s.name for s in project.sets} == {"Files\\\\SKD_round1\\\\PREM 15 101"}


def test_region_page_reads_and_writes_back_as_nvivo_counts_it(tmp_path: Path) -> None:
    """REFI page 0 is NVivo's "Page 1" again when written as coded text (both directions shift)."""
    from click.testing import CliRunner

    from qdx.cli import main

    path = need_shared(NI / "dates_0123" / "1970-05.txt")
    out = tmp_path / "back.txt"
    result = CliRunner().invoke(main, ["convert", str(path), str(out), "--to", "nvivo-text"])
    assert result.exit_code == 0, result.output
    assert "Page 1 : (427,176) - (555,212)" in out.read_text(encoding="utf-8-sig").splitlines()


# --------------------------------------------------------------------------- constructed variants


def _parsed(name: str) -> CodedText:
    path = FX / "export" / name
    return parse_text(path.read_bytes(), label=name)


def test_v1_angle_brackets_single_backslashes() -> None:
    parsed = _parsed("Road.txt")
    assert parsed.variant == "V1"
    assert [b.source.folders for b in parsed.blocks] == [("Internals", "Interviews")] * 2
    assert [b.source.name for b in parsed.blocks] == ["Interview 01", "Interview 02"]
    assert (parsed.declared, parsed.found) == (3, 3)
    assert parsed.blocks[0].coverage == pytest.approx(18.40)


def test_v2_two_line_header_without_section_sign() -> None:
    parsed = _parsed("Care.txt")
    assert parsed.variant == "V2"
    assert [b.declared for b in parsed.blocks] == [1, 1]
    assert parsed.blocks[1].references[0].text == "The nurse listens to us,\nand she explains the medicine."


def test_utf16_v3_shape() -> None:
    parsed = _parsed("Clinic.txt")
    assert parsed.encoding == "utf-16"
    assert parsed.variant == "V3"
    assert parsed.blocks[0].source.folders == ("Files", "Round 1")
    assert [r.text for r in parsed.blocks[0].references] == [
        "We only go to the clinic when the road is open.",
        "Fees are hidden until you arrive.",
    ]


def test_v4_utf16_crlf_blank_lines_merged_and_region() -> None:
    parsed = _parsed("Access.txt")
    assert (parsed.variant, parsed.encoding, parsed.newline) == ("V4", "utf-16", "\r\n")
    first, leaflet = parsed.blocks
    assert [(r.first, r.last, r.text) for r in first.references] == [
        (1, 1, "Transport is the biggest cost for us."),
        (2, 3, "Fees are hidden until you arrive."),
    ]
    assert first.found == first.declared == 3  # "References 2-3" counts two
    region = leaflet.references[0].region
    assert region is not None and (region.page, region.x1, region.y1, region.x2, region.y2) == (2, 88, 140, 512, 301)


def test_v5_first_line_names_the_code() -> None:
    parsed = _parsed("Hidden fees.txt")
    assert parsed.variant == "V5"
    assert parsed.code_name is not None
    assert parsed.code_name.item == ("Barriers", "Cost", "Hidden fees")
    project = qdx.read(FX / "export" / "Hidden fees.txt")
    paths = [(*tuple(a.name for a in anc), c.name) for c, anc in iter_codes(project.codes)]
    assert ("Barriers", "Cost", "Hidden fees") in paths


def test_checksum_mismatch_is_an_issue_with_file_and_line() -> None:
    parsed = parse_text((FX / "mismatch.txt").read_bytes(), label="mismatch.txt")
    mismatches = [i for i in parsed.issues if i.code == "QDX401"]
    assert len(mismatches) == 1
    assert mismatches[0].location == "mismatch.txt:1"
    assert "declares 3" in mismatches[0].message and "2 found" in mismatches[0].message
    # "Reference 7 - …" after a complete block is body text (§c.1 ambiguity rule).
    last = parsed.blocks[1].references[0].text
    assert last is not None and last.endswith("Reference 7 - 1.00% Coverage\nNot in any source.")


def test_word_reference_view() -> None:
    path = FX / "docx" / "Access.docx"
    parsed = parse_docx(path.read_bytes(), ReadOptions(label="Access.docx"))
    assert [b.declared for b in parsed.blocks] == [3, 1]
    assert parsed.blocks[0].references[1].text == "Fees are hidden until you arrive."
    assert qdx.read(path).provenance.fmt == "nvivo-text"  # type: ignore[union-attr]


def test_header_inside_body_needs_a_following_head() -> None:
    lines = [
        "Files\\\\A - § 1 reference coded [ 5.00% Coverage]",
        "Reference 1 - 5.00% Coverage",
        "Files\\\\B - § 9 references coded [ 1.00% Coverage]",
        "still the same passage",
    ]
    parsed = parse_lines(lines, label="x.txt")
    assert len(parsed.blocks) == 1
    assert parsed.blocks[0].references[0].text == "\n".join(lines[2:])


@pytest.mark.parametrize(
    ("encoding", "newline"), [("utf-8-sig", "\n"), ("utf-8", "\r\n"), ("utf-16", "\r\n"), ("utf-16-le", "\n")]
)
def test_encodings_and_newlines(encoding: str, newline: str) -> None:
    text = "<Files\\\\Ä> - § 1 reference coded [1,50% Coverage]\nReference 1 - 1,50% Coverage\nÜber 😀\n"
    data = text.replace("\n", newline).encode(encoding)
    parsed = parse_text(data, label="x.txt")
    assert parsed.blocks[0].source.name == "Ä"
    assert parsed.blocks[0].coverage == pytest.approx(1.5)  # decimal comma accepted
    assert parsed.blocks[0].references[0].text == "Über 😀"


@pytest.mark.parametrize(
    ("name", "folders", "item"),
    [
        ("Codes\\\\Barriers\\Cost\\Hidden fees", ("Codes",), ("Barriers", "Cost", "Hidden fees")),
        ("Cases\\\\People\\\\Staff\\Nurse A", ("Cases", "People"), ("Staff", "Nurse A")),
        ("Files\\\\Round 1\\\\Site B\\\\Interview 07", ("Files", "Round 1", "Site B"), ("Interview 07",)),
        ("Internals\\Interviews\\Barbara", ("Internals", "Interviews"), ("Barbara",)),
        ("Parent\\Child", (), ("Parent", "Child")),
        ("a/b: c", (), ("a/b: c",)),
    ],
)
def test_hierarchical_names(name: str, folders: tuple[str, ...], item: tuple[str, ...]) -> None:
    parsed = parse_hname(name)
    assert (parsed.folders, parsed.item) == (folders, item)
    if folders and "\\\\" in name:
        assert parsed.render() == name


def test_non_export_text_is_not_sniffed_as_nvivo() -> None:
    from qdx.formats.nvivo import sniff_text

    assert not sniff_text(b"just some notes\nReference list\n", "notes.txt")
    assert not sniff_text(b'<?xml version="1.0"?><Project/>', "x.txt")
    assert sniff_text((FX / "export" / "Access.txt").read_bytes()[:4096], "")


def test_stream_without_header_is_a_format_error() -> None:
    from qdx.errors import FormatError

    with pytest.raises(FormatError):
        qdx.read(io.BytesIO(b"Reference 1 - 1.00% Coverage\nx\n"), fmt="nvivo-text")


class _Endless(io.RawIOBase):
    """A stream of one line and then NUL bytes forever; counts what was read."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        prefix = b"Name: Nodes\\\\bomb\n" if self.served == 0 else b""
        size = len(buffer)
        buffer[:size] = (prefix + b"\x00" * size)[:size]
        self.served += size
        return size


def test_huge_non_export_is_refused_after_the_head() -> None:
    from qdx.errors import FormatError
    from qdx.formats.nvivo.textexport import read_coded_text

    stream = _Endless()
    with pytest.raises(FormatError, match="no NVivo source header"):
        read_coded_text(stream, ReadOptions(label="huge.txt"))  # type: ignore[arg-type]
    assert stream.served <= 64 * 1024


def test_oversized_export_is_refused() -> None:
    from qdx.errors import UnsafeInputError
    from qdx.safety import Limits

    data = (FX / "export" / "Road.txt").read_bytes() + b"x" * 20_000
    with pytest.raises(UnsafeInputError):
        qdx.read(io.BytesIO(data), fmt="nvivo-text", limits=Limits(max_member_size=10_000))


def test_a_region_on_page_0_is_the_first_page_with_a_warning(tmp_path: Path) -> None:
    """NVivo counts pages from 1 (docs/nvivo-exports.md): 'Page 0' is read as page 0, never -1, and said."""
    export = tmp_path / "Access.txt"
    export.write_text(
        "<Files\\\\Clinic leaflet> - § 2 references coded [12.50% Coverage]\n\n"
        "Reference 1 - 6.25% Coverage\n\n"
        "Page 0 : (88,140) - (512,301)\n\n"
        "Reference 2 - 6.25% Coverage\n\n"
        "Page 3 : (10,20) - (30,40)\n\n",
        encoding="utf-8",
    )
    project = qdx.read(export)
    pages = sorted(s.page for src in project.sources if isinstance(src, PDFSource) for s in src.selections)
    assert pages == [0, 2]
    warned = [i for i in project.provenance.issues if i.code == "QDX412"]
    # located at the reference's head line
    assert len(warned) == 1 and "Page 0" in warned[0].message and warned[0].location == "Access.txt:3"
