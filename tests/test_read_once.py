"""``validate --structure gt`` reads the file once: validation keeps the model it built.

Reads are counted with CPython's audit hooks (PEP 578): every ``open()`` of a file raises an
``open`` audit event naming the path, whoever opens it — so the count does not depend on
which qdx function does the reading.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

import qdx
from qdx.cli import main
from qdx.validation import validate_file

NS = "urn:QDA-XML:project:1.0"
USER = "bbbbbbbb-0000-0000-0000-000000000001"
CORE, CONCEPT = "cccccccc-0000-0000-0000-000000000001", "cccccccc-0000-0000-0000-000000000002"
STUDY = Path(__file__).parent.parent / "fixtures" / "wechat-moments" / "project.qdpx"

_watched: list[str] = []
_opened: list[str] = []


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _watched and isinstance(args[0], str | os.PathLike):
        if os.path.abspath(os.fspath(args[0])) in _watched:
            _opened.append(os.fspath(args[0]))


sys.addaudithook(_hook)  # hooks cannot be removed; it is inert unless a path is watched


@contextmanager
def opens_of(path: Path) -> Iterator[list[str]]:
    """The opens of ``path`` inside the block."""
    _watched[:] = [os.path.abspath(path)]
    _opened.clear()
    try:
        yield _opened
    finally:
        _watched.clear()


def _project(selections: int) -> bytes:
    """A valid project: one text, a core category over one concept, ``selections`` codings."""
    sel = (
        '<PlainTextSelection guid="aaaaaaaa-0000-0000-0000-{i:012d}" startPosition="0" endPosition="5" '
        f'creatingUser="{USER}"><Coding guid="eeeeeeee-0000-0000-0000-{{i:012d}}" creatingUser="{USER}">'
        f'<CodeRef targetGUID="{CONCEPT}"/></Coding></PlainTextSelection>'
    )
    body = "\n".join(sel.format(i=i) for i in range(selections))
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="p">'
        f'<Users><User guid="{USER}" name="a"/></Users>'
        f'<CodeBook><Codes><Code guid="{CORE}" name="core" isCodable="true">'
        f'<Code guid="{CONCEPT}" name="concept" isCodable="true"/></Code></Codes></CodeBook>'
        '<Sources><TextSource guid="dddddddd-0000-0000-0000-000000000001" name="t">'
        f"<PlainTextContent>hello world</PlainTextContent>\n{body}\n</TextSource></Sources></Project>"
    ).encode()


def _qdpx(path: Path, selections: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", _project(selections))
    return path


def test_the_counter_sees_every_read(tmp_path: Path) -> None:
    # The instrument itself: reading and validating separately opens the file twice.
    path = _qdpx(tmp_path / "p.qdpx", 3)
    with opens_of(path) as opened:
        qdx.read(path)
        validate_file(path, integrity=False)
    assert len(opened) == 2


def test_validate_file_returns_the_model_it_read(tmp_path: Path) -> None:
    with opens_of(STUDY) as opened:
        result = validate_file(STUDY)
    assert len(opened) == 1
    assert result.project is not None
    assert result.project == qdx.read(STUDY)
    assert result == list(result)  # still the list of issues callers had
    assert validate_file(STUDY, integrity=False).project is None


@pytest.mark.slow
def test_validate_structure_reads_a_100000_selection_project_once(tmp_path: Path) -> None:
    path = _qdpx(tmp_path / "big.qdpx", 100_000)
    with opens_of(path) as opened:
        result = CliRunner().invoke(main, ["validate", "--structure", "gt", "--json", str(path)])
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.output)
    assert report["levels"]["core"] == "core"  # the structure was checked on the model read
    assert len(opened) == 1


def test_validate_structure_of_an_unreadable_model_still_fails_cleanly(tmp_path: Path) -> None:
    # No model (not a REFI root): the structure check falls back to reading, which names the error.
    path = tmp_path / "x.qde"
    path.write_bytes(b'<?xml version="1.0"?><Other/>')
    result = CliRunner().invoke(main, ["validate", "--structure", "gt", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
