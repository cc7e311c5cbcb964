"""Validation: XML Schema, XML-level rules and integrity rules of REFI-QDA 1.0.

* :func:`validate` — integrity rules on a model (any reader's output, or built in memory).
* :func:`validate_file` — everything about a ``.qde``/``.qdc``/``.qdpx`` on disk: schema
  (qdx's own XSDs in ``schemas/``, or a user's), XML-level rules, the reader's issues and the
  integrity rules.

Issue codes: QDX05x concern the file and its schema (see :mod:`qdx.validation.document`),
QDX1xx the integrity of the model (see :mod:`qdx.validation.integrity`); a file's result also
carries the reader's own issues (QDX0xx, :mod:`qdx.formats.refi`).
"""

from __future__ import annotations

from qdx.errors import Issue, Severity
from qdx.model import Project
from qdx.validation.document import validate_bytes, validate_file
from qdx.validation.integrity import check_integrity

__all__ = ["has_errors", "validate", "validate_bytes", "validate_file"]


def validate(project: Project) -> list[Issue]:
    """Integrity issues of ``project``; the input is not changed.

    Args:
        project: a project or codebook.

    Returns:
        Issues with stable codes (QDX101...); none of severity error means the model is sound.

    Example:
        >>> issues = qdx.validate(qdx.read("project.qdpx"))   # doctest: +SKIP
    """
    return check_integrity(project)


def has_errors(issues: list[Issue]) -> bool:
    """True when any issue has severity error (which makes a validation fail)."""
    return any(issue.severity is Severity.ERROR for issue in issues)
