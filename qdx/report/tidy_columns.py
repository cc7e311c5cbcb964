"""The five tidy tables of one project as plain columns, built in one pass over the model.

``qdx export --to parquet`` writes these (qdx/report/tidy_parquet.py) without a ``Segment``
record per coding, the corpus's pandas codings table or a DataFrame per table in between: at
100,000 codings those cost more than reading the file. The values are those of
:func:`qdx.report.frames.frames` (tests/test_export_parquet.py checks the files against an
independent recomputation and against ``export_tables(frames(project))``), because every
rule comes from the same place: passages and their order from
:func:`qdx.segment.source_passages`, code paths and coders' names from the same look-ups as
:func:`qdx.segment.segments`, the filters from :func:`qdx.analysis._codings.coding_filter`,
case links from :func:`~qdx.analysis._codings.case_pairs`, the small tables from the row
builders of frames.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from operator import attrgetter, itemgetter, sub
from typing import cast

from qdx.analysis._codings import Tree, build_tree, case_pairs, coding_filter, text_sizes
from qdx.analysis._words import WordIndex
from qdx.model import Coding, Guid, Project, ProjectIndex, guid_key
from qdx.report.frames import PATH_SEP, Rows, case_rows, code_rows, coding_details, source_rows
from qdx.segment import _Lookups, source_passages

# The segments table's nullable integer columns (pandas ``Int64``).
SEGMENT_INTS = ("start", "end", "characters", "words")

# A coding of a whole source: no selection, range, text or labels.
_WHOLE = (None, None, None, None, (), None)


@dataclass(frozen=True, slots=True)
class TidyColumns:
    """The tables of :func:`qdx.frames`: the small ones as rows, the passage tables as columns."""

    codes: Rows
    sources: Rows
    cases: Rows
    segments: dict[str, list[object]]
    codings: dict[str, list[object]]


@dataclass(slots=True)
class _Codings:
    """One entry per coding, in table order: its passage, the coding, its source."""

    passages: list[tuple[object, ...]]
    codings: list[Coding]
    source_names: list[str]
    source_guids: list[str]
    source_keys: list[str]
    whole: int = 0  # codings of whole sources (no selection)

    def keep(self, rows: list[int]) -> None:
        for name in ("passages", "codings", "source_names", "source_guids", "source_keys"):
            values = getattr(self, name)
            setattr(self, name, [values[i] for i in rows])
        self.whole = sum(passage is _WHOLE for passage in self.passages)


def _walk(project: Project) -> _Codings:
    """Every coding of the project in document order (as :func:`qdx.segment.segments`)."""
    found = _Codings([], [], [], [], [])
    for source in project.sources:
        before = len(found.codings)
        passages = source_passages(source)
        per_selection = list(map(attrgetter("codings"), map(itemgetter(0), passages)))
        if list(map(len, per_selection)).count(1) == len(per_selection):
            found.passages.extend(passages)  # one coding per selection (the common case): all in C
            found.codings.extend(map(itemgetter(0), per_selection))
        else:
            for passage, codings in zip(passages, per_selection, strict=True):
                found.passages.extend([passage] * len(codings))
                found.codings.extend(codings)
        found.passages.extend([_WHOLE] * len(source.codings))
        found.whole += len(source.codings)
        found.codings.extend(source.codings)
        count = len(found.codings) - before
        found.source_names.extend([source.name or str(source.guid)] * count)
        found.source_guids.extend([str(source.guid)] * count)
        found.source_keys.extend([guid_key(source.guid)] * count)
    return found


def _per_code(tree: Tree, lookups: _Lookups, raws: list[str]) -> dict[str, dict[str, object]]:
    """Per code GUID (as spelled): its key, name, path and level labels."""
    names = tree.column_names()
    columns: dict[str, dict[str, object]] = {"key": {}, "code": {}, "code_path": {}, **{col: {} for col in names}}
    for raw in dict.fromkeys(raws):
        path = lookups.path(Guid(raw))
        key = guid_key(raw)
        columns["key"][raw], columns["code"][raw], columns["code_path"][raw] = key, path[-1], PATH_SEP.join(path)
        levels = tree.paths.get(key, ())
        for i, col in enumerate(names):
            columns[col][raw] = tree.label(levels[i]) if i < len(levels) else None
    return columns


def tidy_columns(project: Project, *, set_name: str | None = None, coder: str | None = None) -> TidyColumns:
    """The tables of ``frames(project, set_name=..., coder=...)`` as rows and columns.

    Raises:
        UnknownNameError: no set or no user of that name.
    """
    passages = passage_columns(project, set_name=set_name, coder=coder)
    codes, sources, cases = passages.small_tables()
    return TidyColumns(codes=codes, sources=sources, cases=cases, segments=passages.segments(),
                       codings=passages.codings)


@dataclass(slots=True)
class PassageColumns:
    """The codings table as columns, and what the segments table (:meth:`segments`, which
    counts words) and the small tables (:meth:`small_tables`) are built from: steps of their
    own, so a caller can write one table while building the next."""

    codings: dict[str, list[object]]
    project: Project
    tree: Tree
    code_keys: list[str]
    source_keys: list[str]
    every: list[str]
    duplicates: bool
    source_chars: dict[str, int]
    words: WordIndex
    _parts: tuple[_Codings, _Keys, dict[str, dict[str, object]]]

    def segments(self) -> dict[str, list[object]]:
        """The segments table's columns (frames.segment_columns)."""
        rows, keys, per_code = self._parts
        return _segment_columns(self.project, rows, keys, per_code, self.words, self.codings)

    def small_tables(self) -> tuple[Rows, Rows, Rows]:
        """The codes, sources and cases tables (their rows)."""
        project = self.project
        if not self.duplicates:
            per_source = dict(Counter(self.source_keys))
        else:
            distinct: dict[str, set[str]] = {}
            for source, coding in zip(self.source_keys, self.every, strict=True):
                distinct.setdefault(source, set()).add(coding)
            per_source = {source: len(found) for source, found in distinct.items()}
        source_names = {guid_key(s.guid): s.name or str(s.guid) for s in project.sources}
        return (code_rows(project, self.tree, self.code_keys, self.source_keys),
                source_rows(project, self.source_chars, self.words, per_source),
                case_rows(project, _case_sources(project), source_names))


def passage_columns(project: Project, *, set_name: str | None = None, coder: str | None = None) -> PassageColumns:
    """The codings table of ``frames(project, set_name=..., coder=...)`` and the means to
    build its other tables.

    Raises:
        UnknownNameError: no set or no user of that name.
    """
    texts, source_chars = text_sizes(project)
    words = WordIndex(texts)
    lookups = _Lookups(ProjectIndex(project))
    tree = build_tree(project)
    rows = _walk(project)
    # The coding and selection GUIDs stay Guid objects (a str; ``str()`` of each is a copy that
    # costs as much as the rest of the column): only written and lower-cased, never hashed.
    guids = list(map(attrgetter("guid"), rows.codings))
    every = _keys(guids)
    # A coding's user and time come from the last coding with its GUID (frames.codings_frame).
    details = None if len(set(every)) == len(every) else coding_details(project)
    users = _spelled(list(map(attrgetter("creating_user"), rows.codings)), None)
    names = {raw: lookups.user(None if raw is None else Guid(raw)) for raw in dict.fromkeys(users)}
    coders = list(map(names.__getitem__, users))
    raws = cast("list[str]", _spelled(list(map(attrgetter("code"), rows.codings)), "None"))
    per_code = _per_code(tree, lookups, raws)
    keep = coding_filter(project, tree, coders, set_name, coder)
    if keep is not None:
        code_keys = cast("list[str]", list(map(per_code["key"].__getitem__, raws)))
        chosen = [i for i, (code, source, name) in enumerate(zip(code_keys, rows.source_keys, coders, strict=True))
                  if keep(code, source, name)]
        rows.keep(chosen)
        every, coders, raws = [every[i] for i in chosen], [coders[i] for i in chosen], [raws[i] for i in chosen]
        guids, users = [guids[i] for i in chosen], [users[i] for i in chosen]
    keys = _Keys(every, guids, users, coders, raws)
    return PassageColumns(codings=_codings_columns(rows, keys, details), project=project, tree=tree,
                          code_keys=cast("list[str]", list(map(per_code["key"].__getitem__, raws))),
                          source_keys=rows.source_keys, every=every, duplicates=details is not None,
                          source_chars=source_chars, words=words, _parts=(rows, keys, per_code))


def _keys(raws: list[str]) -> list[str]:
    """:func:`guid_key` of each GUID; lower-casing alone when no GUID has a brace to strip."""
    if "{" in (joined := "\0".join(raws)) or "}" in joined:
        return [guid_key(raw) for raw in raws]
    # One lower-casing of all of them, split again: NUL is no letter, so no case rule (such as
    # a final sigma) reaches across it.
    keys = joined.lower().split("\0") if raws else []
    return keys if len(keys) == len(raws) else list(map(str.lower, raws))


def _spelled(values: list[Guid | None], missing: str | None) -> list[str | None]:
    """``str()`` of each GUID (``missing`` for None), one copy per distinct object: the reader
    shares one Guid object per referenced GUID, so a column of 100,000 code or user references
    holds a few thousand strings, made once, instead of a copy per row."""
    objects = dict(zip(map(id, values), values, strict=True))
    spelled = {key: missing if value is None else str(value) for key, value in objects.items()}
    return list(map(spelled.__getitem__, map(id, values)))


def _case_sources(project: Project) -> dict[str, frozenset[str]]:
    return case_pairs(project, [], [], [])[1] if project.cases else {}


@dataclass(frozen=True, slots=True)
class _Keys:
    """Per coding: its GUID's key and spelling, its user's GUID and name, its code's GUID."""

    every: list[str]
    guids: list[str]
    users: list[str | None]
    coders: list[str | None]
    raws: list[str]


def _codings_columns(rows: _Codings, keys: _Keys, details: dict[str, Coding] | None) -> dict[str, list[object]]:
    """The codings table's columns (frames.codings_columns)."""
    sels = list(map(itemgetter(0), rows.passages))
    selections: list[object] = (list(map(attrgetter("guid"), sels)) if not rows.whole
                                else [s.guid if s is not None else None for s in sels])
    if details is None:
        user_guids: list[object] = [raw or None for raw in keys.users]
        times: list[object] = list(map(attrgetter("creation_datetime"), rows.codings))
    else:
        found = [details.get(k) for k in keys.every]
        user_guids = [str(c.creating_user) if c and c.creating_user else None for c in found]
        times = [c.creation_datetime if c else None for c in found]
    return {
        "coding_guid": list[object](keys.guids), "code_guid": list[object](keys.raws),
        "source_guid": list[object](rows.source_guids), "selection_guid": selections,
        "user_guid": user_guids, "coder": list[object](keys.coders), "creation_datetime": times,
    }


def _segment_columns(project: Project, rows: _Codings, keys: _Keys, per_code: dict[str, dict[str, object]],
                     words: WordIndex, codings: dict[str, list[object]]) -> dict[str, list[object]]:
    """The segments table's columns (frames.segment_columns); those it shares with the codings
    table are the same lists."""
    raws = keys.raws
    starts, ends, texts, labels, docs = (list(map(itemgetter(i), rows.passages)) for i in range(1, 6))
    spans: list[tuple[str, ...]] = labels
    if texts.count(None) or starts.count(None) or ends.count(None):
        characters: list[object] = [e - s if t is not None and s is not None and e is not None else None
                                    for s, e, t in zip(starts, ends, texts, strict=True)]
    else:  # every passage has its text and both ends
        characters = list(map(sub, ends, starts))
    return {
        "source": list[object](rows.source_names), "source_guid": codings["source_guid"],
        "selection": codings["selection_guid"], "start": starts, "end": ends,
        "characters": characters,
        "words": list[object](words.sliced(docs, starts, ends, texts)),
        **_label_columns(spans),
        "code": list(map(per_code["code"].__getitem__, raws)),
        "code_guid": codings["code_guid"],
        **{col: list(map(by_code.__getitem__, raws)) for col, by_code in per_code.items()
           if col not in ("key", "code")},
        "coder": codings["coder"],
        "coding_guid": codings["coding_guid"],
        "cases": _cases(project, rows, keys.every, codings["selection_guid"]),
        "text": texts,
    }


def _label_columns(spans: list[tuple[str, ...]]) -> dict[str, list[object]]:
    """The labels (joined with spaces), first and last label each passage spans."""
    if spans.count(()) == len(spans):  # no labels anywhere (most projects): one pass in C
        return {"labels": [""] * len(spans), "label_first": [None] * len(spans), "label_last": [None] * len(spans)}
    return {"labels": [" ".join(span) for span in spans],
            "label_first": [span[0] if span else None for span in spans],
            "label_last": [span[-1] if span else None for span in spans]}


def _cases(project: Project, rows: _Codings, every: list[str], selections: list[object]) -> list[object]:
    """Each coding's cases, joined with ``; `` (frames.segment_columns)."""
    if not project.cases:
        return [""] * len(every)
    sel_keys = [guid_key(s) if isinstance(s, str) else None for s in selections]
    pairs, _, names = case_pairs(project, every, rows.source_keys, sel_keys)
    cases: dict[str, list[str]] = {}
    for coding, case in pairs:
        cases.setdefault(coding, []).append(names[case])
    return ["; ".join(cases.get(key, [])) for key in every] if cases else [""] * len(every)
