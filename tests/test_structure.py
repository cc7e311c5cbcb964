"""Grounded-theory structure check (qdx.validation.structure, `qdx validate --structure gt`).

Oracles: the study's published structure (1 core category "Privacy paradox behaviour", 4 main
categories, 20 subcategories, 40 concepts: README of the study, paper §4.1-4.3) and, for each
broken variant, the single defect built into it by hand (fixtures/structure/gt.py).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

import qdx
from qdx.cli import main
from qdx.errors import Severity, UsageError
from qdx.model import Code, Link, Project, Set
from qdx.validation.codes import fold_name
from qdx.validation.structure import check_structure, load_profile, parse_expect
from tests.conftest import load_module

ROOT = Path(__file__).resolve().parent.parent
STRUCTURE = ROOT / "fixtures" / "structure"
STUDY_PROJECT = ROOT / "fixtures" / "wechat-moments" / "project.qdpx"
PUBLISHED = {"core": "Privacy paradox behaviour", "main": 4, "subcategories": 20, "concepts": 40}


def _load_gt() -> ModuleType:
    return load_module(STRUCTURE / "gt.py", "qdx_fixture_gt")


gt = _load_gt()


def _codes(result: object) -> list[str]:
    return [issue.code for issue in result.issues]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- the valid study


def test_valid_in_memory_study_has_published_levels_and_no_issue() -> None:
    result = check_structure(gt.wechat_like(), expect={"concepts": 40, "subcategories": 20, "main": 4})
    assert result.issues == ()
    assert result.valid
    assert result.levels.as_dict() == PUBLISHED


def test_bundled_study_project_matches_published_structure() -> None:
    if not STUDY_PROJECT.exists():
        pytest.skip("fixtures/wechat-moments/project.qdpx not generated yet")
    project = qdx.read(STUDY_PROJECT)
    result = check_structure(project, expect={"concepts": 40, "subcategories": 20, "main": 4})
    assert [i for i in result.issues if i.severity is Severity.ERROR] == []
    assert result.levels.as_dict() == PUBLISHED


def test_check_does_not_change_its_input() -> None:
    project = gt.BROKEN["GT6"]()[0]
    before = copy.deepcopy(project)
    check_structure(project, expect={"concepts": 1})
    assert project == before


# --------------------------------------------------------------------------- one variant per rule


@pytest.mark.parametrize("variant", sorted(gt.BROKEN))
def test_each_broken_variant_trips_exactly_its_rule(variant: str) -> None:
    project, path = gt.BROKEN[variant]()
    rule = variant.split("-")[0]
    expect = {"concepts": 41} if rule == "GT8" else None
    result = check_structure(project, expect=expect)
    assert set(_codes(result)) == {rule}
    assert [i.location for i in result.issues] == [path or None]


@pytest.mark.parametrize("variant", sorted(v for v in gt.BROKEN if v != "GT8"))
def test_committed_variant_files_trip_their_rule(variant: str) -> None:
    project = qdx.read(STRUCTURE / f"broken-{variant}.qde")
    result = check_structure(project)
    assert {i.code for i in result.issues} == {variant.split("-")[0]}
    assert [i.location for i in result.issues] == [gt.BROKEN[variant]()[1]]


def test_committed_valid_file_is_clean() -> None:
    result = check_structure(qdx.read(STRUCTURE / "valid.qde"))
    assert result.issues == () and result.levels.as_dict() == PUBLISHED


def test_severities_of_rules() -> None:
    severity = {}
    for variant, build in gt.BROKEN.items():
        project, _ = build()
        result = check_structure(project, expect={"concepts": 41} if variant == "GT8" else None)
        severity[variant] = result.issues[0].severity
    errors = {"GT1", "GT5", "GT7", "GT7-extra", "GT8", "GT12"}
    assert {v for v, s in severity.items() if s is Severity.ERROR} == errors


# --------------------------------------------------------------------------- finding the core


def _roots_mode(core_description: str | None = None, links: bool = False) -> Project:
    codes = gt.wechat_codes()
    mains = codes.children
    roots: tuple[Code, ...] = mains
    extra: dict[str, object] = {}
    if core_description is not None:
        core = Code(guid=gt.guid("core"), name=gt.CORE, description=core_description)
        roots = (core, *mains)
        if links:
            extra["links"] = tuple(Link(guid=gt.guid("l", m.name), origin=m.guid, target=core.guid)
                                   for m in mains)
    return gt.project_from(roots, coded=gt.leaves(codes), **extra)


def test_main_categories_as_roots_need_a_core() -> None:
    result = check_structure(_roots_mode())
    assert _codes(result) == ["GT1"]
    assert result.levels.core is None and result.levels.main == 4


def test_core_given_by_name_when_mains_are_roots() -> None:
    result = check_structure(_roots_mode(), core="privacy PARADOX behaviour")
    # The core is only a name here, so links cannot be checked: one INFO says so.
    assert [(i.code, i.severity) for i in result.issues] == [("GT2", Severity.INFO)]
    assert result.levels.as_dict() == {**PUBLISHED, "core": "privacy PARADOX behaviour"}


def test_core_marked_in_description_and_linked() -> None:
    result = check_structure(_roots_mode("Core category: the study's central category.", links=True))
    assert result.issues == ()
    assert result.levels.as_dict() == PUBLISHED


def test_core_description_naming_every_main_counts_as_linked() -> None:
    text = "[core]\nIntegrates Platform Factors, User Factors, Situational Factors and Social Factors."
    assert check_structure(_roots_mode(text)).issues == ()


def test_core_from_a_marked_set() -> None:
    project = _roots_mode()
    core_set = Set(guid=gt.guid("set"), name="Privacy paradox behaviour", description="Level: core",
                   member_codes=tuple(m.guid for m in project.codes))
    result = check_structure(dataclasses.replace(project, sets=(core_set,)))
    assert result.issues == () and result.levels.as_dict() == PUBLISHED


def test_two_codes_marked_core_is_an_error() -> None:
    project = _roots_mode("Core category")
    mains = list(project.codes)
    mains[1] = dataclasses.replace(mains[1], description="Core category too")
    result = check_structure(dataclasses.replace(project, codes=tuple(mains)))
    assert "GT1" in _codes(result)


def test_empty_project_has_no_core() -> None:
    result = check_structure(Project())
    assert [i.code for i in result.issues if i.severity is Severity.ERROR] == ["GT1"]
    assert result.levels.as_dict() == {"core": None, "main": 0, "subcategories": 0, "concepts": 0}


# --------------------------------------------------------------------------- options


def test_expect_reports_each_mismatch() -> None:
    result = check_structure(gt.wechat_like(), expect=parse_expect("concepts=41, subcategories=19,main=4"))
    assert sorted(i.message for i in result.issues) == [
        "concepts: found 40, expected 41", "subcategories: found 20, expected 19"]
    assert _codes(result) == ["GT8", "GT8"] and not result.valid


@pytest.mark.parametrize("text", ["concepts", "concepts=x", "leaves=3", "main=-1"])
def test_bad_expect_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        parse_expect(text)


def test_min_sources_counts_distinct_sources() -> None:
    # Every concept is coded in exactly 2 sources (built that way): 2 passes, 3 fails all 40.
    assert check_structure(gt.wechat_like(), min_sources=2).issues == ()
    result = check_structure(gt.wechat_like(), min_sources=3)
    assert _codes(result) == ["GT5"] * 40


def test_codebook_skips_grounding_and_says_so() -> None:
    project = dataclasses.replace(gt.wechat_like(), sources=(), is_codebook=True)
    result = check_structure(project)
    assert [(i.code, i.severity) for i in result.issues] == [("GT5", Severity.INFO)]
    assert result.levels.concepts == 40


def test_profile_names_levels_sets_counts_and_skips_rules() -> None:
    profile = load_profile(
        'levels = ["Kernkategorie", "Hauptkategorie", "Subkategorie", "Konzept"]\n'
        'skip = ["gt12"]\nmin_concepts = 3\n[expect]\nconcepts = 40\nmain = 5\n'
    )
    project, _ = gt.BROKEN["GT12"]()
    result = check_structure(project, profile=profile, expect={"main": 4})
    codes = _codes(result)
    assert "GT12" not in codes  # skipped
    assert codes.count("GT4") == 17  # every subcategory has 2 < 3 concepts
    assert "Subkategorie has 2 Konzept(s)" in result.issues[0].message
    assert [i.message for i in result.issues if i.code == "GT8"] == ["concepts: found 34, expected 40"]


@pytest.mark.parametrize("text", ["levels = ['a']", "skip = 3", "skip = ['QDX114']", "nonsense = 1",
                                  "min_sources = -1", "= ="])
def test_bad_profile_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        load_profile(text)


def test_code_silences_a_rule_in_its_description() -> None:
    project, _ = gt.BROKEN["GT4"]()
    core = project.codes[0]
    social = core.children[3]
    sub = dataclasses.replace(social.children[3], description="qdx: ignore GT4")
    social = dataclasses.replace(social, children=(*social.children[:3], sub))
    core = dataclasses.replace(core, children=(*core.children[:3], social))
    assert check_structure(dataclasses.replace(project, codes=(core,))).issues == ()


def test_fold_name_folds_case_space_punctuation_and_width() -> None:
    assert fold_name("Social pressure") == fold_name("social  Pressure") == fold_name("Ｓｏｃｉａｌ-pressure")
    assert fold_name("Social pressure") != fold_name("Social pressures")


# --------------------------------------------------------------------------- CLI


def _write(project: Project, tmp_path: Path, name: str = "p.qde") -> str:
    target = tmp_path / name
    qdx.write(project, target)
    return str(target)


def test_cli_structure_json_has_levels(tmp_path: Path) -> None:
    path = _write(gt.wechat_like(), tmp_path)
    result = CliRunner().invoke(main, ["validate", path, "--structure", "gt", "--json",
                                       "--expect", "concepts=40,subcategories=20,main=4"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["valid"] is True and report["levels"] == PUBLISHED
    assert [i for i in report["issues"] if i["code"].startswith("GT")] == []


def test_cli_structure_error_exits_1_with_location(tmp_path: Path) -> None:
    project, path_label = gt.BROKEN["GT5"]()
    path = _write(project, tmp_path)
    result = CliRunner().invoke(main, ["validate", path, "--structure", "gt", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert [(i["code"], i["location"]) for i in report["issues"]] == [("GT5", path_label)]


def test_cli_core_profile_and_min_sources(tmp_path: Path) -> None:
    path = _write(_roots_mode(), tmp_path)
    profile = tmp_path / "gt.toml"
    profile.write_text("skip = ['GT2']\n[expect]\nmain = 4\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", path, "--structure", "gt", "--core", gt.CORE,
                                       "--profile", str(profile), "--min-sources", "3"])
    assert result.exit_code == 1
    assert result.output.count(" error GT5 ") == 40
    assert "levels: core 'Privacy paradox behaviour', 4 main, 20 subcategories, 40 concepts" in result.output


def test_cli_without_structure_has_no_levels(tmp_path: Path) -> None:
    path = _write(gt.wechat_like(), tmp_path)
    result = CliRunner().invoke(main, ["validate", path, "--json"])
    assert "levels" not in json.loads(result.output)


def test_cli_bad_expect_is_usage_error(tmp_path: Path) -> None:
    path = _write(gt.wechat_like(), tmp_path)
    result = CliRunner().invoke(main, ["validate", path, "--structure", "gt", "--expect", "leaves=4"])
    assert result.exit_code == 2


# --------------------------------------------------------------------------- any tree


def _trees() -> object:
    from hypothesis import strategies as st

    names = st.sampled_from(["Core", "A", "B", "a b", "Other", "core x", "其他", "Social pressure", ""])

    def node(children: object) -> object:
        return st.builds(lambda n, c, k: (n, c, k), names, st.booleans(),
                         st.lists(children, max_size=3))  # type: ignore[arg-type]

    return st.lists(st.recursive(st.builds(lambda n, c: (n, c, []), names, st.booleans()), node,
                                 max_leaves=25), max_size=4)


def _build(spec: list[tuple[str, bool, list[object]]], prefix: str = "") -> tuple[Code, ...]:
    return tuple(Code(guid=gt.guid("h", prefix, str(i)), name=name, is_codable=codable,
                      children=_build(children, f"{prefix}.{i}"))  # type: ignore[arg-type]
                 for i, (name, codable, children) in enumerate(spec))


def test_any_tree_gives_consistent_levels_and_never_raises() -> None:
    from hypothesis import given, settings

    from qdx.validation.audit import audit

    @settings(max_examples=60, deadline=None)
    @given(_trees())
    def check(spec: list[tuple[str, bool, list[object]]]) -> None:
        roots = _build(spec)
        project = gt.project_from(roots) if roots else Project()
        before = copy.deepcopy(project)
        result = check_structure(project)
        size = sum(len(_all(r)) for r in roots)
        levels = result.levels
        assert levels.main + levels.subcategories + levels.concepts + (levels.core is not None) <= size
        assert all(i.code in {"GT1", "GT2", "GT3", "GT4", "GT5", "GT6", "GT7", "GT12", "GT13"}
                   for i in result.issues)
        audit(project, project)
        assert project == before

    check()


def _all(code: Code) -> list[Code]:
    return [code, *(c for child in code.children for c in _all(child))]
