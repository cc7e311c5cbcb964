"""Tidy pandas tables of a project, for analysis in pandas, DuckDB or Spark.

``frames(project)`` returns five tables (one row per thing, one column per fact):

* ``codes`` — one row per code, with one column per tree level (core, main_category,
  subcategory, concept), own and rolled-up reference and source counts;
* ``sources`` — one row per source with its size and variables;
* ``cases`` — one row per case with its variables;
* ``segments`` — one row per coded passage (a coding of a selection), with text, ``A-i-j``
  labels and level columns (the quote table users ask for);
* ``codings`` — the same rows reduced to GUIDs, for joins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, cast

from qdx.analysis._codings import Corpus, Tree, build_corpus, count_words, source_texts
from qdx.analysis._words import WordIndex
from qdx.model import (
    AudioSource,
    Coding,
    PDFSource,
    PictureSource,
    Project,
    Source,
    TextSource,
    VariableType,
    VariableValue,
    guid_key,
    iter_selections,
)

if TYPE_CHECKING:
    import pandas as pd

    from qdx.segment import Segment

PATH_SEP = " > "
_KINDS = {TextSource: "text", PDFSource: "pdf", PictureSource: "picture", AudioSource: "audio"}


@dataclass(frozen=True, slots=True)
class Frames:
    """The five tidy tables of a project."""

    codes: pd.DataFrame
    sources: pd.DataFrame
    cases: pd.DataFrame
    segments: pd.DataFrame
    codings: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, in a fixed order."""
        return {"codes": self.codes, "sources": self.sources, "cases": self.cases,
                "segments": self.segments, "codings": self.codings}


def _typed(value: str | None, kind: VariableType | None) -> object:
    """A variable value as a Python number/bool when its declared type says so."""
    if value is None:
        return None
    converters: dict[VariableType, Callable[[str], object]] = {
        VariableType.INTEGER: int, VariableType.FLOAT: float,
        VariableType.BOOLEAN: lambda v: v.strip().lower() in ("true", "1")}
    convert = converters.get(kind) if kind is not None else None
    if convert is None:
        return value
    try:
        return convert(value)
    except ValueError:
        return value


def _variables(project: Project, values: tuple[VariableValue, ...]) -> dict[str, object]:
    types = {guid_key(v.guid): v for v in project.variables}
    out: dict[str, object] = {}
    for vv in values:
        var = types.get(guid_key(vv.variable))
        name = var.name if var is not None else str(vv.variable)
        out[name] = _typed(vv.value, var.type if var is not None else None)
    return out


def _code_counts(codes: list[str], sources: list[str], paths: dict[str, tuple[str, ...]]
                 ) -> tuple[dict[str, int], dict[str, int], dict[str, int], dict[str, int]]:
    """Own and rolled-up (code plus descendants) references and sources per code.

    A coding counts once for its code and once for each ancestor (its path); sources are
    counted distinct per code. References are counted per code (``Counter`` over the column,
    in C) and each code's sources gathered once; the roll-up then adds each code's totals to
    its ancestors: one step per code and level, not per coding or per (code, source) pair.
    """
    refs = dict(Counter(codes))
    own: dict[str, set[str]] = {}
    # Rows come grouped by source (document order): the codes of each run of one source are
    # gathered as a set in C, then each distinct (code, source) pair is recorded once.
    for source, run in groupby(zip(sources, codes, strict=True), key=itemgetter(0)):
        for code in set(map(itemgetter(1), run)):
            own.setdefault(code, set()).add(source)
    refs_total: dict[str, int] = {}
    srcs_total: dict[str, set[str]] = {}
    for code, found in own.items():
        for key in paths.get(code, (code,)):
            refs_total[key] = refs_total.get(key, 0) + refs[code]
            srcs_total.setdefault(key, set()).update(found)
    return refs, refs_total, {k: len(v) for k, v in own.items()}, {k: len(v) for k, v in srcs_total.items()}


def _level_values(tree: Tree, key: str, names: list[str]) -> dict[str, str | None]:
    path = tree.paths.get(key, ())
    return {col: tree.label(path[i]) if i < len(path) else None for i, col in enumerate(names)}


# A table before pandas: its rows, and its columns in order (None: the rows' keys, in order of
# first appearance, as ``pd.DataFrame(rows)`` takes them).
Rows = tuple[list[dict[str, object]], list[str] | None]


def code_rows(project: Project, tree: Tree, codes: list[str], sources: list[str]) -> Rows:
    """The codes table (see module docstring) of the codings whose code and source keys are
    ``codes[i]`` and ``sources[i]``."""
    from qdx.model import code_tree

    refs, refs_total, srcs, srcs_total = _code_counts(codes, sources, tree.paths)
    names = tree.column_names()
    rows: list[dict[str, object]] = []
    walk = code_tree(project.codes)
    for guid, code in walk.codes.items():
        key = guid_key(guid)
        ancestors = walk.ancestors(guid)[::-1]
        rows.append({
            "guid": str(code.guid), "name": code.name,
            "path": PATH_SEP.join(tree.label(k) for k in tree.paths[key]),
            "depth": len(ancestors), "level": names[len(ancestors)],
            "parent": str(ancestors[-1].guid) if ancestors else None,
            "is_codable": code.is_codable, "color": code.color, "description": code.description,
            **_level_values(tree, key, names),
            "references": refs.get(key, 0), "references_total": refs_total.get(key, 0),
            "sources": srcs.get(key, 0), "sources_total": srcs_total.get(key, 0),
        })
    columns = ["guid", "name", "path", "depth", "level", "parent", "is_codable", "color", "description",
               *names, "references", "references_total", "sources", "sources_total"]
    return rows, columns


def codes_frame(corpus: Corpus) -> pd.DataFrame:
    """One row per code in tree order (see module docstring)."""
    import pandas as pd

    rows, columns = code_rows(corpus.project, corpus.tree, corpus.codings["code"].tolist(),
                              corpus.codings["source"].tolist())
    return pd.DataFrame(rows, columns=columns)


def _kind(source: Source) -> str:
    return next((name for cls, name in _KINDS.items() if isinstance(source, cls)), "video")


def _source_words(source: Source, words: WordIndex) -> int:
    """Words of all of a source's text (its documents joined, as ``characters`` counts them)."""
    texts = [(key, text) for key, text in source_texts(source) if text is not None]
    if len(texts) == 1:
        found = words.of(texts[0][0])
        if found is not None and found.text is texts[0][1]:
            return found.total  # the same scan as its passages' counts
    return count_words("".join(text for _, text in texts))


def source_rows(project: Project, source_chars: dict[str, int], words: WordIndex, codings: dict[str, int]) -> Rows:
    """The sources table (see :func:`sources_frame`); ``codings``: distinct codings per source key."""
    rows: list[dict[str, object]] = []
    for source in project.sources:
        key = guid_key(source.guid)
        rows.append({
            "guid": str(source.guid), "name": source.name, "kind": _kind(source),
            "characters": source_chars.get(key, 0), "words": _source_words(source, words),
            "selections": sum(1 for _ in iter_selections(source)), "codings": int(codings.get(key, 0)),
            "creation_datetime": source.creation_datetime,
            **_variables(project, source.variable_values),
        })
    return rows, None if rows else ["guid", "name", "kind", "characters", "words", "selections", "codings",
                                    "creation_datetime"]


def sources_frame(corpus: Corpus, words: WordIndex | None = None) -> pd.DataFrame:
    """One row per source: size, selection and coding counts, variables.

    ``words``: the corpus's :class:`WordIndex` when already built (each text is scanned once).
    """
    import pandas as pd

    words = words if words is not None else WordIndex(corpus.texts)
    codings = corpus.codings.groupby("source")["coding"].nunique()
    rows, columns = source_rows(corpus.project, corpus.source_chars, words,
                                {str(key): int(n) for key, n in codings.items()})
    return pd.DataFrame(rows, columns=columns)


def case_rows(project: Project, case_sources: dict[str, frozenset[str]], source_names: dict[str, str]) -> Rows:
    """The cases table (see :func:`cases_frame`): each case's sources (by key) and names of sources."""
    rows: list[dict[str, object]] = []
    order = {key: i for i, key in enumerate(source_names)}
    for case in project.cases:
        key = guid_key(case.guid)
        sources = sorted((s for s in case_sources.get(key, frozenset()) if s in order), key=order.__getitem__)
        rows.append({
            "guid": str(case.guid), "name": case.name, "description": case.description,
            "sources": len(sources), "source_names": "; ".join(source_names[s] for s in sources),
            **_variables(project, case.variable_values),
        })
    return rows, None if rows else ["guid", "name", "description", "sources", "source_names"]


def cases_frame(corpus: Corpus) -> pd.DataFrame:
    """One row per case: its sources and its variables (one column each)."""
    import pandas as pd

    rows, columns = case_rows(corpus.project, corpus.case_sources, corpus.source_names)
    return pd.DataFrame(rows, columns=columns)


def coding_details(project: Project) -> dict[str, Coding]:
    found: dict[str, Coding] = {}
    for source in project.sources:
        for sel in iter_selections(source):
            for coding in sel.codings:
                found[guid_key(coding.guid)] = coding
        for coding in source.codings:
            found[guid_key(coding.guid)] = coding
    return found


def segment_columns(corpus: Corpus, words: WordIndex | None = None) -> dict[str, list[object]]:
    """The segments table as plain lists, one per column (see :func:`segments_frame`).

    ``words``: the corpus's :class:`WordIndex` when already built (each text is scanned once).
    """
    cases: dict[str, list[str]] = {}
    for coding, case in zip(corpus.case_links["coding"], corpus.case_links["case"], strict=True):
        cases.setdefault(coding, []).append(corpus.case_names[case])
    segs = corpus.segments
    has_text = [s.text is not None and s.start is not None and s.end is not None for s in segs]
    code_guids = [str(s.code_guid) for s in segs]
    data: dict[str, list[object]] = {
        "source": [s.source for s in segs],
        "source_guid": [str(s.source_guid) for s in segs],
        "selection": [str(s.selection) if s.selection is not None else None for s in segs],
        "start": [s.start for s in segs],
        "end": [s.end for s in segs],
        "characters": [s.end - s.start if ok else None  # type: ignore[operator]
                       for s, ok in zip(segs, has_text, strict=True)],
        "words": list[object]((words if words is not None else WordIndex(corpus.texts)).passages(
            corpus.codings["doc"].tolist(), [s.start for s in segs], [s.end for s in segs], [s.text for s in segs])),
        "labels": [" ".join(s.labels) for s in segs],
        "label_first": [s.labels[0] if s.labels else None for s in segs],
        "label_last": [s.labels[-1] if s.labels else None for s in segs],
        "code": [s.code for s in segs],
        "code_guid": list[object](code_guids),
    }
    # The code's path and level labels depend on its GUID alone (as spelled): worked out once
    # per code, then looked up per row (a few thousand codes, 10^5 rows).
    per_code = _code_columns(corpus, segs, code_guids)
    for col, by_code in per_code.items():
        data[col] = list(map(by_code.__getitem__, code_guids))
    data["coder"] = [s.coder for s in segs]
    data["coding_guid"] = [str(s.coding_guid) for s in segs]
    data["cases"] = (["; ".join(cases.get(guid_key(s.coding_guid), [])) for s in segs] if cases
                     else [""] * len(segs))
    data["text"] = [s.text for s in segs]
    return data


def _code_columns(corpus: Corpus, segs: tuple[Segment, ...], code_guids: list[str]) -> dict[str, dict[str, object]]:
    """``code_path`` and each level column's value, by the code GUID's spelling."""
    names = corpus.tree.column_names()
    columns: dict[str, dict[str, object]] = {"code_path": {}, **{col: {} for col in names}}
    for seg, raw in zip(segs, code_guids, strict=True):
        if raw in columns["code_path"]:
            continue
        columns["code_path"][raw] = PATH_SEP.join(seg.code_path)
        path = corpus.tree.paths.get(guid_key(raw), ())
        for i, col in enumerate(names):
            columns[col][raw] = corpus.tree.label(path[i]) if i < len(path) else None
    return columns


def segments_frame(corpus: Corpus, columns: dict[str, list[object]] | None = None) -> pd.DataFrame:
    """One row per coded passage, in document order (see module docstring).

    Built column by column (a list per column, no dict per row): at 100,000 codings this is
    the report's largest table. ``columns``: :func:`segment_columns` when already built.
    """
    import pandas as pd

    source = columns if columns is not None else segment_columns(corpus)
    data: dict[str, object] = dict(source)
    for col in ("start", "end", "characters", "words"):
        data[col] = pd.array(cast("list[int | None]", source[col]), dtype=pd.Int64Dtype())
    return pd.DataFrame(data)


CODINGS_COLUMNS = ("coding_guid", "code_guid", "source_guid", "selection_guid", "user_guid", "coder",
                   "creation_datetime")


def codings_columns(corpus: Corpus, columns: dict[str, list[object]] | None = None) -> dict[str, list[object]]:
    """The codings table as plain lists, one per column (see :func:`codings_frame`)."""
    details = coding_details(corpus.project)
    segs = corpus.segments
    found = [details.get(guid_key(s.coding_guid)) for s in segs]
    seg: dict[str, list[object]] = columns if columns is not None else {
        "coding_guid": [str(s.coding_guid) for s in segs], "code_guid": [str(s.code_guid) for s in segs],
        "source_guid": [str(s.source_guid) for s in segs],
        "selection": [str(s.selection) if s.selection is not None else None for s in segs],
        "coder": [s.coder for s in segs]}
    return {
        "coding_guid": seg["coding_guid"],
        "code_guid": seg["code_guid"],
        "source_guid": seg["source_guid"],
        "selection_guid": seg["selection"],
        "user_guid": [str(c.creating_user) if c and c.creating_user else None for c in found],
        "coder": seg["coder"],
        "creation_datetime": [c.creation_datetime if c else None for c in found],
    }


def codings_frame(corpus: Corpus, columns: dict[str, list[object]] | None = None) -> pd.DataFrame:
    """One row per coding: GUIDs only (code, source, selection, user) and its timestamp.

    ``columns``: :func:`segment_columns` when already built (its GUID columns are reused).
    """
    import pandas as pd

    return pd.DataFrame(codings_columns(corpus, columns), columns=list(CODINGS_COLUMNS))


def frames_from(corpus: Corpus) -> Frames:
    """:func:`frames` over a prepared corpus (the segment columns built once for both passage tables)."""
    words = WordIndex(corpus.texts)
    columns = segment_columns(corpus, words)
    return Frames(codes=codes_frame(corpus), sources=sources_frame(corpus, words), cases=cases_frame(corpus),
                  segments=segments_frame(corpus, columns), codings=codings_frame(corpus, columns))


def frames(project: Project, *, set_name: str | None = None, coder: str | None = None) -> Frames:
    """Tidy tables of ``project`` (codes, sources, cases, segments, codings).

    Args:
        project: the project (not modified).
        set_name: keep only codings in this Set. coder: keep only this user's codings.

    Returns:
        A :class:`Frames`; ``frames(p).tables()`` gives them by name.

    Raises:
        UsageError: no set of that name.

    Example:
        >>> f = qdx.frames(qdx.read("study.qdpx"))                  # doctest: +SKIP
        >>> f.segments.groupby("main_category").size()              # doctest: +SKIP
    """
    return frames_from(build_corpus(project, set_name=set_name, coder=coder))

