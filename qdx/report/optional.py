"""Report sheets that come from other analyses, included when they exist and apply.

Structure (grounded-theory rules, docs/methods.md §C.2), Audit (§C.3), Saturation (§B) and
Agreement (§A) live in their own modules; the report imports each lazily, turns its result
into one table and says on the About sheet what was included, skipped, or failed (a failing
analysis never stops the report).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qdx.model import Project
from qdx.options import ReportLevel, ReportSheets
from qdx.report.sheets import Table, table_from_frame

if TYPE_CHECKING:
    import pandas as pd

    from qdx.validation.structure import Profile

About = list[tuple[str, str]]


def _function(module: str, name: str) -> Callable[..., object] | None:
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return found if callable(found) else None


def _record(item: object) -> dict[str, object]:
    as_dict = getattr(item, "as_dict", None)
    if callable(as_dict):
        value = as_dict()
        if isinstance(value, dict):
            return value
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return dataclasses.asdict(item)
    if isinstance(item, dict):
        return item
    return {"value": item}


def _records(result: object) -> list[dict[str, object]]:
    """The longest list of records in ``result`` (a list itself, ``.issues``, or a dict field)."""
    if isinstance(result, list | tuple):
        return [_record(r) for r in result]
    issues = getattr(result, "issues", None)
    if isinstance(issues, list | tuple):
        return [_record(r) for r in issues]
    data = _record(result)
    lists = [v for v in data.values() if isinstance(v, list | tuple) and v and isinstance(v[0], dict)]
    return [dict(r) for r in max(lists, key=len)] if lists else [data]


def _scalars(result: object) -> str:
    if isinstance(result, list | tuple):
        return ""
    data = _record(result)
    parts = [f"{k}: {v}" for k, v in data.items() if isinstance(v, str | int | float | bool) or v is None]
    nested = [f"{k}: {v}" for k, v in data.items() if isinstance(v, dict)]
    return "; ".join(parts + nested)[:2000]


def result_frame(result: object) -> pd.DataFrame:
    """A flat DataFrame of an analysis result's records (nested fields become dotted columns)."""
    import pandas as pd

    records = _records(result)
    if not records:
        return pd.DataFrame({"finding": ["none: every rule passed"]})
    frame = pd.json_normalize(records)
    for col in frame.columns:
        if frame[col].map(lambda v: isinstance(v, list | tuple | dict)).any():
            frame[col] = frame[col].map(lambda v: "; ".join(map(str, v)) if isinstance(v, list | tuple) else v)
            frame[col] = frame[col].map(lambda v: str(v) if isinstance(v, dict) else v)
    return frame


def _coders(project: Project) -> list[str]:
    from qdx.segment import segments

    counts: dict[str, int] = {}
    for seg in segments(project):
        if seg.coder:
            counts[seg.coder] = counts.get(seg.coder, 0) + 1
    return sorted(counts, key=lambda c: (-counts[c], c))


def _agreement(project: Project, compare: Project | None,
               known: list[str] | None = None) -> tuple[object | None, str]:
    agree = _function("qdx.analysis.agreement", "agree")
    if agree is None:
        return None, "not available in this qdx"
    if compare is not None:
        other = compare.name or "the compared project"
        # The sheet shows per-code and overall measures: no differing passages to collect.
        return agree(project, compare, passages=False), f"this project against {other}, character units"
    coders = _coders(project) if known is None else known
    if len(coders) < 2:
        return None, "not applicable: the project has fewer than two coders"
    a, b = coders[:2]
    return (agree(project, coders_a=[a], coders_b=[b], passages=False),
            f"coder {a} against coder {b}, character units")


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """Choices a report can be given (``qdx report`` options); None means the default.

    ``set_name``/``coder`` filter the codings every count sheet shows; ``holdout_set`` is the
    saturation sample (default: a set named like "Saturation sample"); ``core`` names the core
    category for the structure check and the audit when the tree has several roots; ``level``
    is the code-tree level the matrices count at (``"1"`` = the top level, or a grounded-theory
    name); ``sheets`` chooses the sheets (:data:`qdx.report.excel.SHEET_SETS`); ``profile`` is
    the study's profile (the TOML ``qdx validate --profile`` reads: core, level names, expected
    counts, rules to skip), applied by the Structure sheet and naming the levels.
    """

    set_name: str | None = None
    coder: str | None = None
    holdout_set: str | None = None
    core: str | None = None
    level: ReportLevel | None = None
    sheets: ReportSheets = "full"
    profile: Profile | None = None

    def core_name(self) -> str | None:
        """--core, else the profile's core."""
        return self.core or (self.profile.core if self.profile is not None else None)

    def holdout(self, project: Project) -> str | None:
        from qdx.report.analysis_sheets import holdout_set_name

        return self.holdout_set or holdout_set_name([s.name for s in project.sets])

    def filters(self) -> str:
        """The filters in words (empty when there are none)."""
        parts = [f"set '{self.set_name}'" if self.set_name else "", f"coder '{self.coder}'" if self.coder else ""]
        chosen = " and ".join(p for p in parts if p)
        return f"only codings of {chosen}" if chosen else ""


def _call(module: str, name: str, **options: object) -> Callable[[Project], tuple[object | None, str]]:
    def run(project: Project) -> tuple[object | None, str]:
        func = _function(module, name)
        if func is None:
            return None, "not available in this qdx"
        given = {k: v for k, v in options.items() if v is not None}
        how = ", ".join(f"{k}={v!r}" for k, v in given.items()) or "default settings"
        return func(project, **given), f"{module}.{name} with {how}"
    return run


def _saturation(project: Project, name: str | None) -> tuple[object | None, str]:
    from qdx.analysis.saturation import saturation

    if name is None:
        return saturation(project), "documents in name order, no held-out set (none named like 'Saturation sample')"
    return saturation(project, holdout_set=name), f"documents in name order, the sources of set '{name}' held out"


def _structure(project: Project, options: ReportOptions) -> tuple[object | None, str]:
    from qdx.validation.structure import check_structure

    how = "qdx.validation.structure.check_structure" + (f" with core {options.core!r}" if options.core else "")
    if options.profile is not None:
        how += " and the study's profile (core, expected counts, thresholds, rules skipped)"
    return check_structure(project, core=options.core, profile=options.profile), how


def _analyses(compare: Project | None, coders: list[str] | None,
              options: ReportOptions) -> list[tuple[str, Callable[[Project], tuple[object | None, str]]]]:
    return [
        ("Structure", lambda project: _structure(project, options)),
        ("Audit", _call("qdx.validation.audit", "audit", core=options.core_name())),
        ("Saturation", lambda project: _saturation(project, options.holdout(project))),
        ("Agreement", lambda project: _agreement(project, compare, coders)),
    ]


def _table(title: str, result: object, project: Project, holdout: str | None = None,
           figure: bytes | None = None) -> Table:
    """The sheet of one analysis: its own layout when it has one, else its records flattened.
    ``figure``: its picture drawn already (:func:`figures`), else it is drawn here."""
    from qdx.analysis.agreement import AgreementResult
    from qdx.analysis.saturation import SaturationResult
    from qdx.report.analysis_sheets import agreement_table, holdout_set_name, saturation_table

    if isinstance(result, SaturationResult):
        return saturation_table(result, holdout or holdout_set_name([s.name for s in project.sets]),
                                image=figure if figure is not None else _figure(result))
    if isinstance(result, AgreementResult):
        return agreement_table(result, chart=figure)
    if title == "Audit" and isinstance(result, list | tuple):
        from qdx.report.analysis_sheets import audit_table

        return audit_table(result)  # the same layout as `qdx audit -o`
    frame = result_frame(result)
    frame.columns = [str(c).split(".")[-1].replace("_", " ") for c in frame.columns]
    return table_from_frame(title, frame, label_cols=0)


def _figure(result: object) -> bytes | None:
    """The picture an analysis's sheet shows (PNG), None when it has none."""
    from qdx.analysis.agreement import AgreementResult
    from qdx.analysis.saturation import SaturationResult
    from qdx.report.analysis_sheets import agreement_chart

    if isinstance(result, SaturationResult):
        return _curve_png(result) if result.curve else None
    if isinstance(result, AgreementResult):
        return agreement_chart(result)
    return None


def shown(result: object) -> object:
    """``result`` with only what its report sheet and the Overview show: an agreement's
    per-code and overall measures without its 10^4-10^5 (code, source) rows, which would
    cost more to hand between processes than to compute."""
    from qdx.analysis.agreement import AgreementResult

    if isinstance(result, AgreementResult):
        return dataclasses.replace(result, per_code_source=())
    return result


def figures(results: list[tuple[str, object]]) -> dict[str, bytes]:
    """The pictures of the analyses' sheets, by sheet title (for :func:`result_tables`)."""
    drawn = {title: _figure(result) for title, result in results}
    return {title: png for title, png in drawn.items() if png is not None}


def _curve_png(result: object) -> bytes:
    """The saturation curve as ``qdx saturation --plot curve.png`` draws it."""
    import io

    from qdx.analysis.saturation import SaturationResult
    from qdx.report.plots import DRAW_DPI, draw, sheet_image

    assert isinstance(result, SaturationResult)
    stream = io.BytesIO()
    draw(result, stream, fmt="png", max_width=12.0)  # a landscape page at the 70 % print scale
    return sheet_image(stream.getvalue(), DRAW_DPI)


def optional_results(project: Project, about: About, compare: Project | None = None,
                     coders: list[str] | None = None, options: ReportOptions | None = None,
                     titles: tuple[str, ...] | None = None) -> list[tuple[str, object]]:
    """(title, result) of each analysis that exists and applies; what happened goes to ``about``.

    Args:
        project: the project (not modified).
        about: (sheet, explanation) rows of the About sheet, appended to.
        compare: a second coder's project of the same sources (Agreement against it);
            otherwise Agreement compares the two most active coders inside ``project``.
        coders: the project's coders, most active first, when the caller knows them already.
        options: the report's choices (held-out set, core category).
        titles: run only these analyses (Structure, Audit, Saturation, Agreement); None: all.
    """
    found: list[tuple[str, object]] = []
    for title, run in _analyses(compare, coders, options or ReportOptions()):
        if titles is not None and title not in titles:
            continue
        try:
            result, how = run(project)
        except Exception as exc:
            about.append((title, f"skipped: {type(exc).__name__}: {exc}"))
            continue
        if result is None:
            about.append((title, f"skipped: {how}"))
            continue
        summary = "" if title in ("Saturation", "Agreement") else _scalars(result)
        about.append((title, f"{how}." + (f" Summary — {summary}" if summary else "")))
        found.append((title, result))
    return found


def result_tables(project: Project, results: list[tuple[str, object]],
                  options: ReportOptions | None = None, drawn: dict[str, bytes] | None = None) -> list[Table]:
    """One sheet per result of :func:`optional_results`; ``drawn``: their :func:`figures`
    when drawn already (else each is drawn here)."""
    holdout = (options or ReportOptions()).holdout(project)
    return [_table(title, result, project, holdout, (drawn or {}).get(title)) for title, result in results]


def optional_tables(project: Project, about: About, compare: Project | None = None,
                    coders: list[str] | None = None) -> list[Table]:
    """Tables for the analyses that exist and apply (:func:`optional_results`, then a sheet each)."""
    return result_tables(project, optional_results(project, about, compare, coders))


def headlines(results: list[tuple[str, object]]) -> list[list[object]]:
    """(item, value) rows for the Overview: each analysis's verdict in words."""
    from qdx.analysis.agreement import AgreementResult
    from qdx.analysis.saturation import SaturationResult

    rows: list[list[object]] = []
    for title, result in results:
        if isinstance(result, SaturationResult):
            h = result.holdout
            rows.append(["Saturation: held-out test", "not run (no held-out set)" if h is None else
                         f"{'passed' if h.saturated else 'FAILED'} on {len(h.documents)} held-out documents"])
            rows.append(["Saturation: Guest et al. 2020", result.guest2020.point])
        elif isinstance(result, AgreementResult):
            kappa = result.overall.kappa_pooled
            rows.append(["Agreement: pooled kappa", round(kappa, 3) if kappa == kappa else "n/a"])
        elif title in ("Structure", "Audit"):
            issues = getattr(result, "issues", result)
            count = len(issues) if isinstance(issues, list | tuple) else None
            rows.append([f"{title}: findings", count if count is not None else "n/a"])
    return rows
