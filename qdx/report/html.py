"""``report.html``: the whole report as one self-contained, offline HTML file.

Safety (names, quotes and memos come from other people's files):

* every piece of project text travels as JSON inside ``<script type="application/json">``,
  with ``<``, ``>``, ``&``, U+2028 and U+2029 written as ``\\uXXXX`` escapes, so no text can
  close the element or start markup; the page's script inserts it with ``textContent`` and
  never with ``innerHTML``;
* markup made in Python (the model and saturation SVGs) escapes every string it writes;
* a Content-Security-Policy allows only this page's own script and style (by SHA-256 hash):
  no network request of any kind (``default-src 'none'``), no other inline script, no form
  target, no base URL — so even text that somehow became markup could neither run nor load.

Everything is inline (CSS, JS, SVG); the file works from ``file://`` with no server. Quotes
are paginated in the browser (50 per page), so a project of 100,000 coded passages opens fast.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from qdx import __version__
from qdx.model import Project, guid_key
from qdx.report.codebook_data import FIELD_LABELS, CodebookData
from qdx.report.sections import ReportSections, report_sections

if TYPE_CHECKING:
    from qdx.analysis.agreement import AgreementResult
    from qdx.analysis.saturation import SaturationResult

# The page shows at most this many co-occurrence pairs (strongest first) and disagreeing
# passages; the counts say how many there were in all.
MAX_PAIRS = 500
MAX_DISAGREEMENTS = 5000
_PLACEHOLDER = re.compile(r"\{\{([A-Z]+)\}\}")
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_for_script(data: object) -> str:
    """``data`` as JSON safe inside a ``<script>`` element (see the module docstring)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escaped in _JSON_ESCAPES.items():
        text = text.replace(char, escaped)
    return text


def _asset(name: str) -> str:
    return resources.files("qdx.report").joinpath("assets", name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _h(text: object) -> str:
    return html.escape(str(text), quote=True)


# --------------------------------------------------------------------------- data


def _codes(book: CodebookData) -> list[dict[str, Any]]:
    parents: list[int] = []
    out = []
    for index, entry in enumerate(book.entries):
        del parents[entry.depth:]
        example = entry.example
        out.append({
            "name": entry.name, "parent": parents[-1] if parents else -1, "depth": entry.depth,
            "level": entry.level_label, "color": entry.color, "codable": entry.is_codable,
            "fields": [[FIELD_LABELS[k], v] for k, v in entry.fields.items()],
            "refs": entry.references, "srcs": entry.sources, "refsTotal": entry.references_total,
            "srcsTotal": entry.sources_total, "memos": [[m.name, m.text] for m in entry.memos],
            "example": None if example is None else {"text": example.text, "source": example.source,
                                                     "start": example.start, "end": example.end}})
        parents.append(index)
    return out


def _values(project: Project, owners: list[Any]) -> list[dict[str, str]]:
    """Per case (or source): variable name → value as written."""
    names = {guid_key(v.guid): v.name for v in project.variables}
    return [{names.get(guid_key(vv.variable), str(vv.variable)): vv.value or "" for vv in owner.variable_values}
            for owner in owners]


def _quotes(s: ReportSections, code_index: dict[str, int], source_index: dict[str, int],
            coders: dict[str, int]) -> dict[str, list[Any]]:
    corpus = s.corpus
    case_index = {guid_key(c.guid): i for i, c in enumerate(s.project.cases)}
    cases: dict[str, list[int]] = {}
    for coding, case in zip(corpus.case_links["coding"], corpus.case_links["case"], strict=True):
        cases.setdefault(coding, []).append(case_index[case])
    cols: dict[str, list[Any]] = {k: [] for k in ("code", "source", "coder", "start", "end", "text", "cases")}
    for seg in corpus.segments:
        cols["code"].append(code_index.get(guid_key(seg.code_guid), -1))
        cols["source"].append(source_index.get(guid_key(seg.source_guid), -1))
        cols["coder"].append(coders[seg.coder] if seg.coder else -1)
        cols["start"].append(seg.start)
        cols["end"].append(seg.end)
        cols["text"].append(seg.text)
        cols["cases"].append(cases.get(guid_key(seg.coding_guid), []))
    return cols


def _matrix(s: ReportSections, code_index: dict[str, int], source_index: dict[str, int]) -> dict[str, Any]:
    frame = s.matrix
    return {"rows": [code_index[k] for k in frame.attrs["row_keys"]],
            "cols": [source_index[k] for k in frame.attrs["col_keys"]],
            "values": frame.to_numpy().astype(int).tolist()}


def _cooccurrence(s: ReportSections) -> dict[str, Any] | None:
    frame = s.cooccurrence
    if frame is None:
        return None
    rows = [[str(a), str(b), int(na), int(nb), int(nab), round(float(c), 4)]
            for a, b, na, nb, nab, c in zip(frame["code_a"], frame["code_b"], frame["n_a"], frame["n_b"],
                                              frame["n_ab"], frame["c"], strict=True)]
    return {"level": s.cooccurrence_level, "pairs": rows[:MAX_PAIRS], "total": len(rows)}


def _number(value: float) -> float | None:
    return None if value != value else round(value, 4)  # NaN: not computable, shown as n/a


def _agreement(result: AgreementResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    per_code = [[" › ".join(c.code_path), c.summary.rows, _number(c.summary.kappa_pooled),
                 _number(c.summary.agreement), c.summary.table.a_only, c.summary.table.b_only]
                for c in result.per_code]
    passages = [[" › ".join(d.code_path), d.source, d.start, d.end, d.coded_by, d.text]
                for d in result.disagreements[:MAX_DISAGREEMENTS]]
    overall = result.overall
    return {"a": result.label_a, "b": result.label_b, "unit": result.unit, "kappa": _number(overall.kappa_pooled),
            "agreement": _number(overall.agreement), "alpha": _number(overall.alpha),
            "perCode": per_code, "disagreements": passages, "disagreementsTotal": len(result.disagreements),
            "warnings": list(result.warnings)}


def _findings(s: ReportSections, code_index: dict[str, int]) -> list[list[Any]]:
    from qdx.validation.codes import path_label

    by_path = {path_label(e.path): i for i, e in enumerate(s.codebook.entries)}
    rows: list[list[Any]] = []
    for issue in s.structure:
        where = issue.location or ""
        rows.append(["structure", issue.code, issue.severity.value, by_path.get(where, -1), where, issue.message])
    for finding in s.audit:
        rows.append(["audit", finding.rule, finding.severity.value, by_path.get(finding.code_path, -1),
                     finding.code_path, finding.message])
    return rows


def _memos(s: ReportSections, code_index: dict[str, int]) -> list[dict[str, Any]]:
    from qdx.model import iter_codes

    attached: dict[str, list[int]] = {}
    for code, _ in iter_codes(s.project.codes):
        for ref in code.note_refs:
            attached.setdefault(guid_key(ref), []).append(code_index[guid_key(code.guid)])
    return [{"name": n.name or "Memo", "text": n.text or "", "codes": attached.get(guid_key(n.guid), [])}
            for n in s.project.notes]


def report_data(s: ReportSections, *, input_name: str | None = None) -> dict[str, Any]:
    """Everything the page shows except the SVG figures, as JSON-ready data."""
    from qdx.report.overview import overview_rows

    project, corpus = s.project, s.corpus
    code_index = {guid_key(e.guid): i for i, e in enumerate(s.codebook.entries)}
    source_index = {guid_key(src.guid): i for i, src in enumerate(project.sources)}
    coder_names = sorted({c for c in corpus.codings["coder"] if isinstance(c, str) and c})
    coders = {name: i for i, name in enumerate(coder_names)}
    headline = {"Sources": len(project.sources), "Codes": len(s.codebook.entries),
                "Codings": len(corpus.codings), "Cases": len(project.cases), "Coders": len(coder_names),
                "Memos": len(project.notes)}
    return {
        "title": project.name or "Untitled project", "input": input_name, "version": __version__,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "headline": headline,
        "overview": [[str(k), "" if v is None else str(v)] for k, v in overview_rows(project, corpus, input_name)],
        "quoteRule": s.codebook.quote_rule, "codes": _codes(s.codebook),
        "sources": [src.name or str(src.guid) for src in project.sources],
        "cases": [c.name or str(c.guid) for c in project.cases], "coders": coder_names,
        "caseValues": _values(project, list(project.cases)),
        "sourceValues": _values(project, list(project.sources)),
        "quotes": _quotes(s, code_index, source_index, coders), "matrix": _matrix(s, code_index, source_index),
        "cooccurrence": _cooccurrence(s), "agreement": _agreement(s.agreement),
        "saturation": _saturation_summary(s.saturation, s.saturation_how),
        "findings": _findings(s, code_index), "memos": _memos(s, code_index), "notes": list(s.notes),
    }


def _saturation_summary(result: SaturationResult | None, how: str) -> dict[str, Any] | None:
    if result is None:
        return None
    held = result.holdout
    return {"how": how, "total": result.total_codes, "guest": result.guest2020.point,
            "francis": result.francis.point,
            "holdout": None if held is None else {"saturated": held.saturated,
                                                  "newCodes": [" › ".join(c.path) for c in held.new_codes]},
            "points": [[p.document, p.new, p.cumulative, p.held_out] for p in result.curve]}


# --------------------------------------------------------------------------- saturation SVG


def saturation_svg(result: SaturationResult) -> str:
    """The code-discovery curve (cumulative codes per document) as an escaped inline SVG."""
    points = result.curve
    width, height, left, bottom, top, right = 640, 260, 48, 40, 16, 16
    n = max(len(points), 1)
    most = max([p.cumulative for p in points] + [result.total_codes, 1])

    def x(i: int) -> float:
        return left + (width - left - right) * (i + 0.5) / n

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - v / most)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-labelledby="sat-title sat-desc" class="saturation">',
             '<title id="sat-title">Code-discovery curve</title>',
             f'<desc id="sat-desc">{_h(_saturation_alt(result))}</desc>']
    held = [i for i, p in enumerate(points) if p.held_out]
    if held:
        x0 = x(held[0]) - (width - left - right) / n / 2
        parts.append(f'<rect x="{x0:.1f}" y="{top}" width="{width - right - x0:.1f}" height="{height - top - bottom}" '
                     'fill="#F3EBD8"><title>held-out documents</title></rect>')
    for v in sorted({0, most // 2, most}):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#DDD"/>'
                     f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end">{v}</text>')
    line = " ".join(f"{x(i):.1f},{y(p.cumulative):.1f}" for i, p in enumerate(points))
    parts.append(f'<polyline points="{line}" fill="none" stroke="#4E79A7" stroke-width="2.5"/>')
    for i, p in enumerate(points):
        parts.append(f'<circle cx="{x(i):.1f}" cy="{y(p.cumulative):.1f}" r="3.5" fill="#4E79A7">'
                     f"<title>{_h(p.document)}: {p.new} new, {p.cumulative} in all</title></circle>")
    parts.append(f'<text x="{(width + left) / 2:.0f}" y="{height - 8}" font-size="11" text-anchor="middle">'
                 "documents in order (shaded: held out)</text>")
    parts.append("</svg>")
    return "".join(parts)


def _saturation_alt(result: SaturationResult) -> str:
    last = result.curve[-1] if result.curve else None
    reached = f"{last.cumulative} of {result.total_codes} codes after {len(result.curve)} documents" if last else ""
    return f"Cumulative codes per document: {reached}; Guest 2020 saturation point {result.guest2020.point}."


# --------------------------------------------------------------------------- document


def html_document(s: ReportSections, *, input_name: str | None = None) -> str:
    """The report page (see the module docstring)."""
    data = json_for_script(report_data(s, input_name=input_name))
    script, style = _asset("report.js"), _asset("report.css")
    csp = (f"default-src 'none'; script-src {_sha256(script)}; style-src {_sha256(style)}; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    title = _h(s.project.name or "Untitled project")
    model = s.model.svg if s.model is not None else "<p>No code tree to draw.</p>"
    curve = saturation_svg(s.saturation) if s.saturation is not None and s.saturation.curve else ""
    values = {"CSP": _h(csp), "TITLE": title, "STYLE": style, "MODEL": _strip_xml_decl(model),
              "SATURATION": curve, "DATA": data, "SCRIPT": script}
    # One pass over the template: inserted text is never scanned again for placeholders.
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], _asset("report.html"))


def _strip_xml_decl(svg: str) -> str:
    return svg.split("?>", 1)[1] if svg.startswith("<?xml") else svg


def html_report(project: Project, path: str | os.PathLike[str] | None = None, *,
                compare: Project | None = None, input_name: str | None = None,
                compare_name: str | None = None) -> HtmlReport:
    """The HTML report of ``project``; written atomically to ``path`` if given.

    Args:
        project: the project (not modified).
        path: the ``.html`` file to write.
        compare: a second coder's project of the same sources (adds the agreement section).
        input_name: the file name shown in the overview.
        compare_name: the compared project's file name (with ``input_name``, labels the sides).

    Returns:
        An :class:`HtmlReport` (``.html`` is the page; ``.sections`` the data behind it).

    Example:
        >>> qdx.html_report(qdx.read("study.qdpx"), "report.html")   # doctest: +SKIP
    """
    labels = _side_labels(input_name, compare_name)
    sections = report_sections(project, compare=compare, labels=labels)
    page = HtmlReport(html_document(sections, input_name=input_name), sections)
    if path is not None:
        from qdx.report.codebook_doc import write_bytes

        # A lone surrogate (possible in text converted from UTF-16) has no UTF-8 form: "?" instead.
        write_bytes(path, page.html.encode("utf-8", "replace"))
    return page


def _side_labels(a: str | None, b: str | None) -> tuple[str, str] | None:
    """The two files' names as the sides of the agreement, shortest first: base names when they
    differ, else the paths as given; None (agree's own labels) when they cannot be told apart."""
    from pathlib import PurePath

    if not a or not b or a == b:
        return None
    short = (PurePath(a).name, PurePath(b).name)
    return short if short[0] != short[1] else (a, b)


class HtmlReport:
    """A rendered report page and the sections it was made from."""

    def __init__(self, page: str, sections: ReportSections) -> None:
        self.html = page
        self.sections = sections

    def _repr_html_(self) -> str:
        # Notebooks sandbox untrusted output; an iframe keeps the page's CSP and script apart.
        return f'<iframe srcdoc="{_h(self.html)}" style="width:100%;height:40rem;border:0"></iframe>'
