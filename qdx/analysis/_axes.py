"""The axes of a coding matrix: which members a side has (codes, sources, cases or a
variable's values), their labels, and which codings belong to which member.

Shared by :mod:`qdx.analysis.matrix` and :mod:`qdx.analysis.cooccurrence` (it was part of
the first, which made the two modules import each other).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qdx.analysis._codings import Corpus
from qdx.errors import UsageError
from qdx.model import Project, VariableValue, guid_key
from qdx.names import unknown

if TYPE_CHECKING:
    import pandas as pd

AXES = ("codes", "sources", "cases", "variable:NAME")
NO_VALUE = "(no value)"


@dataclass(frozen=True, slots=True)
class Axis:
    """One side of a matrix: its members in order and which codings belong to which member.

    ``docs`` maps a member to the sources it stands for (None: every source), the coverage
    denominator.
    """

    kind: str
    keys: list[str]
    labels: list[str]
    links: pd.DataFrame
    docs: dict[str, frozenset[str]] | None


def unique_labels(names: Sequence[str], alternates: Sequence[str]) -> list[str]:
    """``names``, with duplicates replaced by their alternate (then numbered) so labels are unique."""
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    out: list[str] = []
    used: set[str] = set()
    for name, alt in zip(names, alternates, strict=True):
        label = name if seen[name] == 1 else alt
        base, n = label, 2
        while label in used:
            label, n = f"{base} ({n})", n + 1
        used.add(label)
        out.append(label)
    return out


def _links(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(pairs, columns=["coding", "key"], dtype=object)


def _code_axis(corpus: Corpus, level: str | int | None, rollup: bool = False) -> Axis:
    tree = corpus.tree
    codings = corpus.codings
    if level is None and rollup:  # every code, a category standing for its whole subtree
        keys = list(tree.order)
        pairs = [(c, a) for c, k in zip(codings["coding"], codings["code"], strict=True) for a in tree.paths.get(k, ())]
    elif level is None:
        keys = list(tree.order)
        pairs = [(c, k) for c, k in zip(codings["coding"], codings["code"], strict=True) if k in tree.paths]
    else:
        depth = tree.depth(level)
        keys = tree.at_depth(depth)
        mapped = ((c, tree.ancestor(k, depth)) for c, k in zip(codings["coding"], codings["code"], strict=True))
        pairs = [(c, a) for c, a in mapped if a is not None]
    names = [tree.label(k) for k in keys]
    paths = ["\\".join(tree.label(p) for p in tree.paths[k]) for k in keys]
    return Axis("codes", keys, unique_labels(names, paths), _links(pairs), None)


def _in_scope(corpus: Corpus, keys: list[str], docs: dict[str, frozenset[str]]) -> list[str]:
    """``keys`` whose sources the filters keep (a filtered matrix drops excluded columns)."""
    if corpus.scope is None:
        return keys
    return [k for k in keys if docs.get(k, frozenset()) & corpus.scope]


def _source_axis(corpus: Corpus) -> Axis:
    keys = _in_scope(corpus, list(corpus.source_names), {k: frozenset({k}) for k in corpus.source_names})
    names = [corpus.source_names[k] for k in keys]
    pairs = list(zip(corpus.codings["coding"], corpus.codings["source"], strict=True))
    docs = {k: frozenset({k}) for k in keys}
    return Axis(
        "sources",
        keys,
        unique_labels(names, [f"{n} [{k[:8]}]" for n, k in zip(names, keys, strict=True)]),
        _links(pairs),
        docs,
    )


def _case_axis(corpus: Corpus) -> Axis:
    keys = _in_scope(corpus, list(corpus.case_names), dict(corpus.case_sources))
    names = [corpus.case_names[k] for k in keys]
    links = corpus.case_links.rename(columns={"case": "key"})
    return Axis(
        "cases",
        keys,
        unique_labels(names, [f"{n} [{k[:8]}]" for n, k in zip(names, keys, strict=True)]),
        links,
        dict(corpus.case_sources),
    )


def _sort_values(values: set[str], numeric: bool) -> list[str]:
    if numeric:

        def as_number(v: str) -> tuple[int, float, str]:
            try:
                return (0, float(v), v)
            except ValueError:
                return (1, 0.0, v)

        return sorted(values, key=as_number)
    return sorted(values)


def _variable_values(project: Project, wanted: set[str]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Values of the wanted variable per source (its own) and per case."""
    def values(vvs: tuple[VariableValue, ...]) -> set[str]:
        return {vv.value for vv in vvs if guid_key(vv.variable) in wanted and vv.value is not None}

    by_source = {guid_key(s.guid): values(s.variable_values) for s in project.sources}
    by_case = {guid_key(c.guid): values(c.variable_values) for c in project.cases}
    return {k: v for k, v in by_source.items() if v}, by_case


def _value_docs(corpus: Corpus, source_values: dict[str, set[str]],
                case_values: dict[str, set[str]]) -> dict[str, set[str]]:
    """Per value, the sources that have it (their own, or through a case)."""
    docs: dict[str, set[str]] = {}
    for src, vals in source_values.items():
        for v in vals:
            docs.setdefault(v, set()).add(src)
    for case, vals in case_values.items():
        for v in vals:
            docs.setdefault(v, set()).update(corpus.case_sources.get(case, frozenset()))
    return docs


def _variable_axis(corpus: Corpus, name: str) -> Axis:
    """Values of variable ``name``: a source's own value, else the values of its cases."""
    project = corpus.project
    wanted = {guid_key(v.guid): v for v in project.variables if v.name == name}
    if not wanted:
        raise unknown("variable", name, [v.name for v in project.variables])
    source_values, case_values = _variable_values(project, set(wanted))
    by_coding: dict[str, set[str]] = {}
    for coding, case in zip(corpus.case_links["coding"], corpus.case_links["case"], strict=True):
        by_coding.setdefault(coding, set()).update(case_values.get(case, set()))
    pairs: list[tuple[str, str]] = []
    for coding, source in zip(corpus.codings["coding"], corpus.codings["source"], strict=True):
        values = source_values.get(source) or by_coding.get(coding) or {NO_VALUE}
        pairs.extend((coding, v) for v in sorted(values))
    docs = _value_docs(corpus, source_values, case_values)
    numeric = all(v.type.value in ("Integer", "Float") for v in wanted.values())
    frozen = {k: frozenset(v) for k, v in docs.items()}
    keys = _in_scope(corpus, _sort_values(set(docs), numeric), frozen)
    if any(v == NO_VALUE for _, v in pairs):
        keys.append(NO_VALUE)
        docs[NO_VALUE] = set(corpus.source_chars) - {s for d in docs.values() for s in d}
    return Axis(f"variable:{name}", keys, list(keys), _links(pairs), {k: frozenset(v) for k, v in docs.items()})


def axis(corpus: Corpus, spec: str, level: str | int | None = None, rollup: bool = False) -> Axis:
    """The :class:`Axis` for ``codes``, ``sources``, ``cases`` or ``variable:NAME``.

    ``rollup`` (codes, no level): every code, counting the codings of its whole subtree.

    Raises:
        UsageError: an unknown axis or variable.
    """
    if spec == "codes":
        return _code_axis(corpus, level, rollup)
    if spec == "sources":
        return _source_axis(corpus)
    if spec == "cases":
        return _case_axis(corpus)
    if spec.startswith("variable:") and spec[len("variable:") :]:
        return _variable_axis(corpus, spec[len("variable:") :])
    raise UsageError(f"unknown matrix axis {spec!r}; choose one of {', '.join(AXES)}")


# --------------------------------------------------------------------------- cell measures


def label(frame: pd.DataFrame, rows: Axis, cols: Axis, value: str) -> pd.DataFrame:
    """Swap member keys for labels; keep the keys and the measure in ``frame.attrs``."""
    out = frame.copy()
    out.index = list(rows.labels)
    out.columns = list(cols.labels)
    out.index.name = rows.kind
    out.columns.name = cols.kind
    out.attrs.update(value=value, row_keys=list(rows.keys), col_keys=list(cols.keys))
    return out
