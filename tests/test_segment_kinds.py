"""Region codings have no text: ``qdx segments`` lists them as regions (page and corners), never
drops them and never makes up a text for them; ``--kind`` narrows the listing (a quote table
wants text passages only).

The oracle is the constructed project itself: one selection of each kind, each coded once, with
the page and corners written below by hand.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import qdx
from qdx.cli import main
from qdx.model import (
    AudioSelection,
    AudioSource,
    Blob,
    Code,
    Coding,
    Guid,
    PDFSelection,
    PDFSource,
    PictureSelection,
    PictureSource,
    Project,
    TextSelection,
    TextSource,
)
from qdx.segment import Region, segments


def g(n: int) -> Guid:
    return Guid(f"00000000-0000-4000-8000-{n:012d}")


CODE = Code(guid=g(1), name="c")


def coded(n: int) -> tuple[Coding, ...]:
    return (Coding(guid=g(500 + n), code=CODE.guid),)


def one_of_each() -> Project:
    return Project(
        codes=(CODE,),
        sources=(
            TextSource(guid=g(10), name="t", text="alpha beta", codings=coded(1),
                       selections=(TextSelection(guid=g(11), start=6, end=10, codings=coded(2)),)),
            PDFSource(guid=g(20), name="p", blob=Blob("pdf", b"%PDF-1.4"),
                      selections=(PDFSelection(guid=g(21), page=0, first_x=10, first_y=20, second_x=110,
                                               second_y=70, codings=coded(3)),)),
            PictureSource(guid=g(30), name="i", blob=Blob("png", b"\x89PNG"),
                          selections=(PictureSelection(guid=g(31), first_x=1, first_y=2, second_x=3, second_y=4,
                                                       codings=coded(4)),)),
            AudioSource(guid=g(40), name="a", blob=Blob("m4a", b"\0audio"),
                        selections=(AudioSelection(guid=g(41), begin=1000, end=2500, codings=coded(5)),)),
        ),
    )  # fmt: skip


def test_every_selection_kind_is_listed_with_what_it_has() -> None:
    got = [(s.source, s.kind, s.start, s.end, s.text, s.region) for s in segments(one_of_each())]
    assert got == [
        ("t", "text", 6, 10, "beta", None),
        ("t", "source", None, None, None, None),
        ("p", "region", None, None, None, Region(0, 10, 20, 110, 70)),
        ("i", "region", None, None, None, Region(None, 1, 2, 3, 4)),
        ("a", "media", 1000, 2500, None, None),
    ]


@pytest.fixture()
def project_file(tmp_path: Path) -> Path:
    path = tmp_path / "kinds.qdpx"
    qdx.write(one_of_each(), path)
    return path


def _json(*args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(main, ["segments", *args, "--json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.output)
    return rows


def test_default_listing_keeps_regions_with_page_and_corners(project_file: Path) -> None:
    rows = _json(str(project_file))
    assert [r["kind"] for r in rows] == ["text", "source", "region", "region", "media"]
    pdf = rows[2]
    assert pdf["text"] is None and pdf["start"] is None
    assert pdf["region"] == {"page": 0, "first_x": 10, "first_y": 20, "second_x": 110, "second_y": 70}
    assert rows[0]["region"] is None


KINDS = [
    ("all", ["t", "t", "p", "i", "a"]),
    ("text", ["t"]),
    ("region", ["p", "i"]),
    ("media", ["a"]),
    ("source", ["t"]),
]


@pytest.mark.parametrize(("kind", "sources"), KINDS)
def test_kind_narrows_the_listing(project_file: Path, kind: str, sources: list[str]) -> None:
    rows = _json(str(project_file), "--kind", kind)
    assert [r["source"] for r in rows] == sources
    assert kind == "all" or {r["kind"] for r in rows} == {kind}


def test_unknown_kind_is_a_usage_error(project_file: Path) -> None:
    result = CliRunner().invoke(main, ["segments", str(project_file), "--kind", "quote"])
    assert result.exit_code == 2


def test_csv_has_kind_and_region_columns(project_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "s.csv"
    result = CliRunner().invoke(main, ["segments", str(project_file), "-o", str(target)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    pdf = next(r for r in rows if r["source"] == "p")
    assert (pdf["kind"], pdf["page"], pdf["first_x"], pdf["first_y"], pdf["second_x"], pdf["second_y"]) == (
        "region", "0", "10", "20", "110", "70")  # fmt: skip
    assert pdf["text"] == ""
    text = next(r for r in rows if r["kind"] == "text")
    assert text["page"] == "" and text["text"] == "beta"


def test_listing_says_where_a_region_is_and_that_it_has_no_text(project_file: Path) -> None:
    result = CliRunner().invoke(main, ["segments", str(project_file)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "p [page 0 (10,20)-(110,70)] c: (no text)" in lines
    assert "i [(1,2)-(3,4)] c: (no text)" in lines
    assert "a [1000:2500 ms] c: (no text)" in lines
    assert "t [whole source] c: (no text)" in lines
    assert "t [6:10] c: beta" in lines
