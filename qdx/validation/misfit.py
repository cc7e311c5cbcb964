"""Does a code's definition fit another code's name better than its own? (audit rule CB14)

Plain lexical evidence, no trained model: names and definitions become sets of stems (a small
suffix stripper for English; character bigrams for Chinese runs); each stem is weighted by
its inverse document frequency over all names and definitions of the codebook, so words every
definition uses ("users", "social") count little. The score of a name for a definition is the
weighted share of the name's stems that the definition contains.

A code is flagged when another name (not an ancestor or descendant) scores

* *clearly* better: the definition holds every word of another name of two words or more
  and under a quarter of its own name's weight, unless that other code's own definition already
  fits its name as well: then the definition relates to it rather than describes it; or
* better (≥ 0.25), and the two codes are each other's best match with each definition
  fitting the other name better than its own: the definitions look swapped.

Also here: :func:`macqueen_parts`, which finds MacQueen et al.'s labelled definition parts.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from qdx.model import Guid

STRONG, STRONG_MARGIN, WEAK = 0.99, 0.4, 0.25
TIE = 0.02

_STOP = frozenset(
    "a an and are as at be been being by can for from has have how in into is it its of on or "
    "such than that the their them then there these they this those to was were what when which "
    "who with within without etc like via e g ie".split()
)
_SUFFIXES = ("ational", "ation", "ness", "ment", "ing", "ion", "ity", "ies", "ive", "al", "ed", "es",
             "ly", "s", "e")
_WORD = re.compile(r"[^\W_]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def stem(word: str) -> str:
    """A light English stem: ``sharing``/``shared``/``share`` → ``shar``; British -our → -or."""
    if word.endswith("our") and len(word) > 5:
        word = word[:-3] + "or"
    for _ in range(3):
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
                break
        else:
            break
    return word


def tokens(text: str) -> frozenset[str]:
    """Stems of the content words of ``text``; Chinese runs give character bigrams."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    text = re.sub(r"'s\b|'", "", text)
    found: set[str] = set()
    for run in _HAN.findall(text):
        found.update(run[i:i + 2] for i in range(max(len(run) - 1, 1)))
    for word in _WORD.findall(_HAN.sub(" ", text)):
        if word not in _STOP and len(word) > 1 and not word.isdigit():
            found.add(stem(word))
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Misfit:
    """``code``'s definition fits the ``better`` names; ``swapped`` is the likely swap partner."""

    code: Guid
    better: tuple[Guid, ...]
    swapped: Guid | None = None


@dataclass(frozen=True, slots=True)
class _Match:
    own: float
    top: float
    best: tuple[str, ...]


class _Scorer:
    def __init__(self, names: Mapping[str, frozenset[str]], definitions: Mapping[str, frozenset[str]]):
        docs = [*names.values(), *definitions.values()]
        df: dict[str, int] = {}
        for doc in docs:
            for token in doc:
                df[token] = df.get(token, 0) + 1
        n = len(docs)
        # Smoothed idf (as in common TF-IDF practice) so no stem weighs zero.
        self.idf = {t: math.log((1 + n) / (1 + d)) + 1 for t, d in df.items()}
        self.names = names
        self.weight = {g: sum(self.idf[t] for t in toks) for g, toks in names.items()}
        self.by_token: dict[str, set[str]] = {}
        for guid, toks in names.items():
            for token in toks:
                self.by_token.setdefault(token, set()).add(guid)
        # The same index as arrays: a stem shared by thousands of names ("concept 0001", ...)
        # is one vectorised add per definition instead of a Python loop over the names.
        # Keys in sorted order, so the names a match picks (ascending positions) come out
        # sorted without a sort per definition: ties among thousands of names are common.
        self.keys = sorted(names)
        self.key_array = np.array(self.keys, dtype=object)
        self.position = {g: i for i, g in enumerate(self.keys)}
        self.weights = np.array([self.weight[g] for g in self.keys], dtype=np.float64)
        self.rows = {t: np.array(sorted(self.position[g] for g in gs), dtype=np.int64)
                     for t, gs in self.by_token.items()}

    def score(self, definition: frozenset[str], name: str) -> float:
        total = self.weight.get(name, 0.0)
        if not total:
            return 0.0
        return sum(self.idf[t] for t in self.names[name] & definition) / total

    def match(self, code: str, definition: frozenset[str], exclude: set[str]) -> _Match:
        # Accumulate through the inverted index: only names sharing a stem are touched. Each
        # name's sum is built token by token in the same order as a dict loop would, so the
        # scores (and their ties) are the same floats.
        acc = np.zeros(len(self.keys), dtype=np.float64)
        mask = np.zeros(len(self.keys), dtype=bool)
        for token in definition:
            rows = self.rows.get(token)
            if rows is not None:
                acc[rows] += self.idf[token]
                mask[rows] = True
        for guid in (code, *exclude):
            where = self.position.get(guid)
            if where is not None:
                mask[where] = False
        if not mask.any():
            return _Match(self.score(definition, code), 0.0, ())
        scores = np.zeros(len(self.keys), dtype=np.float64)
        np.divide(acc, self.weights, out=scores, where=mask)
        top = float(scores[mask].max())
        chosen = np.flatnonzero(mask & (scores >= top - TIE) & (scores > 0))
        return _Match(self.score(definition, code), top, tuple(self.key_array[chosen].tolist()))


def misfits(
    names: Iterable[tuple[Guid, str]],
    definitions: Iterable[tuple[Guid, str]],
    related: Mapping[Guid, set[Guid]],
) -> list[Misfit]:
    """Codes whose definition fits another code's name clearly better than their own.

    Args:
        names: every code's GUID and name (the candidates).
        definitions: GUID and definition text of the codes to check.
        related: per code, GUIDs not to compare with (its ancestors and descendants).

    Returns:
        One :class:`Misfit` per flagged code, in the order of ``definitions``.
    """
    # Plain-string keys inside: Guid hashing folds case on every call and dominates the time.
    guids: dict[str, Guid] = {}
    name_tokens: dict[str, frozenset[str]] = {}
    for guid, name in names:
        guids[guid.key] = guid
        name_tokens[guid.key] = tokens(name)
    def_tokens = {g.key: tokens(definition_body(d)) for g, d in definitions}
    unrelated = {g.key: {r.key for r in rs} for g, rs in related.items()}
    scorer = _Scorer(name_tokens, def_tokens)
    matches = {g: scorer.match(g, toks, unrelated.get(g, set())) for g, toks in def_tokens.items()}
    found: list[Misfit] = []
    for key, m in matches.items():
        partner = _swap_partner(key, m, matches)
        if partner is not None or _clearly_better(m, matches, name_tokens):
            found.append(Misfit(guids[key], tuple(guids[b] for b in m.best[:3]),
                                guids[partner] if partner is not None else None))
    return found


def _clearly_better(m: _Match, matches: Mapping[str, _Match], names: Mapping[str, frozenset[str]]) -> bool:
    # Every word of a name of two words or more, while its own name is mostly absent.
    if not (m.top >= STRONG and m.top >= m.own + STRONG_MARGIN and m.own < WEAK):
        return False
    if all(len(names[g]) < 2 for g in m.best):
        return False
    # A definition that names a code whose own definition already fits it well is more likely
    # relating to that code ("influence ... on privacy awareness") than describing it.
    return any(g not in matches or matches[g].own < STRONG for g in m.best)


def _swap_partner(guid: str, m: _Match, matches: Mapping[str, _Match]) -> str | None:
    if not (m.top > m.own and m.top >= WEAK):
        return None
    for other in m.best:
        theirs = matches.get(other)
        if theirs is not None and guid in theirs.best and theirs.top > theirs.own:
            return other
    return None


# --------------------------------------------------------------------------- MacQueen parts


# Labelled lines of a MacQueen-style definition (docs/methods.md §C.3); "do not use" is tried
# before "use" because 不适用 contains 适用.
_PARTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (part, re.compile(r"^\s*(?:[-*•]\s*)?(?:" + pattern + r")\s*[:：]", re.I | re.M))
    for part, pattern in (
        ("brief", r"brief(?: definition)?|简要定义|简短定义"),
        ("full", r"full(?: definition)?|完整定义|详细定义"),
        ("do not use", r"do not use(?: when)?|don'?t use(?: when)?|when not to use|exclusions?|exclude when|"
                       r"不适用(?:情况|条件)?"),
        ("use", r"use when|when to use|inclusions?|include when|适用(?:情况|条件)?"),
        ("example", r"examples?|e\.g\.|示例|例子|举例"),
    )
)


_CROSS_REFERENCE = re.compile(r"\((?:use|see|cf\.?|not|compare|参见|见)\b[^)]*\)|（(?:参见|见)[^）]*）", re.I)


def definition_body(description: str) -> str:
    """What a description says the code *is*: without its "when not to use" section and
    cross-references such as "(use Fear of misuse)", which name other codes on purpose."""
    kept: list[str] = []
    skipping = False
    for line in description.splitlines():
        label = next((part for part, pattern in _PARTS if pattern.match(line)), None)
        if label is not None:
            skipping = label == "do not use"
        if not skipping:
            kept.append(line)
    return _CROSS_REFERENCE.sub(" ", "\n".join(kept))


def macqueen_parts(description: str) -> frozenset[str]:
    """Which labelled MacQueen parts a description has (``brief``, ``full``, ``use``,
    ``do not use``, ``example``), from lines such as ``Use when: ...`` or ``不适用：...``."""
    return frozenset(part for part, pattern in _PARTS if pattern.search(description))


# The order MacQueen et al. list the parts in (docs/methods.md §C.3); "definition" is text before
# any label, which a codebook shows as the plain definition.
MACQUEEN_ORDER = ("definition", "brief", "full", "use", "do not use", "example")


def macqueen_fields(description: str) -> dict[str, str]:
    """A description split into MacQueen's parts, in :data:`MACQUEEN_ORDER`.

    A labelled line (``Use when: ...``, ``不适用：...``) starts a part; unlabelled lines
    continue the part above them, and lines before the first label form ``definition``.
    Parts the text does not have are absent; a description without labels is one
    ``definition`` (nothing is guessed).

    >>> macqueen_fields("Brief definition: Hiding posts.\\nExample: 'I hid it.'")
    {'brief': 'Hiding posts.', 'example': "'I hid it.'"}
    """
    found: dict[str, list[str]] = {}
    current = "definition"
    for line in description.splitlines():
        for part, pattern in _PARTS:
            match = pattern.match(line)
            if match is not None:
                current = part
                line = line[match.end():]
                break
        found.setdefault(current, []).append(line.strip())
    joined = {part: "\n".join(lines).strip() for part, lines in found.items()}
    return {part: joined[part] for part in MACQUEEN_ORDER if joined.get(part)}
