"""qdx: read, write, validate, audit, diff, merge and report on qualitative research data.

The public API (everything else is internal)::

    project = qdx.read("study.qdpx")          # any REFI-QDA project/codebook or NVivo export
    issues = qdx.validate(project)            # schema-independent integrity Issues
    qdx.write(project, "out.qdpx", dialect="nvivo")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Lazily resolved so `import qdx` (and `qdx --help`) does not import lxml, pandas or openpyxl.
_EXPORTS: dict[str, str] = {
    "read": "qdx.api",
    "write": "qdx.api",
    "detect": "qdx.api",
    "validate": "qdx.validation",
    "validate_file": "qdx.validation",
    "segments": "qdx.segment",
    "Project": "qdx.model",
    "ProjectIndex": "qdx.model",
    "Issue": "qdx.errors",
    "Severity": "qdx.errors",
    "QdxError": "qdx.errors",
    "ReadError": "qdx.errors",
    "WriteError": "qdx.errors",
    "UnsafeInputError": "qdx.errors",
    "check_structure": "qdx.validation.structure",
    "audit": "qdx.validation.audit",
    "diff": "qdx.ops.diff",
    "merge": "qdx.ops.merge",
    "agree": "qdx.analysis.agreement",
    "saturation": "qdx.analysis.saturation",
    "matrix": "qdx.analysis.matrix",
    "cooccurrence": "qdx.analysis.cooccurrence",
    "frames": "qdx.report.frames",
    "codebook": "qdx.report.codebook_doc",
    "model_figure": "qdx.report.model_figure",
    "html_report": "qdx.report.html",
    "report_sections": "qdx.report.sections",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from qdx.api import detect as detect
    from qdx.api import read as read
    from qdx.api import write as write
    from qdx.errors import Issue as Issue
    from qdx.errors import QdxError as QdxError
    from qdx.errors import ReadError as ReadError
    from qdx.errors import Severity as Severity
    from qdx.errors import UnsafeInputError as UnsafeInputError
    from qdx.errors import WriteError as WriteError
    from qdx.model import Project as Project
    from qdx.model import ProjectIndex as ProjectIndex
    from qdx.segment import segments as segments


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'qdx' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
