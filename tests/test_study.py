"""The bundled WeChat Moments study (fixtures/wechat-moments): reproducible, and as designed.

The expectations come from the issue's design and the paper (Table 2 is parsed from the
paper's text when ../shared is present), computed here from the files as read, never from
the generator's own bookkeeping.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

import qdx
from qdx.model import (
    Code,
    Direction,
    Guid,
    Project,
    ProjectIndex,
    TextSelection,
    TextSource,
    ValueKind,
    VariableType,
    iter_codes,
)
from tests.conftest import FIXTURES, SHARED, STUDY, need_shared

LINE = re.compile(r"^A-(\d+)-(\d+) \S")
CJK = re.compile(r"[\u4e00-\u9fff]")
MACQUEEN = ("Brief definition: ", "Full definition: ", "When to use: ", "When not to use: ",
            "Example: ")
GENERATED = [
    *(f"transcripts/interview-{n:02d}.txt" for n in range(1, 21)),
    "project.qdpx", "project-nvivo.qdpx", "coder-b.qdpx", "codebook.qdc",
]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wechat_generate", STUDY / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@pytest.fixture(scope="module")
def project() -> Project:
    return qdx.read(STUDY / "project.qdpx")


@pytest.fixture(scope="module")
def coder_b() -> Project:
    return qdx.read(STUDY / "coder-b.qdpx")


def _texts(p: Project) -> Iterator[TextSource]:
    for source in p.sources:
        assert isinstance(source, TextSource)
        yield source


def _number(source: TextSource) -> int:
    assert source.name is not None
    return int(source.name.split()[-1])


def _codings(p: Project) -> Iterator[tuple[TextSource, TextSelection, Guid, Guid | None]]:
    for source in _texts(p):
        for sel in source.selections:
            for coding in sel.codings:
                yield source, sel, coding.code, coding.creating_user


def _set(p: Project, name: str) -> set[Guid]:
    return {g for s in p.sets if s.name == name for g in s.member_sources}


# --------------------------------------------------------------------------- reproducibility


def test_generator_reproduces_committed_files_byte_for_byte(tmp_path: Path) -> None:
    _generator().generate(tmp_path, tmp_path / "table2-as-printed.qdc")
    for rel in GENERATED:
        assert (tmp_path / rel).read_bytes() == (STUDY / rel).read_bytes(), rel
    printed = (tmp_path / "table2-as-printed.qdc").read_bytes()
    assert printed == (FIXTURES / "table2-as-printed.qdc").read_bytes()


# --------------------------------------------------------------------------- structure


def test_twenty_sources_and_transcript_files_match(project: Project) -> None:
    sources = list(_texts(project))
    assert [_number(s) for s in sources] == list(range(1, 21))
    for s in sources:
        path = STUDY / "transcripts" / f"interview-{_number(s):02d}.txt"
        assert path.read_bytes().decode("utf-8") == s.text


def test_every_line_is_a_labelled_sentence(project: Project) -> None:
    for source in _texts(project):
        assert source.text is not None and source.text.endswith("\n")
        lines = source.text[:-1].split("\n")
        assert 60 <= len(lines) <= 120
        for j, line in enumerate(lines, start=1):
            match = LINE.match(line)
            assert match, line
            assert (int(match[1]), int(match[2])) == (_number(source), j)


def test_codebook_has_65_codes_in_four_levels(project: Project) -> None:
    depths = Counter(len(ancestors) for _code, ancestors in iter_codes(project.codes))
    assert depths == {0: 1, 1: 4, 2: 20, 3: 40}
    assert [c.name for c in project.codes] == ["Privacy paradox behaviour"]
    for code, ancestors in iter_codes(project.codes):
        assert code.is_codable == (len(ancestors) == 3), code.name
        if len(ancestors) == 2:
            assert len(code.children) == 2


def test_concepts_have_macqueen_definitions(project: Project) -> None:
    concepts = [c for c, a in iter_codes(project.codes) if len(a) == 3]
    for concept in concepts:
        assert concept.description is not None
        lines = concept.description.split("\n")
        assert [line[: len(p)] for line, p in zip(lines, MACQUEEN, strict=True)] == list(MACQUEEN)
        assert all(len(line) > len(p) + 10 for line, p in zip(lines, MACQUEEN, strict=True))


def test_corrected_table2_and_no_privacy_paradox_subcategory(project: Project) -> None:
    subs = {c.name: c.description for c, a in iter_codes(project.codes) if len(a) == 2}
    assert subs["Privacy Awareness"] == "Sensitivity and awareness of personal privacy"
    assert subs["Emotional Needs"] == "Emotional satisfaction or recognition gained through sharing"
    assert "Privacy Paradox" not in subs
    assert subs["Sharing-Protection Conflict"] == (
        "The conflict between the desire to share and the need for privacy protection")


def _paper_table2() -> list[tuple[str, str]]:
    """(subcategory, implication) rows of Table 2, parsed from the paper's text."""
    text = need_shared(SHARED / "study" / "wechat-moments-privacy-paradox.txt").read_text("utf-8")
    block = text.split("Table 2: Axial Coding Process", 1)[1].split("4.3. Selective Coding", 1)[0]
    rows = [line.split("\t") for line in block.splitlines() if "\t" in line]
    return [(r[-2].strip(), r[-1].strip()) for r in rows if r[-1].strip() != "Category Implications"]


def test_table2_as_printed_matches_the_paper() -> None:
    printed = qdx.read(FIXTURES / "table2-as-printed.qdc")
    assert printed.is_codebook
    subs = [(c.name, c.description) for c, a in iter_codes(printed.codes) if len(a) == 2]
    assert subs == _paper_table2()
    assert len(subs) == 20


def test_table2_as_printed_shares_guids_with_corrected_codebook(project: Project) -> None:
    printed = ProjectIndex(qdx.read(FIXTURES / "table2-as-printed.qdc"))
    ours = ProjectIndex(qdx.read(STUDY / "codebook.qdc"))
    assert set(printed.codes) <= set(ours.codes)
    renamed = {printed.codes[g].name: ours.codes[g].name for g in printed.codes
               if printed.codes[g].name != ours.codes[g].name}
    assert renamed == {"Privacy Paradox": "Sharing-Protection Conflict"}
    assert ProjectIndex(project).codes.keys() == ours.codes.keys()


# --------------------------------------------------------------------------- coding


def test_researcher_a_codes_only_concepts(project: Project) -> None:
    index = ProjectIndex(project)
    (user,) = project.users
    assert user.name == "Researcher A"
    rows = list(_codings(project))
    assert len(rows) >= 400
    assert all(index.depth[code] == 3 and coder == user.guid for _s, _sel, code, coder in rows)
    per_source = Counter(_number(s) for s, *_ in rows)
    assert all(25 <= per_source[n] <= 40 for n in range(1, 21)), per_source


def test_coding_sample_grounds_every_concept_and_saturation_adds_nothing(project: Project) -> None:
    index = ProjectIndex(project)
    coding, held_out = _set(project, "Coding sample"), _set(project, "Saturation sample")
    assert {_number(s) for s in _texts(project) if s.guid in coding} == set(range(1, 16))
    assert {_number(s) for s in _texts(project) if s.guid in held_out} == set(range(16, 21))
    grounded: dict[Guid, set[Guid]] = defaultdict(set)
    for source, _sel, code, _coder in _codings(project):
        grounded[code].add(source.guid)
    concepts = {c.guid for c, a in iter_codes(project.codes) if len(a) == 3}
    assert all(len(grounded[c] & coding) >= 2 for c in concepts)
    seen_first = {c for c in concepts if grounded[c] & coding}
    seen_later = {c for c in concepts if grounded[c] & held_out}
    assert seen_later <= seen_first  # no new concept, hence no new (sub/main) category
    parents = {parent.guid for c in seen_later if (parent := index.parents[c]) is not None}
    assert parents == {c.guid for c, a in iter_codes(project.codes) if len(a) == 2}


def test_concepts_emerge_gradually_within_the_coding_sample(project: Project) -> None:
    first: dict[Guid, int] = {}
    for source, _sel, code, _coder in sorted(_codings(project), key=lambda row: _number(row[0])):
        first.setdefault(code, _number(source))
    introducing = sorted(set(first.values()))
    assert len(first) == 40
    assert len(introducing) >= 8 and 8 <= introducing[-1] <= 15


def test_selections_are_within_text_and_some_overlap(project: Project) -> None:
    overlaps = 0
    for source in _texts(project):
        assert source.text is not None
        spans = sorted((s.start, s.end) for s in source.selections)
        assert all(0 <= a < b <= len(source.text) for a, b in spans)
        overlaps += sum(b1 > a2 for (_a1, b1), (a2, _b2) in itertools.pairwise(spans))
    assert overlaps >= 10


def test_coded_passages_contain_astral_emoji_and_cjk(project: Project) -> None:
    coded = [seg.text or "" for seg in qdx.segments(project)]
    astral = [t for t in coded if any(ord(ch) > 0xFFFF for ch in t)]
    assert len(astral) >= 10
    assert sum(bool(CJK.search(t)) and any(ord(ch) > 0xFFFF for ch in t) for t in coded) >= 5


def test_nvivo_dialect_gives_the_same_segments(project: Project) -> None:
    nvivo = qdx.read(STUDY / "project-nvivo.qdpx")
    rows = [s.as_dict() for s in qdx.segments(project)]
    assert rows == [s.as_dict() for s in qdx.segments(nvivo)]
    raw = (STUDY / "project-nvivo.qdpx").read_bytes()
    assert raw != (STUDY / "project.qdpx").read_bytes()


# --------------------------------------------------------------------------- second coder


def test_researcher_b_codes_transcripts_1_to_5_independently(project: Project, coder_b: Project) -> None:
    names = {u.guid: u.name for u in coder_b.users}
    by_guid = {s.guid: s for s in _texts(project)}
    b_rows = list(_codings(coder_b))
    assert b_rows and {names[coder] for *_x, coder in b_rows if coder} == {"Researcher B"}
    assert {_number(s) for s, *_ in b_rows} == set(range(1, 6))
    for source in _texts(coder_b):
        assert by_guid[source.guid].text == source.text
    a_sel = {sel.guid for _s, sel, *_x in _codings(project)}
    a_keys = {(s.guid, sel.start, sel.end, code) for s, sel, code, _c in _codings(project)}
    assert not {sel.guid for _s, sel, *_x in b_rows} & a_sel
    assert not {(s.guid, sel.start, sel.end, code) for s, sel, code, _c in b_rows} & a_keys


def _kappa(tu: int, a: set[int], b: set[int]) -> float:
    """Cohen's kappa over characters, NVivo's count form (METHODS.md §A.1)."""
    ta = tu - len(a | b) + len(a & b)
    ef = len(a) * len(b) / tu + (tu - len(a)) * (tu - len(b)) / tu
    return 1.0 if ef == tu else (ta - ef) / (tu - ef)


def test_kappa_a_vs_b_is_moderate_to_substantial_for_most_pairs(project: Project, coder_b: Project) -> None:
    chars: dict[tuple[Guid, Guid, str], set[int]] = defaultdict(set)
    size = {s.guid: len(s.text or "") for s in _texts(project)}
    for side, p in (("A", project), ("B", coder_b)):
        for source, sel, code, _coder in _codings(p):
            if _number(source) <= 5:
                chars[(source.guid, code, side)].update(range(sel.start, sel.end))
    pairs = {(s, c) for s, c, _side in chars}
    kappas = [_kappa(size[s], chars[(s, c, "A")], chars[(s, c, "B")]) for s, c in pairs]
    in_band = sum(0.5 <= k <= 0.85 for k in kappas)
    assert len(kappas) >= 80
    assert in_band / len(kappas) > 0.5
    assert sum(k == 1.0 for k in kappas) == 0  # never identical


# --------------------------------------------------------------------------- cases, memos, links


def test_cases_variables_sets(project: Project) -> None:
    types = {v.name: v.type for v in project.variables}
    assert types == {"gender": VariableType.TEXT, "age": VariableType.INTEGER,
                     "education": VariableType.TEXT, "occupation": VariableType.TEXT,
                     "daily_moments_minutes": VariableType.INTEGER}
    var_name = {v.guid: v.name for v in project.variables}
    assert len(project.cases) == 20
    assert {g for c in project.cases for g in c.source_refs} == {s.guid for s in project.sources}
    genders: Counter[str | None] = Counter()
    for case in project.cases:
        values = {var_name[v.variable]: v for v in case.variable_values}
        assert set(values) == set(types)
        assert 20 <= int(values["age"].value or "") <= 30
        assert values["age"].kind is ValueKind.INTEGER
        genders[values["gender"].value] += 1
    assert genders == {"Female": 10, "Male": 10}


def test_memos_and_links(project: Project) -> None:
    notes = {n.guid: n for n in project.notes}
    (core,) = project.codes
    mains: tuple[Code, ...] = core.children
    assert all(len(m.note_refs) == 1 and notes[m.note_refs[0]].text for m in mains)
    assert len(project.note_refs) == 1 and project.note_refs[0] in notes
    assert {(ln.origin, ln.target, ln.direction) for ln in project.links} == {
        (m.guid, core.guid, Direction.ONE_WAY) for m in mains}  # each main category shapes the core


def test_qdx_info_json_counts(project: Project) -> None:
    from qdx.cli import main

    result = CliRunner().invoke(main, ["info", "--json", str(STUDY / "project.qdpx")])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert (info["sources"], info["codes"], info["cases"], info["sets"], info["links"]) == (
        20, 65, 20, 2, 4)
    assert info["codings"] == len(list(_codings(project)))
