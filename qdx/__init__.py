"""qdx: read, write, validate, audit, diff, merge and report on qualitative research data.

The public API (everything else is internal)::

    project = qdx.read("study.qdpx")          # any REFI-QDA project/codebook or NVivo export
    issues = qdx.validate(project)            # schema-independent integrity Issues
    qdx.write(project, "out.qdpx", dialect="nvivo")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

# Lazily resolved so `import qdx` (and `qdx --help`) does not import lxml, pandas or openpyxl.
# Every name here is also imported under TYPE_CHECKING below, so checkers see its real type
# (tests/test_public_api.py holds the two lists together).
_EXPORTS: dict[str, str] = {
    # functions
    "read": "qdx.api",
    "write": "qdx.validation.output",
    "detect": "qdx.api",
    "validate": "qdx.validation",
    "validate_file": "qdx.validation",
    "segments": "qdx.segment",
    "check_structure": "qdx.validation.structure",
    "audit": "qdx.validation.audit",
    "diff": "qdx.ops.diff",
    "merge": "qdx.ops.merge",
    "merge3": "qdx.ops.merge3",
    "agree": "qdx.analysis.agreement",
    "saturation": "qdx.analysis.saturation",
    "matrix": "qdx.analysis.matrix",
    "cooccurrence": "qdx.analysis.cooccurrence",
    "frames": "qdx.report.frames",
    # figures, the codebook appendix and the HTML report
    "codebook": "qdx.report.codebook_doc",
    "model_figure": "qdx.report.model_figure",
    "html_report": "qdx.report.html",
    "report_sections": "qdx.report.sections",
    "CodebookAppendix": "qdx.report.codebook_doc",
    "ModelFigure": "qdx.report.model_figure",
    "HtmlReport": "qdx.report.html",
    "ReportSections": "qdx.report.sections",
    "export_dataset": "qdx.report.dataset",
    # the model and options
    "Project": "qdx.model",
    "ProjectIndex": "qdx.model",
    "Limits": "qdx.safety",
    "Format": "qdx.formats",
    # what the functions return
    "Issue": "qdx.errors",
    "Severity": "qdx.errors",
    "FileValidation": "qdx.validation.document",
    "Segment": "qdx.segment",
    "StructureResult": "qdx.validation.structure",
    "Finding": "qdx.validation.audit",
    "DiffResult": "qdx.ops.diff",
    "Change": "qdx.ops.diff",
    "MergeResult": "qdx.ops.merge",
    "Conflict": "qdx.ops.merge",
    "Conflict3": "qdx.ops.merge3",
    "AgreementResult": "qdx.analysis.agreement",
    "SaturationResult": "qdx.analysis.saturation",
    "Frames": "qdx.report.frames",
    "DatasetResult": "qdx.report.dataset",
    # errors and warnings (the tree is drawn in qdx/errors.py)
    "QdxError": "qdx.errors",
    "ReadError": "qdx.errors",
    "UnsafeInputError": "qdx.errors",
    "FormatError": "qdx.errors",
    "WriteError": "qdx.errors",
    "UsageError": "qdx.errors",
    "MergeConflictError": "qdx.ops.merge",
    "QdxWarning": "qdx.errors",
    "LossyConversionWarning": "qdx.errors",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from qdx.analysis.agreement import AgreementResult as AgreementResult
    from qdx.analysis.agreement import agree as agree
    from qdx.analysis.cooccurrence import cooccurrence as cooccurrence
    from qdx.analysis.matrix import matrix as matrix
    from qdx.analysis.saturation import SaturationResult as SaturationResult
    from qdx.analysis.saturation import saturation as saturation
    from qdx.api import detect as detect
    from qdx.api import read as read
    from qdx.errors import FormatError as FormatError
    from qdx.errors import Issue as Issue
    from qdx.errors import LossyConversionWarning as LossyConversionWarning
    from qdx.errors import QdxError as QdxError
    from qdx.errors import QdxWarning as QdxWarning
    from qdx.errors import ReadError as ReadError
    from qdx.errors import Severity as Severity
    from qdx.errors import UnsafeInputError as UnsafeInputError
    from qdx.errors import UsageError as UsageError
    from qdx.errors import WriteError as WriteError
    from qdx.formats import Format as Format
    from qdx.model import Project as Project
    from qdx.model import ProjectIndex as ProjectIndex
    from qdx.ops.diff import Change as Change
    from qdx.ops.diff import DiffResult as DiffResult
    from qdx.ops.diff import diff as diff
    from qdx.ops.merge import Conflict as Conflict
    from qdx.ops.merge import MergeConflictError as MergeConflictError
    from qdx.ops.merge import MergeResult as MergeResult
    from qdx.ops.merge import merge as merge
    from qdx.ops.merge3 import Conflict3 as Conflict3
    from qdx.ops.merge3 import merge3 as merge3
    from qdx.report.codebook_doc import CodebookAppendix as CodebookAppendix
    from qdx.report.codebook_doc import codebook as codebook
    from qdx.report.dataset import DatasetResult as DatasetResult
    from qdx.report.dataset import export_dataset as export_dataset
    from qdx.report.frames import Frames as Frames
    from qdx.report.frames import frames as frames
    from qdx.report.html import HtmlReport as HtmlReport
    from qdx.report.html import html_report as html_report
    from qdx.report.model_figure import ModelFigure as ModelFigure
    from qdx.report.model_figure import model_figure as model_figure
    from qdx.report.sections import ReportSections as ReportSections
    from qdx.report.sections import report_sections as report_sections
    from qdx.safety import Limits as Limits
    from qdx.segment import Segment as Segment
    from qdx.segment import segments as segments
    from qdx.validation import validate as validate
    from qdx.validation import validate_file as validate_file
    from qdx.validation.audit import Finding as Finding
    from qdx.validation.audit import audit as audit
    from qdx.validation.document import FileValidation as FileValidation
    from qdx.validation.output import write as write
    from qdx.validation.structure import StructureResult as StructureResult
    from qdx.validation.structure import check_structure as check_structure
else:
    # Hidden from checkers, so `qdx.no_such_name` is an error to them and not Any.
    def __getattr__(name: str) -> object:
        module_name = _EXPORTS.get(name)
        if module_name is None:
            raise AttributeError(f"module 'qdx' has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(module_name), name)
        globals()[name] = value
        return value
