"""``qdx audit PATH [PATH ...]``: codebook consistency findings (rules in docs/rules.md).

Exit status: 1 when any finding has severity error, else 0 (2 for usage errors).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click

from qdx.cli._common import (
    archive_limits,
    echo,
    emit_json,
    handle_errors,
    json_option,
    load,
    refuse_overwriting_input,
)
from qdx.errors import Severity
from qdx.safety import Limits


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Also write the findings to this .xlsx workbook.")
@click.option("--skip", default="", help="Rule codes not to report, e.g. CB2,CB12.")
@click.option("--core", default=None, help="Name of the core category (for CB15) if the codebook lacks it.")
@json_option
@archive_limits
@handle_errors
def audit(paths: tuple[str, ...], output: str | None, skip: str, core: str | None, as_json: bool,
          limits: Limits) -> None:
    """Audit the codebook of each PATH (.qdpx, .qde, .qdc, NVivo Codebook.docx).

    With several PATHs the same code (by GUID, else by path) is also compared across them.
    Prints one line per finding, or with --json a list of
    {"rule", "name", "severity", "code_path", "message", "file"}.
    """
    from qdx.report.analysis_sheets import write_audit
    from qdx.report.output import require_suffix
    from qdx.safety import atomic_write
    from qdx.validation.audit import audit as run_audit

    if output:
        require_suffix(output, (".xlsx",), "the findings")  # before any work
    projects = [load(path, limits=limits) for path in paths]
    findings = run_audit(*projects, labels=_labels(paths), core=core,
                         skip=[s.strip() for s in skip.split(",") if s.strip()])
    if output:
        refuse_overwriting_input(output, *paths)
        name = ", ".join(_labels(paths))
        atomic_write(output, lambda stream: write_audit(findings, stream, project=name))
    if as_json:
        emit_json([f.as_dict() for f in findings])
    else:
        for f in findings:
            where = f"{f.file}: " if f.file and len(paths) > 1 else ""
            echo(f"{where}{f.code_path or '-'}: {f.severity.value} {f.rule} {f.name}: {f.message}")
        counts = Counter(f.severity.value for f in findings)
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no findings"
        echo(f"{len(findings)} finding(s) ({summary})" if findings else summary)
    sys.exit(1 if any(f.severity is Severity.ERROR for f in findings) else 0)


def _labels(paths: tuple[str, ...]) -> list[str]:
    """File names, or the paths as given when two inputs share a name."""
    names = [Path(p).name for p in paths]
    return names if len(set(names)) == len(names) else list(paths)
