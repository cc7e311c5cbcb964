"""``qdx info PATH``: what a project or codebook holds, and what the reader noticed.

Prints ``key: value`` lines, or with ``--json`` one object with at least format, origin,
position_unit, users, codes, sources, selections, codings, notes, cases, variables, sets,
max_code_depth, quirks and issues (a count; ``issue_list`` has the details).
"""

from __future__ import annotations

import click

from qdx.cli._common import (
    archive_limits,
    choice,
    echo,
    emit_json,
    handle_errors,
    json_option,
    load,
    position_unit_option,
)
from qdx.model import Project, iter_codes, iter_selections
from qdx.options import PositionUnit
from qdx.safety import Limits

UNIT_CHOICE = choice(PositionUnit)


@click.command()
@click.argument("path", type=click.Path(dir_okay=True))
@position_unit_option()
@json_option
@archive_limits
@handle_errors
def info(path: str, unit: PositionUnit | None, as_json: bool, limits: Limits) -> None:
    """Summarise PATH (.qdpx, .qde, .qdc or an NVivo export): counts, producer, quirks."""
    project = load(path, limits=limits, unit=unit)
    data = summary(project)
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        if key == "issue_list":
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        if key == "issues" and value:
            shown = f"{value} ({_by_code(project)})"
        echo(f"{key:>15}: {'' if shown is None else shown}")


def _by_code(project: Project) -> str:
    from collections import Counter

    counts = Counter(i.code for i in (project.provenance.issues if project.provenance else ()))
    return ", ".join(f"{code} x{n}" for code, n in sorted(counts.items()))


def summary(project: Project) -> dict[str, object]:
    """Counts and provenance of ``project`` as a JSON-ready dict."""
    prov = project.provenance
    codes = list(iter_codes(project.codes))
    selections = [sel for src in project.sources for sel in iter_selections(src)]
    codings = sum(len(sel.codings) for sel in selections) + sum(len(src.codings) for src in project.sources)
    issues = list(prov.issues) if prov else []
    return {
        "name": project.name,
        "format": prov.fmt if prov else None,
        "origin": project.origin,
        "position_unit": prov.position_unit if prov else None,
        "codebook": project.is_codebook,
        "users": len(project.users),
        "codes": len(codes),
        "max_code_depth": max((len(anc) + 1 for _, anc in codes), default=0),
        "sources": len(project.sources),
        "selections": len(selections),
        "codings": codings,
        "notes": len(project.notes),
        "cases": len(project.cases),
        "variables": len(project.variables),
        "sets": len(project.sets),
        "links": len(project.links),
        "graphs": len(project.graphs),
        "quirks": list(prov.quirks) if prov else [],
        "issues": len(issues),
        "issue_list": [issue.as_dict() for issue in issues],
    }
