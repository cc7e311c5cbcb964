"""Attributes outside the schema on selections and codings are listed as not carried over by
``convert``, like those on codes and sources: the model has no place for them.

The oracle is the hand-written file below and schemas/project.xsd: ``color``, ``weight``,
``tag``, ``score`` and ``zoom`` are no attribute of PlainTextSelection, Coding or PDFSelection
there, while everything else in the file is. Text selections take two reading paths (the bulk
loop for one-coding selections, the general one otherwise); both are covered.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import qdx
from qdx.cli import main

G = "00000000-0000-4000-8000-{:012d}"
SELECTION = '<PlainTextSelection guid="{g}" startPosition="{s}" endPosition="{e}"{extra}>'
CODING = f'<Coding guid="{{g}}"{{extra}}><CodeRef targetGUID="{G.format(1)}"/></Coding>'


def _selection(n: int, start: int, end: int, extra: str = "", coding_extra: str = "", codings: int = 1) -> str:
    inner = "".join(CODING.format(g=G.format(100 + 10 * n + i), extra=coding_extra if i == 0 else "")
                    for i in range(codings))  # fmt: skip
    return SELECTION.format(g=G.format(10 + n), s=start, e=end, extra=extra) + inner + "</PlainTextSelection>"


PROJECT = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="outside">
  <CodeBook><Codes><Code guid="{G.format(1)}" name="c" isCodable="true"/></Codes></CodeBook>
  <Sources>
    <TextSource guid="{G.format(2)}" name="t">
      <PlainTextContent>alpha beta gamma delta</PlainTextContent>
      {_selection(1, 0, 5, ' color="red"', ' weight="2"')}
      {_selection(2, 6, 10, ' color="blue"')}
      {_selection(3, 11, 16)}
      {_selection(4, 17, 22, ' tag="x"', ' score="1"', codings=2)}
    </TextSource>
    <PDFSource guid="{G.format(3)}" name="p" path="absolute:///nowhere/p.pdf">
      <PDFSelection guid="{G.format(4)}" page="0" firstX="1" firstY="2" secondX="30" secondY="40" zoom="2">
        {CODING.format(g=G.format(5), extra="")}
      </PDFSelection>
    </PDFSource>
  </Sources>
</Project>
"""


def test_selection_and_coding_attributes_outside_the_schema_are_listed(tmp_path: Path) -> None:
    source = tmp_path / "in.qde"
    source.write_text(PROJECT, encoding="utf-8")
    result = CliRunner().invoke(main, ["convert", str(source), str(tmp_path / "out.qde")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("qdx: not carried over:")]
    carried = sorted(lines, key=lambda line: line.partition(" attribute ")[2])
    expected = [
        ("color", "PlainTextSelection", " on 2 <PlainTextSelection> elements (first here)"),
        ("score", "Coding", ""),
        ("tag", "PlainTextSelection", ""),
        ("weight", "Coding", ""),
        ("zoom", "PDFSelection", ""),
    ]
    assert len(carried) == len(expected), carried
    for line, (name, tag, many) in zip(carried, expected, strict=True):
        assert line.endswith(f"attribute {name} of <{tag}> is outside the REFI-QDA schema; not carried over{many}")
    # The data the schema does know is all there.
    back = qdx.read(tmp_path / "out.qde")
    assert sum(len(sel.codings) for src in back.sources for sel in src.selections) == 6


def test_a_file_with_only_schema_attributes_lists_nothing(tmp_path: Path) -> None:
    plain = PROJECT
    for extra in (' color="red"', ' color="blue"', ' weight="2"', ' tag="x"', ' score="1"', ' zoom="2"'):
        plain = plain.replace(extra, "")
    source = tmp_path / "in.qde"
    source.write_text(plain, encoding="utf-8")
    result = CliRunner().invoke(main, ["convert", str(source), str(tmp_path / "out.qde")])
    assert result.exit_code == 0, result.output
    assert "not carried over" not in result.output
