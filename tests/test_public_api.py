"""The public surface: every exported name, its type as a checker sees it, and the error tree."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import qdx
from qdx.errors import QdxError, QdxWarning

ROOT = Path(__file__).parent.parent
USES = Path(__file__).parent / "typing" / "public_uses.py"

# Written out by hand: adding or removing a public name must be a deliberate change here.
PUBLIC = {
    "functions": [
        "agree", "audit", "check_structure", "cooccurrence", "detect", "diff", "export_dataset", "frames", "matrix",
        "merge", "merge3", "read", "saturation", "segments", "validate", "validate_file", "write",
        "codebook", "html_report", "model_figure", "report_sections",
    ],
    "model and options": ["Format", "Limits", "Project", "ProjectIndex"],
    "results": [
        "AgreementResult", "Change", "Conflict", "Conflict3", "DatasetResult", "DiffResult", "FileValidation",
        "Finding", "Frames",
        "Issue", "MergeResult", "SaturationResult", "Segment", "Severity", "StructureResult",
        "CodebookAppendix", "HtmlReport", "ModelFigure", "ReportSections",
    ],
    "errors": [
        "FormatError", "MergeConflictError", "QdxError", "ReadError", "UnsafeInputError", "UsageError", "WriteError",
    ],
    "warnings": ["LossyConversionWarning", "QdxWarning"],
}  # fmt: skip


def test_the_exported_names_are_exactly_the_listed_ones() -> None:
    listed = sorted(name for names in PUBLIC.values() for name in names)
    assert qdx.__all__ == listed


@pytest.mark.parametrize("name", qdx.__all__)
def test_every_exported_name_resolves_to_what_it_says(name: str) -> None:
    value = getattr(qdx, name)
    assert getattr(value, "__name__", None) == name
    if name in PUBLIC["functions"]:
        assert callable(value) and not isinstance(value, type)
    else:
        assert isinstance(value, type)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        qdx.no_such_name  # type: ignore[attr-defined]  # noqa: B018


def test_importing_qdx_imports_none_of_its_modules_nor_heavy_dependencies() -> None:
    # The facade's imports are for type checkers only (the layer contracts rely on it).
    code = (
        "import sys, qdx; print(sorted(m for m in sys.modules"
        " if m.startswith('qdx.') or m in ('lxml', 'pandas', 'openpyxl', 'numpy')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_errors_and_warnings_form_one_tree_each() -> None:
    for name in PUBLIC["errors"]:
        assert issubclass(getattr(qdx, name), QdxError), name
    for name in PUBLIC["warnings"]:
        assert issubclass(getattr(qdx, name), QdxWarning), name
    # Each is drawn in errors.py's docstring, where a reader looks for the tree.
    doc = qdx.errors.__doc__ or ""
    for name in PUBLIC["errors"] + PUBLIC["warnings"]:
        assert re.search(rf"\b{name}\b", doc), f"{name} is missing from the tree in qdx/errors.py"


# Exceptions qdx may raise that are not QdxErrors, and why none of them reaches a user.
NOT_FOR_USERS = {
    ("qdx/__init__.py", "AttributeError"): "the module protocol for an unknown attribute",
    ("qdx/errors.py", "TypeError"): "QdxError('') is a programming error",
    ("qdx/safety/archive.py", "OSError"): "the io protocol: a zip member stream cannot seek backwards",
    ("qdx/safety/output.py", "ValueError"): "the io protocol: a write to an output stream already closed",
    ("qdx/validation/schema.py", "FileNotFoundError"): "the installation lost qdx's own XSDs",
    ("qdx/text.py", "ValueError"): "internal check; qdx.read turns a bad unit into UsageError first",
    ("qdx/analysis/coefficients.py", "ValueError"): "internal: agree() passes only known levels",
}


def _raised_classes() -> list[tuple[str, int, str]]:
    """(module path, line, class name) of every ``raise Name(...)`` in qdx/."""
    found = []
    for path in sorted((ROOT / "qdx").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(target, ast.Name) and target.id[:1].isupper():
                    found.append((path.relative_to(ROOT).as_posix(), node.lineno, target.id))
    return found


def test_every_raise_in_qdx_is_a_qdx_error_or_known_internal() -> None:
    raised = _raised_classes()
    assert len(raised) > 100  # the scan sees the code base
    errors = {name: getattr(qdx.errors, name) for name in dir(qdx.errors)}
    errors["MergeConflictError"] = qdx.MergeConflictError
    strays = [
        f"{path}:{line} raises {name}"
        for path, line, name in raised
        if not (name in errors and isinstance(errors[name], type) and issubclass(errors[name], QdxError))
        and (path, name) not in NOT_FOR_USERS
    ]
    assert strays == []


def test_every_warning_qdx_emits_is_a_qdx_warning() -> None:
    categories = []
    for path in sorted((ROOT / "qdx").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "warn":
                category = node.args[1] if len(node.args) > 1 else next(
                    (k.value for k in node.keywords if k.arg == "category"), None
                )
                categories.append(category.id if isinstance(category, ast.Name) else repr(category))
    assert categories  # the scan sees the writer's warnings
    assert all(issubclass(getattr(qdx.errors, name, object), QdxWarning) for name in categories), categories


def _mypy(*args: str) -> str:
    from mypy import api

    stdout, stderr, _ = api.run(["--strict", "--no-error-summary", "--hide-error-context", *args])
    return stdout + stderr


@pytest.mark.slow
def test_mypy_fails_exactly_on_the_marked_lines() -> None:
    marked = {
        number: match.group(1)
        for number, line in enumerate(USES.read_text(encoding="utf-8").splitlines(), start=1)
        if (match := re.search(r"# E: ([a-z-]+)$", line))
    }
    assert len(marked) >= 10
    reported: dict[int, set[str]] = {}
    output = _mypy(str(USES))
    for line in output.splitlines():
        found = re.match(r".*public_uses\.py:(\d+): error: .*\[([a-z-]+)\]$", line)
        assert found or not line.strip(), line  # nothing but errors in this file
        if found:
            reported.setdefault(int(found.group(1)), set()).add(found.group(2))
    assert {n: {code} for n, code in marked.items()} == reported, output


@pytest.mark.slow
def test_no_exported_name_is_any_to_a_checker(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import qdx\n" + "".join(f"reveal_type(qdx.{name})\n" for name in qdx.__all__))
    output = _mypy(str(probe))
    revealed = re.findall(r'Revealed type is "(.*)"', output)
    assert len(revealed) == len(qdx.__all__), output
    untyped = [name for name, shown in zip(qdx.__all__, revealed, strict=True) if shown == "Any"]
    assert untyped == []
