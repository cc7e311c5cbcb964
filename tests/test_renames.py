"""Renames and moves without shared GUIDs: diff and merge pair codes by content (qdx.ops.renames).

The constructed inputs are the bundled study project and a copy whose every code GUID is
re-minted (as an NVivo rebuild or an ATLAS.ti export does), with codes renamed and moved.
The oracle is the construction itself: which code became which is known here.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import qdx
from qdx.cli import main
from qdx.model import Code, Guid, Project, ProjectIndex, iter_codes
from qdx.ops.diff import diff
from qdx.ops.merge import merge
from qdx.ops.merge3 import merge3
from qdx.ops.pairing import match_codes, remap_guids
from qdx.ops.renames import pair_by_content

STUDY = Path(__file__).resolve().parent.parent / "fixtures" / "wechat-moments" / "project.qdpx"
RENAMED = ("Private-only posting", "Posting to myself")  # a leaf: same description and codings
MOVED = "Time-limited visibility"  # a leaf moved under another category
TARGET = "Social Media Features"
BOTH = ("Mentions and location tags", "@-mentions and places")  # renamed and moved


@pytest.fixture(scope="module")
def study() -> Project:
    if not STUDY.exists():
        pytest.skip("study fixture absent")
    return qdx.read(STUDY)


def by_name(p: Project, name: str) -> Code:
    return next(c for c, _ in iter_codes(p.codes) if c.name == name)


def reminted(p: Project) -> Project:
    """Every code under a new GUID (codings, sets and cases follow), nothing else changed."""
    remap = {c.guid.key: Guid(str(uuid.uuid5(uuid.NAMESPACE_URL, c.guid.key))) for c, _ in iter_codes(p.codes)}
    return remap_guids(p, remap)


def _without(codes: tuple[Code, ...], name: str) -> tuple[Code, ...]:
    return tuple(replace(c, children=_without(c.children, name)) for c in codes if c.name != name)


def _under(codes: tuple[Code, ...], parent: str, new: Code) -> tuple[Code, ...]:
    return tuple(
        replace(c, children=(*c.children, new) if c.name == parent else _under(c.children, parent, new)) for c in codes
    )


def _renamed(codes: tuple[Code, ...], old: str, new: str) -> tuple[Code, ...]:
    return tuple(
        replace(c, name=new if c.name == old else c.name, children=_renamed(c.children, old, new)) for c in codes
    )


def edited(p: Project) -> Project:
    """Rename one code, move another, rename-and-move a third (GUIDs as they are)."""
    codes = _renamed(p.codes, *RENAMED)
    moved = by_name(p, MOVED)
    codes = _under(_without(codes, MOVED), TARGET, moved)
    both = replace(by_name(p, BOTH[0]), name=BOTH[1])
    codes = _under(_without(codes, BOTH[0]), "Privacy Awareness", both)
    return replace(p, codes=codes)


def test_diff_reports_renames_and_moves_with_scores(study: Project) -> None:
    other = reminted(edited(study))
    result = diff(study, other, match="content")
    codes = [c for c in result if c.area == "codes" and c.kind not in {"guid-changed"}]
    assert not [c for c in codes if c.kind in {"added", "removed"}]
    kinds = {(c.kind, c.get("code")): c for c in codes if c.get("match") == "content"}
    assert kinds[("renamed", RENAMED[0])].after == RENAMED[1]
    assert kinds[("renamed", BOTH[0])].after == BOTH[1] and ("moved", BOTH[0]) in kinds
    # A move that kept its (unique) name is paired by the name, before content is tried.
    (move,) = [c for c in codes if c.get("code") == MOVED]
    assert (move.kind, move.get("match"), move.after[-1]) == ("moved", "name", TARGET)  # type: ignore[index]
    for change in kinds.values():
        score = change.get("similarity")
        assert isinstance(score, float) and 0.6 <= score <= 1.0
    # Codings of the renamed codes are the same passages: no coding change at all.
    assert not [c for c in result if c.area == "codings"]
    assert result.matching["codes"]["content"] == 2


def test_threshold_and_score_of_a_rename(study: Project) -> None:
    other = reminted(edited(study))
    a, b = ProjectIndex(study), ProjectIndex(other)
    paired = pair_by_content(a, b, match_codes(a, b, "name"), threshold=0.6)
    key_b = by_name(other, RENAMED[1]).guid.key
    assert paired.b_to_a[key_b] == by_name(study, RENAMED[0]).guid.key
    # Same description (weight 2), same codings (3), same parent (1), no children: the score
    # is (ratio(names) + 6) / 7, with the name ratio computed here independently.
    import difflib

    ratio = difflib.SequenceMatcher(None, RENAMED[0].casefold(), RENAMED[1].casefold()).ratio()
    assert paired.scores[key_b] == pytest.approx((ratio + 6) / 7, abs=1e-4)
    strict = pair_by_content(a, b, match_codes(a, b, "name"), threshold=0.99)
    assert key_b not in strict.b_to_a


def test_unrelated_codes_are_not_paired(study: Project) -> None:
    """A code deleted and an unrelated one created (other description, no shared codings)."""
    gone = by_name(study, RENAMED[0])
    fresh = Code(guid=Guid(str(uuid.uuid4())), name="Weather talk", description="Talking about the weather.")
    other = replace(study, codes=_under(_without(study.codes, RENAMED[0]), "Sharing-Protection Conflict", fresh))
    other = replace(other, sources=study.sources)  # codings of the deleted code stay, dangling
    kinds = {(c.kind, c.get("code")) for c in diff(study, other) if c.area == "codes"}
    assert ("removed", gone.name) in kinds and ("added", "Weather talk") in kinds


def test_merge_pairs_renamed_codes(study: Project) -> None:
    other = reminted(edited(study))
    merged = merge(study, other, match="content", policy="theirs").project
    names = [c.name for c, _ in iter_codes(merged.codes)]
    assert len(names) == len(list(iter_codes(study.codes)))  # no code twice
    assert RENAMED[1] in names and BOTH[1] in names and RENAMED[0] not in names
    # Three-way: the lead's copy (base) and a coder's rebuilt copy with renames and moves.
    three = merge3(study, study, other, match="content")
    assert three.conflicts == ()
    got = {c.name: [a.name for a in anc] for c, anc in iter_codes(three.project.codes)}
    assert got[MOVED][-1] == TARGET and got[BOTH[1]][-1] == "Privacy Awareness" and RENAMED[1] in got
    assert len(got) == len(list(iter_codes(study.codes)))


def test_cli_diff_shows_the_pairing(tmp_path: Path, study: Project) -> None:
    a, b = tmp_path / "a.qdpx", tmp_path / "b.qdpx"
    qdx.write(study, a)
    qdx.write(reminted(edited(study)), b)
    run = CliRunner().invoke(main, ["diff", str(a), str(b), "--match", "content"])
    assert run.exit_code == 1
    line = next(x for x in run.output.splitlines() if "renamed" in x and RENAMED[1] in x)
    assert f"'{RENAMED[0]}' -> '{RENAMED[1]}' (similarity 0." in line
    assert "possible renames" not in run.output  # paired already: nothing to suggest
    strict = CliRunner().invoke(main, ["diff", str(a), str(b), "--match", "content", "--similarity", "1"])
    assert "similarity" not in strict.output and "+ Privacy paradox behaviour" in strict.output


def test_cli_diff_default_offers_renames_without_pairing_them(tmp_path: Path, study: Project) -> None:
    """The default (path, as merge's) leaves a renamed code removed and added, and lists the
    pairing --match content would make after the changes, with its score."""
    a, b = tmp_path / "a.qdpx", tmp_path / "b.qdpx"
    qdx.write(study, a)
    qdx.write(reminted(edited(study)), b)
    run = CliRunner().invoke(main, ["diff", str(a), str(b)])
    assert run.exit_code == 1
    lines = run.output.splitlines()
    heading = next(i for i, x in enumerate(lines) if x.startswith("possible renames and moves"))
    assert "--match content" in lines[heading]
    before = lines[:heading]
    assert any(x.startswith("  - ") and x.endswith(f"> {RENAMED[0]}") for x in before)
    assert any(x.startswith("  + ") and x.endswith(f"> {RENAMED[1]}") for x in before)
    offered = next(x for x in lines[heading:] if "renamed" in x and RENAMED[1] in x)
    assert f"'{RENAMED[0]}' -> '{RENAMED[1]}' (similarity 0." in offered
    document = json.loads(CliRunner().invoke(main, ["diff", str(a), str(b), "--json"]).stdout)
    assert "content" not in document["matching"]["codes"]  # nothing paired by content
    offered_json = [c for c in document["possible_renames"] if c["kind"] == "renamed" and c["code"] == RENAMED[0]]
    assert offered_json and offered_json[0]["after"] == RENAMED[1] and 0.6 <= offered_json[0]["similarity"] <= 1
