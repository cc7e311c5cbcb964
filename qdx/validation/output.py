"""``qdx.write``: the writer of :mod:`qdx.api`, with an optional check of what it wrote.

The check lives here, in the validation layer, because it *is* validation (schema, XML rules
and integrity, as ``qdx validate`` runs them) and the validation layer reads files through
:mod:`qdx.api`; the bare writer below it stays free of validation, so neither layer imports
the other back.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from qdx.api import output_format
from qdx.api import write as write_unchecked
from qdx.errors import InvalidOutputError, Issue, Severity
from qdx.formats import Dialect, Format, Newline
from qdx.model import Project

PathLike = str | os.PathLike[str]

# REFI-QDA formats whose written bytes validate_file reads back (schema + integrity).
_FILE_CHECKED = frozenset({"qdpx", "qde", "qdc"})


def write(
    project: Project,
    target: PathLike | BinaryIO,
    *,
    fmt: str | None = None,
    dialect: Dialect = "refi",
    check: bool = False,
    newline: Newline = "lf",
) -> list[Issue]:
    """Write ``project`` to a path (atomically: temp file + rename) or a binary stream.

    Args:
        project: what to write.
        target: a path or a binary stream.
        fmt: format id; by default taken from the path's extension.
        dialect: ``refi`` (the spec: code points) or ``nvivo`` (UTF-16 units over CRLF text).
        check: validate the output before it replaces the target — the written bytes for
            REFI-QDA formats (schema, XML rules, integrity, as ``qdx validate``), the model's
            integrity for others — and refuse it when any issue is an error.
        newline: ``lf`` (default): in the ``refi`` dialect, CRLF/CR texts are written with LF
            and positions remapped, so text-mode readers such as QualCoder place every passage
            exactly; ``keep``: the text as held (then ``read(write(p)) == p`` for CRLF texts too).

    Returns:
        With ``check``, the issues of the output (warnings and notes; errors raise); else ``[]``.

    Raises:
        UsageError: the format cannot be chosen or cannot be written.
        InvalidOutputError: ``check`` found errors; nothing was written (``issues`` lists them).
        WriteError: the file could not be written; any previous file is intact.
    """
    if not check:
        write_unchecked(project, target, fmt=fmt, dialect=dialect, newline=newline)
        return []
    name = "" if not isinstance(target, str | os.PathLike) else os.fspath(target)
    chosen = output_format(fmt, name)
    label = Path(name).name or f"<{chosen.id} output>"
    _refuse_unholdable(project, chosen, label)
    found: list[Issue] = []
    verify = _verifier(project, chosen, label, found)
    write_unchecked(project, target, fmt=chosen.id, dialect=dialect, newline=newline, verify=verify)
    return found


def _verifier(project: Project, chosen: Format, label: str, found: list[Issue]) -> Callable[[Path], None]:
    """A check of a finished output file that raises InvalidOutputError on errors and
    collects the other issues in ``found``."""

    def verify(path: Path) -> None:
        from qdx.validation.document import validate_file
        from qdx.validation.integrity import check_integrity

        issues = validate_file(path, label=label) if chosen.id in _FILE_CHECKED else check_integrity(project)
        found.extend(issues)
        errors = tuple(i for i in issues if i.severity is Severity.ERROR)
        if errors:
            raise InvalidOutputError(
                f"the {chosen.id} output would not validate ({len(errors)} error(s)); nothing written",
                issues=errors,
                location=label,
            )

    return verify


def _refuse_unholdable(project: Project, chosen: Format, label: str) -> None:
    """Refuse, before writing anything, what a format cannot hold at all, said plainly
    (the schema would only say "Missing child element(s)")."""
    if chosen.id == "qdc" and not project.codes:
        message = (
            "a .qdc codebook must hold at least one code (Codebook-mrt2019.xsd: <Codes> needs a <Code>);"
            " this project has none"
        )
        issue = Issue("QDX060", Severity.ERROR, message, label)
        raise InvalidOutputError(f"{message}; nothing written", issues=(issue,), location=label)
