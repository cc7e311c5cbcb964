"""The long table every matrix and co-occurrence count starts from.

One row per coding (REFI §3.13: a Coding is one CodeRef applied to one selection or one whole
source), built from :func:`qdx.segment.segments` plus the keys analyses group on: the text
document a selection lives in, its unit, its cases, and the code's place in the tree.

Code levels follow the grounded-theory layout of docs/methods.md §C.2 (core → main categories →
subcategories → concepts). A tree with exactly one root is read as having a core category at
depth 0; otherwise the roots are the main categories.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qdx.errors import UsageError
from qdx.model import (
    AudioSource,
    Project,
    ProjectIndex,
    Source,
    VideoSource,
    code_tree,
    guid_key,
    text_docs,
)
from qdx.names import refuse_placeholder, require
from qdx.options import LEVELS
from qdx.segment import Segment, segments

if TYPE_CHECKING:
    import pandas as pd

# Column names for level columns in tables, by level (deeper levels: level_<depth>).
LEVEL_COLUMNS = {"core": "core", "main": "main_category", "subcategories": "subcategory", "concepts": "concept"}

# Words (``--value words``), by a stated rule: Unicode word segmentation (UAX #29) as word
# processors apply it, kept simple enough to restate in the README:
#   * a word is a run of letters, digits and combining marks (so "naïve" in either
#     normalisation form, and Devanagari words with their vowel signs, stay whole);
#   * an apostrophe (' ’), a hyphen (- ‐ ‑) or a full stop between two such characters joins
#     them ("don't", "well-known", "e.g", "3.14", "2024-01-05" are one word each), as do a comma
#     or colon between two digits ("1,000", "10:30"); UAX #29 joins the same characters except
#     hyphens and a colon between digits, which qdx joins as word processors' counts do (a
#     hyphenated compound, a date or a time is one token between spaces); NVivo does not
#     publish its rule;
#   * each CJK ideograph, kana or hangul syllable is one word: these scripts do not separate
#     words by spaces, and without a dictionary a character is the only stable unit (scripts
#     such as Thai, also written without spaces, count one word per run between spaces).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003134f"
_JOIN = "'\u2019\\-\u2010\u2011."
_CJK_RANGES = [(0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xAC00, 0xD7AF),
               (0x20000, 0x3134F)]


def _class(ranges: list[tuple[int, int]]) -> str:
    """A regex alternative matching one character of ``ranges``, fast for any text.

    ``re`` compiles a character class of Basic Multilingual Plane characters to a lookup
    table, but a class reaching above U+FFFF to a list it scans range by range; so the
    classes are split in two (this made ``count_words`` about twice as fast).
    """
    def spell(lo: int, hi: int) -> str:
        return f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"

    parts = ["".join(spell(lo, hi) for lo, hi in ranges if (hi < 0x10000) is bmp) for bmp in (True, False)]
    return "(?:" + "|".join(f"[{part}]" for part in parts if part) + ")"


@functools.cache
def _word_re() -> re.Pattern[str]:
    """The word pattern; combining-mark ranges are collected from the Unicode database once."""
    marks: list[tuple[int, int]] = []
    run_start = None
    # Combining marks lie below U+1E960, except the variation selectors U+E0100-U+E01EF.
    for cp in [*range(0x300, 0x1E960), *range(0xE0100, 0xE01F1)]:
        is_mark = unicodedata.category(chr(cp)).startswith("M")
        if is_mark and run_start is None:
            run_start = cp
        elif not is_mark and run_start is not None:
            marks.append((run_start, cp - 1))
            run_start = None
    # A letter or digit, not CJK (one negated class, no look-ahead per character). A mark
    # extends a word but never starts one (an emoji's variation selector is no word). The
    # classes are disjoint, so possessive repeats change no match and never backtrack.
    base = f"[^\\W_{_CJK}]"
    run = f"{base}++(?:{_class(marks)}++{base}*+)*+"
    joined = f"{run}(?:(?:[{_JOIN}]|(?<=\\d)[,:](?=\\d)){run})*"
    return re.compile(f"{_class(_CJK_RANGES)}|{joined}")


# The same rule for ASCII text, where no CJK character, combining mark or non-ASCII joiner can
# occur and a letter or digit is [A-Za-z0-9]: about three times faster than the full pattern.
_ASCII_WORD = re.compile(r"[A-Za-z0-9]++(?:(?:['\-.]|(?<=\d)[,:](?=\d))[A-Za-z0-9]++)*")


def count_words(text: str) -> int:
    """Words in ``text`` by the rule above (README "Words")."""
    # findall counts in C; a generator over finditer is ~10x slower. isascii() is O(1) in CPython.
    pattern = _ASCII_WORD if text.isascii() else _word_re()
    return len(pattern.findall(text))


@dataclass(frozen=True, slots=True)
class Tree:
    """The code hierarchy as canonical GUID keys: paths, names, pre-order and levels."""

    paths: dict[str, tuple[str, ...]]
    names: dict[str, str]
    order: tuple[str, ...]
    has_core: bool

    def depth(self, level: str | int) -> int:
        """The tree depth (0 = roots) of a named level or of an explicit depth.

        Raises:
            UsageError: unknown level name, or ``core`` in a tree with several roots.
        """
        if isinstance(level, int):
            return level
        if level not in LEVELS:
            raise UsageError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")
        depth = LEVELS.index(level) - (0 if self.has_core else 1)
        if depth < 0:
            raise UsageError("the code tree has several roots, so it has no core level")
        return depth

    def column_names(self) -> list[str]:
        """Names of the level columns, one per depth present in the tree."""
        deepest = max((len(p) for p in self.paths.values()), default=0)
        offset = 0 if self.has_core else 1
        names = []
        for depth in range(deepest):
            i = depth + offset
            names.append(LEVEL_COLUMNS[LEVELS[i]] if i < len(LEVELS) else f"level_{depth + 1}")
        return names

    def at_depth(self, depth: int) -> list[str]:
        """Codes at ``depth``, in tree order."""
        return [k for k in self.order if len(self.paths[k]) == depth + 1]

    def ancestor(self, key: str, depth: int) -> str | None:
        """The ancestor-or-self of ``key`` at ``depth`` (None when ``key`` is shallower)."""
        path = self.paths.get(key)
        if path is None or len(path) <= depth:
            return None
        return path[depth]

    def label(self, key: str) -> str:
        return self.names.get(key, key)


def build_tree(project: Project) -> Tree:
    """The :class:`Tree` of ``project``'s codes (from :func:`qdx.model.code_tree`: each GUID
    once, the first in tree order)."""
    tree = code_tree(project.codes)
    paths: dict[str, tuple[str, ...]] = {}
    names: dict[str, str] = {}
    for guid, code in tree.codes.items():
        key = guid_key(guid)
        paths[key] = (*(guid_key(a.guid) for a in reversed(tree.ancestors(guid))), key)
        names[key] = code.name
    return Tree(paths=paths, names=names, order=tuple(paths), has_core=len(project.codes) == 1)


@dataclass(frozen=True, slots=True)
class Corpus:
    """A project prepared for counting.

    ``codings``: one row per coding with columns coding, code, source, selection, doc, unit,
    start, end, coder. ``case_links``: (coding, case) pairs. ``texts``: text per document key.
    ``source_chars``: characters of all text of a source (the coverage denominator).
    """

    project: Project
    tree: Tree
    codings: pd.DataFrame
    case_links: pd.DataFrame
    texts: dict[str, str]
    source_chars: dict[str, int]
    source_names: dict[str, str]
    case_sources: dict[str, frozenset[str]]
    case_names: dict[str, str]
    segments: tuple[Segment, ...]
    # Sources the filters keep (a set's member sources, the sources a coder coded); None: all.
    scope: frozenset[str] | None = None
    # Counts derived from this corpus, kept for the next caller that asks for the same one (a
    # report lists co-occurring pairs and draws the c-coefficient table from one count).
    memo: dict[tuple[object, ...], object] = field(default_factory=dict, compare=False, repr=False)


def source_texts(source: Source) -> Iterator[tuple[str, str | None]]:
    for doc in text_docs(source):
        yield guid_key(doc.guid), doc.text
    if isinstance(source, AudioSource | VideoSource):
        for transcript in source.transcripts:
            yield guid_key(transcript.guid), transcript.text


def _doc_of_selections(project: Project) -> dict[str, str]:
    found: dict[str, str] = {}
    for source in project.sources:
        docs = list(text_docs(source))
        if isinstance(source, AudioSource | VideoSource):
            docs_t = list(source.transcripts)
            for t in docs_t:
                for tsel in t.selections:
                    found[guid_key(tsel.guid)] = guid_key(t.guid)
        for doc in docs:
            for sel in doc.selections:
                found[guid_key(sel.guid)] = guid_key(doc.guid)
    return found


def _unit(seg: Segment, doc: str | None) -> tuple[str | None, str | None]:
    """The document key and position unit that make two segments' ranges comparable."""
    # A passage counts in characters only with its place in that text: a PDF region may carry
    # its own text without a position in the PDF's (qdx.segment), and has no range to merge.
    if doc is not None and seg.text is not None and seg.start is not None and seg.end is not None:
        return doc, "char"
    if seg.start is not None and seg.end is not None:
        # Audio/video selections: milliseconds on the source's own timeline (REFI §10.4).
        return guid_key(seg.source_guid) + ":ms", "ms"
    return None, None


def _rows(segs: Iterable[Segment], docs: dict[str, str]) -> dict[str, list[object]]:
    """The codings table's columns, one list each (built column-wise: no tuple per row)."""
    segs = list(segs)
    sels = [guid_key(seg.selection) if seg.selection is not None else None for seg in segs]
    units = [_unit(seg, docs.get(sel) if sel else None) for seg, sel in zip(segs, sels, strict=True)]
    return {
        "coding": [guid_key(seg.coding_guid) for seg in segs],
        "code": [guid_key(seg.code_guid) for seg in segs],
        "source": [guid_key(seg.source_guid) for seg in segs],
        "selection": list[object](sels),
        "doc": [doc for doc, _ in units],
        "unit": [unit for _, unit in units],
        "start": [seg.start if unit else None for seg, (_, unit) in zip(segs, units, strict=True)],
        "end": [seg.end if unit else None for seg, (_, unit) in zip(segs, units, strict=True)],
        "coder": [seg.coder for seg in segs],
    }


def _case_maps(project: Project) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]], dict[str, str]]:
    """Per case: its sources (SourceRef plus the sources of its SelectionRefs) and selections."""
    owner: dict[str, str] = {}
    from qdx.model import iter_selections

    for source in project.sources:
        for sel in iter_selections(source):
            owner[guid_key(sel.guid)] = guid_key(source.guid)
    known = {guid_key(source.guid) for source in project.sources}
    sources: dict[str, frozenset[str]] = {}
    selections: dict[str, frozenset[str]] = {}
    names: dict[str, str] = {}
    for case in project.cases:
        key = guid_key(case.guid)
        sels = frozenset(guid_key(s) for s in case.selection_refs)
        # A SourceRef naming no source (QDX103, reported by validate) links the case to nothing.
        srcs = {k for k in map(guid_key, case.source_refs) if k in known} | {owner[s] for s in sels if s in owner}
        sources[key], selections[key] = frozenset(srcs), sels
        names[key] = case.name or key
    return sources, selections, names


def case_pairs(
    project: Project, codings: list[str], sources: list[str], selections: list[str | None]
) -> tuple[list[tuple[str, str]], dict[str, frozenset[str]], dict[str, str]]:
    """(coding, case) pairs of the codings table's key columns: a coding belongs to a case that
    holds its source or its selection. Also each case's sources and name."""
    case_sources, case_selections, names = _case_maps(project)
    by_source: dict[str, list[str]] = {}
    by_selection: dict[str, list[str]] = {}
    for case in project.cases:
        key = guid_key(case.guid)
        for src in {guid_key(s) for s in case.source_refs}:
            by_source.setdefault(src, []).append(key)
        for sel in case_selections[key]:
            by_selection.setdefault(sel, []).append(key)
    pairs: list[tuple[str, str]] = []
    rows = zip(codings, sources, selections, strict=True)
    for coding, source, selection in rows if by_source or by_selection else ():  # no cases: nothing to walk
        found = by_source.get(source, []) + (by_selection.get(selection, []) if selection is not None else [])
        pairs.extend((coding, case) for case in dict.fromkeys(found))
    return pairs, case_sources, names


def _case_links(
    codings: pd.DataFrame, project: Project
) -> tuple[pd.DataFrame, dict[str, frozenset[str]], dict[str, str]]:
    """(coding, case) pairs as a table (see :func:`case_pairs`)."""
    import pandas as pd

    pairs, case_sources, names = case_pairs(project, codings["coding"].tolist(), codings["source"].tolist(),
                                            codings["selection"].tolist())
    return pd.DataFrame(pairs, columns=["coding", "case"], dtype=object), case_sources, names


def coding_filter(
    project: Project, tree: Tree, coders: Iterable[str | None], set_name: str | None, coder: str | None
) -> Callable[[str, str, str | None], bool] | None:
    """Whether a coding (its code key, source key and coder's name) passes ``set_name`` and
    ``coder``; None when there is no filter. ``coders``: the coders' names of every coding.

    Raises:
        UnknownNameError: no set or no user of that name (a filter never silently matches nothing).
    """
    if coder is not None and coder != "":  # "" keeps the codings that name no user
        index = ProjectIndex(project)
        users = [index.user_name(u.guid) or "" for u in project.users]
        require("coder", coder, [*users, *(c for c in coders if c is not None)])
        refuse_placeholder(coder, "a per-coder count")
    codes: set[str] = set()
    sources: set[str] = set()
    if set_name is not None:
        require("set", set_name, [s.name for s in project.sets])
        chosen = [s for s in project.sets if s.name == set_name]
        codes = {guid_key(g) for s in chosen for g in s.member_codes}
        sources = {guid_key(g) for s in chosen for g in s.member_sources}
    if coder is None and not codes and not sources:
        return None
    paths = tree.paths

    def keep(code: str, source: str, name: str | None) -> bool:
        if coder is not None and not (name == coder or (name is None and coder == "")):
            return False
        # A set holding a category includes the codings of everything below it.
        if codes and not codes.intersection(paths.get(code, ())):
            return False
        return not sources or source in sources

    return keep


def _filter(
    project: Project, tree: Tree, segs: list[Segment], set_name: str | None, coder: str | None
) -> list[Segment]:
    keep = coding_filter(project, tree, (s.coder for s in segs), set_name, coder)
    if keep is None:
        return segs
    return [s for s in segs if keep(guid_key(s.code_guid), guid_key(s.source_guid), s.coder)]


def build_corpus(project: Project, *, set_name: str | None = None, coder: str | None = None) -> Corpus:
    """Prepare ``project`` for counting, keeping only codings of ``set_name`` and ``coder``.

    Args:
        project: the project (not modified).
        set_name: keep codings whose code (or an ancestor) or source is a member of this Set.
        coder: keep codings whose creating user's name is ``coder``.

    Returns:
        The :class:`Corpus`.

    Raises:
        UnknownNameError: no set or no user of that name (a filter never silently matches nothing).
    """
    import pandas as pd

    tree = build_tree(project)
    every = segments(project, ProjectIndex(project))
    segs = _filter(project, tree, every, set_name, coder)
    codings = pd.DataFrame(_rows(segs, _doc_of_selections(project)), dtype=object)
    for col in ("start", "end"):
        codings[col] = codings[col].astype("Int64")
    links, case_sources, case_names = _case_links(codings, project)
    texts, source_chars = text_sizes(project)
    return Corpus(
        project=project,
        tree=tree,
        codings=codings,
        case_links=links,
        texts=texts,
        source_chars=source_chars,
        source_names={guid_key(s.guid): s.name or str(s.guid) for s in project.sources},
        case_sources=case_sources,
        case_names=case_names,
        segments=tuple(segs),
        scope=_scope(project, every, set_name, coder),
    )


def text_sizes(project: Project) -> tuple[dict[str, str], dict[str, int]]:
    """The text of each document key, and the characters of all text of each source."""
    texts: dict[str, str] = {}
    source_chars: dict[str, int] = {}
    for source in project.sources:
        total = 0
        for key, text in source_texts(source):
            if text is not None:
                texts[key] = text
                total += len(text)
        source_chars[guid_key(source.guid)] = total
    return texts, source_chars


def _scope(project: Project, segs: list[Segment], set_name: str | None, coder: str | None) -> frozenset[str] | None:
    """The sources a filtered matrix has columns for: those the set names, those the coder coded."""
    if set_name is None and coder is None:
        return None
    keep = {guid_key(s.guid) for s in project.sources}
    if set_name is not None:
        named = {guid_key(g) for s in project.sets if s.name == set_name for g in s.member_sources}
        if named:
            keep &= named
    if coder is not None:
        keep &= {guid_key(s.source_guid) for s in segs if s.coder == coder or (s.coder is None and coder == "")}
    return frozenset(keep)


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge half-open ranges into disjoint sorted ranges (overlaps and touching ones join)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
