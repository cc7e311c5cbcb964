"""A folder holding both the .txt and the .docx coded-text export of one code (issue 14):
identical copies are read once, differing copies are refused with one clear line.

Oracle: the folder with the .txt alone (its coding count) — a second copy must not change it.
"""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

import qdx
from qdx.cli import main
from qdx.errors import FormatError
from qdx.formats.nvivo import export_files
from qdx.model import iter_selections

STUDY = Path(__file__).resolve().parent.parent / "fixtures" / "wechat-moments" / "project.qdpx"


def codings(project: qdx.Project) -> int:
    return sum(len(sel.codings) for src in project.sources for sel in iter_selections(src))


def as_docx(text: str) -> bytes:
    document = docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


@pytest.fixture
def one_code(tmp_path: Path) -> tuple[Path, str, str]:
    files = export_files(qdx.read(STUDY))
    name, data = next((n, d) for n, d in sorted(files.items()) if d.count(b"Reference") >= 2)
    text = data.decode("utf-8-sig").replace("\r\n", "\n")
    folder = tmp_path / "export"
    folder.mkdir()
    stem = Path(name).stem
    (folder / f"{stem}.txt").write_text(text, encoding="utf-8")
    return folder, stem, text


def test_identical_txt_and_docx_are_read_once(one_code: tuple[Path, str, str]) -> None:
    folder, stem, text = one_code
    alone = codings(qdx.read(folder))
    assert alone >= 2
    (folder / f"{stem}.docx").write_bytes(as_docx(text))
    both = qdx.read(folder)
    assert codings(both) == alone
    assert any(i.code == "QDX410" for i in both.provenance.issues)  # type: ignore[union-attr]


def test_differing_copies_are_refused(one_code: tuple[Path, str, str]) -> None:
    folder, stem, text = one_code
    lines = text.split("\n")
    body = next(i for i, line in enumerate(lines) if line.startswith("Reference")) + 1
    lines[body] = "a passage that is not in the other copy"
    (folder / f"{stem}.docx").write_bytes(as_docx("\n".join(lines)))
    with pytest.raises(FormatError, match="different references"):
        qdx.read(folder)
    result = CliRunner().invoke(main, ["info", str(folder)])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "keep one of them" in result.stderr
