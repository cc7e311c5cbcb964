"""``qdx report PATH -o report.html``: the self-contained HTML report (qdx/report/html.py)."""

from __future__ import annotations

import click

from qdx.cli._common import echo, emit_json, load, refuse_overwriting_input
from qdx.safety import Limits


def write_html_report(path: str, output: str, compare: str | None, as_json: bool, limits: Limits) -> None:
    """Read PATH (and the compared project), write the page atomically, say what it holds."""
    from qdx.report.html import html_report

    refuse_overwriting_input(output, path, *([compare] if compare else []))
    project = load(path, limits=limits)
    other = load(compare, limits=limits) if compare else None
    page = html_report(project, output, compare=other, input_name=click.format_filename(path),
                       compare_name=click.format_filename(compare) if compare else None)
    sections = page.sections
    total = int(sections.matrix.to_numpy()[[i for i, k in enumerate(sections.matrix.attrs["row_keys"])
                                             if len(sections.corpus.tree.paths[k]) == 1]].sum())
    summary = {"output": output, "codes": len(sections.codebook.entries), "quotes": len(sections.corpus.segments),
               "matrix_total": total, "codings": len(sections.corpus.codings), "notes": sections.notes}
    if as_json:
        emit_json(summary)
        return
    size = len(page.html.encode("utf-8"))
    echo(f"wrote {output}: {summary['codes']} codes, {summary['quotes']} quotes, {size / 1e6:.1f} MB, "
               "one self-contained page")
    echo(f"Matrix total {total} of {summary['codings']} codings")
    for note in sections.notes:
        echo(f"note: {note}")
