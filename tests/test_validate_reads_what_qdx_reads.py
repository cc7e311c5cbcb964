"""`qdx validate` reads what qdx reads (issue 14): NVivo exports are validated as the model they
become, and the grounded-theory check needs a main category under the core.

Oracle: the exports' verdict follows from what other commands do with them — `qdx info` and
`qdx report` read them without error, so they are not "not well-formed XML".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import qdx
from qdx.cli import main
from qdx.model import Code, Project
from qdx.validation.structure import check_structure
from tests.conftest import NVIVO_SAMPLES, need_shared

EXPORTS = [
    "JamMack_value-alignment-survey/Codebook.docx",
    "JamMack_value-alignment-survey/Files.xlsx",
    "JamMack_value-alignment-survey/Memos/Thoughts Journal.docx",
    "DesiQuintans_novelqualcodes/Int01_ID731.xlsx",
    "skdreier_NIrelandNLP/just_icr/J_Denial.txt",
    "skdreier_NIrelandNLP/just_icr",
]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", EXPORTS)
def test_nvivo_exports_validate_as_their_model(name: str) -> None:
    path = need_shared(NVIVO_SAMPLES / name)
    code, out, _err = run("validate", str(path), "--json")
    data = json.loads(out)
    codes = [i["code"] for i in data["issues"]]
    assert "QDX057" in codes  # says how it was validated
    assert not {"QDX050", "QDX053", "QDX055"} & set(codes), data["issues"]  # no XML/schema verdicts
    # The verdict is the model's: the same integrity rules qdx validate applies to a project.
    project = qdx.read(path)
    model_errors = [i for i in qdx.validate(project) if i.severity.value == "error"]
    assert data["valid"] is (not model_errors) and code == (1 if model_errors else 0)


def test_a_broken_refi_file_still_gets_xml_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "broken.qde"
    path.write_bytes(b"<Project xmlns='urn:QDA-XML:project:1.0'><Users>")
    code, out, _err = run("validate", str(path), "--json")
    assert code == 1 and "QDX050" in [i["code"] for i in json.loads(out)["issues"]]


def test_lone_core_category_fails_the_gt_check() -> None:
    lone = Project(
        name="lone",
        is_codebook=True,
        codes=(Code(guid=qdx.model.Guid("00000000-0000-4000-8000-000000000001"), name="Core"),),
    )
    result = check_structure(lone)
    errors = [i for i in result.issues if i.severity.value == "error"]
    assert [i.code for i in errors] == ["GT1"] and "no main category" in errors[0].message
    assert not result.valid


def test_core_with_one_main_category_passes_gt1() -> None:
    g = qdx.model.Guid
    concept = Code(guid=g("00000000-0000-4000-8000-000000000004"), name="concept")
    sub = Code(guid=g("00000000-0000-4000-8000-000000000003"), name="sub", children=(concept,))
    main_cat = Code(guid=g("00000000-0000-4000-8000-000000000002"), name="main", children=(sub,))
    core = Code(guid=g("00000000-0000-4000-8000-000000000001"), name="Core", children=(main_cat,))
    result = check_structure(Project(name="ok", is_codebook=True, codes=(core,)))
    assert "GT1" not in [i.code for i in result.issues]
