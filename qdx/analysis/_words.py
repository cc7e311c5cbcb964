"""Word counts of many passages of the same texts, each text scanned once.

:func:`qdx.analysis._codings.count_words` scans the text it is given; a table of 100,000 coded
passages would scan every passage (overlapping ones again and again) and then each whole
source once more. :class:`TextWords` finds the words of a whole text once and counts any
passage of it by bisection over the word boundaries.

Why the count of a passage is the count of ``count_words(text[start:end])``: a word under the
rule is a maximal chain of letters and digits (with their combining marks) linked by single
joiners, or one CJK character, and whether two neighbouring characters link depends on them
alone. So cutting a text at ``start`` and ``end`` keeps every word wholly inside as one word
and cuts at most one word at each end; a cut piece is one word when it still holds a letter,
digit or CJK character, else none. Whole words are counted by bisection, and each cut piece
by whether letters or digits lie in it (a running count of them). tests/test_words_index.py
checks every count against ``count_words`` of the passage's own characters.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from qdx.analysis._codings import count_words

# Character classes of the word rule, as bits of one byte per character.
_BASE, _MARK, _CJK_BIT, _JOINER, _DIGIT_JOINER, _DIGIT = 1, 2, 4, 8, 16, 32
_CJK_SPANS = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xAC00, 0xD7AF),
              (0x20000, 0x3134F))
_JOINERS = "'\u2019-\u2010\u2011."


def _flags(cp: int) -> int:
    """The classes of code point ``cp``, as the word pattern's character classes define them.

    ``base`` is ``[^\\W_]`` without CJK (re's ``\\w`` is ``str.isalnum()`` or ``_``), ``mark`` a
    combining mark in the ranges the pattern collects, ``digit`` re's ``\\d`` (``isdecimal``).
    """
    ch = chr(cp)
    cjk = any(lo <= cp <= hi for lo, hi in _CJK_SPANS)
    bits = _CJK_BIT if cjk else (_BASE if ch.isalnum() else 0)
    if (0x300 <= cp < 0x1E960 or 0xE0100 <= cp <= 0xE01F0) and unicodedata.category(ch).startswith("M"):
        bits |= _MARK
    if ch in _JOINERS:
        bits |= _JOINER
    if ch in ",:":
        bits |= _DIGIT_JOINER
    if ch.isdecimal():
        bits |= _DIGIT
    return bits


@functools.cache
def _bmp_table() -> np.ndarray:
    """The classes of every Basic Multilingual Plane code point (:func:`_flags` of each, built
    with ``map`` over the 65,536 characters: a few milliseconds instead of a Python loop)."""
    chars = [chr(cp) for cp in range(0x10000)]
    cps = np.arange(0x10000)
    cjk = np.zeros(0x10000, dtype=bool)
    for lo, hi in _CJK_SPANS:
        cjk[lo:hi + 1] = True
    alnum = np.fromiter(map(str.isalnum, chars), dtype=bool, count=0x10000)
    mark = np.fromiter((c[0] == "M" for c in map(unicodedata.category, chars)), dtype=bool, count=0x10000)
    table = np.where(cjk, _CJK_BIT, np.where(alnum, _BASE, 0)).astype(np.uint8)
    table |= np.where(mark & (cps >= 0x300), _MARK, 0).astype(np.uint8)
    table |= np.where(np.fromiter(map(str.isdecimal, chars), dtype=bool, count=0x10000), _DIGIT, 0).astype(np.uint8)
    for ch in _JOINERS:
        table[ord(ch)] |= _JOINER
    for ch in ",:":
        table[ord(ch)] |= _DIGIT_JOINER
    return table


def _classes(text: str) -> np.ndarray:
    """One byte of class bits per code point of ``text``."""
    # surrogatepass: a lone surrogate (a broken file) is one code point of no class, as re sees it.
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    table = _bmp_table()
    if not len(cps) or cps.max() < 0x10000:
        return table[cps]
    # Astral characters (emoji, rare CJK) are few: look each up where it is, after a lookup
    # of all characters with those clipped into the table.
    out = table[np.minimum(cps, 0xFFFF)]
    astral = np.flatnonzero(cps >= 0x10000)
    found, where = np.unique(cps[astral], return_inverse=True)
    out[astral] = np.array([_flags(int(cp)) for cp in found], dtype=np.uint8)[where]
    return out


def _scan(text: str) -> tuple[npt.NDArray[np.signedinteger[Any]], npt.NDArray[np.signedinteger[Any]],
                              npt.NDArray[np.signedinteger[Any]]]:
    """Where the words of ``text`` start and end, and the letters and digits before each position
    (see :class:`TextWords`)."""
    flags = _classes(text)
    n = len(flags)
    base = (flags & _BASE).view(np.bool_)  # _BASE is bit 0: the masked byte is the boolean
    cjk = (flags & _CJK_BIT) != 0
    # 32-bit counts halve the memory of a long text's array (kept while its passages are counted).
    small = n < 2**31 - 1
    marks = np.flatnonzero((flags & _MARK) != 0)
    in_word = base
    if len(marks):  # combining marks are few: each looks back past its run of marks
        run_first = np.maximum.accumulate(np.where(np.diff(marks, prepend=-2) != 1, marks, 0))
        before = run_first - 1  # the last character before the mark that is not a mark
        in_word = base.copy()
        in_word[marks] |= (before >= 0) & base[np.maximum(before, 0)]
    # Continued from the character before: a word character, or a joiner at j linking j + 1
    # to j - 1. Joiners are few, so they are looked at only where they are.
    joined = np.zeros(n, dtype=bool)
    joined[1:] = in_word[:-1]
    at = np.flatnonzero((flags[1:-1] & (_JOINER | _DIGIT_JOINER)) != 0) + 1
    if len(at):
        kind = flags[at]
        digits = ((flags[at - 1] & _DIGIT) != 0) & ((flags[at + 1] & _DIGIT) != 0)
        link = (((kind & _JOINER) != 0) & in_word[at - 1]) | (((kind & _DIGIT_JOINER) != 0) & digits)
        joined[at[link] + 1] = True
    first = cjk | (base & ~joined)
    starts = np.flatnonzero(first)
    # A word ends after its last letter, digit or mark: the last such character before the
    # next word's start (every one of them lies in a word). That character ends a run of them:
    # the next character is none, or starts a word, or the text ends.
    word = in_word | cjk
    run_end = np.zeros(n, dtype=bool)
    run_end[:-1] = word[:-1] & ~(word[1:] & ~first[1:])
    if n:
        run_end[-1] = word[-1]
    last = np.flatnonzero(run_end)
    nexts = np.append(starts[1:], n)
    ends = last[np.searchsorted(last, nexts, side="left") - 1] + 1 if len(starts) else starts
    letters = np.concatenate((np.zeros(1, np.int32 if small else np.int64),
                              np.cumsum(base, dtype=np.int32 if small else np.int64)))
    return starts, ends, letters


class TextWords:
    """The words of one text, found once, for counting passages of it.

    The word pattern (:func:`qdx.analysis._codings._word_re`) applied as array operations over
    the text's character classes, so a whole source costs a few passes in C instead of one
    regular-expression step per character: a CJK character is a word; any other letter or
    digit starts a word unless it continues one, that is unless the character before it is a
    letter, a digit or a combining mark inside a word, or a joiner after one, or a comma or
    colon between two digits. A combining mark is inside a word when the last character
    before it that is not a mark is a letter or digit. ``tests/test_words_index.py`` checks
    every count against ``count_words`` of the same text.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts, self.ends, self._letters = _scan(text)

    @property
    def total(self) -> int:
        """Words of the whole text (``count_words(text)``)."""
        return len(self.starts)

    def counts(self, starts: Sequence[int], ends: Sequence[int]) -> list[int]:
        """Words of each ``text[start:end]`` (``count_words`` of that slice; 0 ≤ start ≤ end ≤ len)."""
        lo = np.asarray(starts, dtype=np.int64)
        hi = np.asarray(ends, dtype=np.int64)
        first = np.searchsorted(self.starts, lo, side="left")  # the first word starting inside
        stop = np.searchsorted(self.ends, hi, side="right")  # words before it end inside
        whole = stop > first
        safe_first = np.minimum(first, max(len(self.starts) - 1, 0))
        safe_last = np.maximum(stop - 1, 0)
        letters = self._letters
        # The pieces before the first and after the last whole word hold the cut ends of at most
        # one word each: a word when a letter or digit is left in the piece.
        head = whole & ((letters[self.starts[safe_first]] - letters[lo]) > 0) if len(self.starts) else whole
        tail = whole & ((letters[hi] - letters[self.ends[safe_last]]) > 0) if len(self.starts) else whole
        counted = np.where(whole, stop - first, 0) + head + tail
        if len(self.starts) and not whole.all():
            # No whole word inside: at most the end of the word begun before ``start`` (a word
            # when a letter or digit of it is inside) and the start of the next word (it starts
            # with a letter or digit; a CJK word, one character, would lie wholly inside).
            before = np.maximum(first - 1, 0)
            cut = np.maximum(np.minimum(hi, self.ends[before]), lo)
            tail_of_before = (first > 0) & ((letters[cut] - letters[lo]) > 0)
            start_of_next = (first < len(self.starts)) & (self.starts[safe_first] < hi)
            counted = np.where(whole, counted, tail_of_before.astype(np.int64) + start_of_next)
        out: list[int] = counted.tolist()
        return out

    def count(self, start: int, end: int) -> int:
        """Words of ``text[start:end]`` (``count_words`` of that slice), for 0 ≤ start ≤ end ≤ len."""
        return self.counts([start], [end])[0]


class WordIndex:
    """Word counts of passages of a corpus's texts (document key → text), each text scanned once."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = texts
        self._found: dict[str, TextWords] = {}
        self._by_text: dict[int, TextWords] = {}  # by the text object (it stays alive in its TextWords)

    def of(self, doc: str) -> TextWords | None:
        """The words of document ``doc``'s text (None when it has none)."""
        found = self._found.get(doc)
        if found is None:
            text = self.texts.get(doc)
            if text is None:
                return None
            found = self._found[doc] = self.of_text(text)
        return found

    def of_text(self, text: str) -> TextWords:
        """The words of ``text`` (a document's text object: scanned once however often asked)."""
        found = self._by_text.get(id(text))
        if found is None or found.text is not text:
            found = self._by_text[id(text)] = TextWords(text)
        return found

    def sliced(self, docs: Sequence[str | None], starts: Sequence[int | None], ends: Sequence[int | None],
               texts: Sequence[str | None]) -> list[int | None]:
        """Words of each passage ``texts[i]`` (None for a passage without text), where
        ``texts[i] == docs[i][starts[i]:ends[i]]`` when ``docs[i]`` is not None (a passage
        :func:`qdx.segment.source_passages` sliced from its document); others by ``count_words``."""
        out: list[int | None] = [None] * len(texts)
        if not texts:
            return out
        # Passages come grouped by document (a source's, in document order): count each run of
        # rows of one document at once.
        ids = np.fromiter(map(id, docs), dtype=np.uint64, count=len(docs))
        cuts = [0, *(np.flatnonzero(ids[1:] != ids[:-1]) + 1).tolist(), len(docs)]
        for lo, hi in pairwise(cuts):
            doc = docs[lo]
            if doc is not None:
                out[lo:hi] = self.of_text(doc).counts(starts[lo:hi], ends[lo:hi])  # type: ignore[arg-type]
                continue
            for i in range(lo, hi):
                text = texts[i]
                if text is not None:
                    out[i] = count_words(text)
        return out

    def passages(self, docs: Sequence[str | None], starts: Sequence[int | None], ends: Sequence[int | None],
                 texts: Sequence[str | None]) -> list[int | None]:
        """Words of each passage ``texts[i]`` (None for a passage without text).

        A passage known to be ``doc[start:end]`` (checked: the same characters) is counted from
        its document's word boundaries; any other (a PDF region's own text) by ``count_words``.
        """
        out: list[int | None] = [None] * len(texts)
        rows: dict[str, tuple[list[int], list[int], list[int]]] = {}  # per document: rows, starts, ends
        for i, (doc, start, end, text) in enumerate(zip(docs, starts, ends, texts, strict=True)):
            if text is None:
                continue
            words = self.of(doc) if doc is not None else None
            if (doc is not None and words is not None and start is not None and end is not None
                    and 0 <= start <= end <= len(words.text) and words.text[start:end] == text):
                where = rows.setdefault(doc, ([], [], []))
                where[0].append(i)
                where[1].append(start)
                where[2].append(end)
            else:
                out[i] = count_words(text)
        for doc, (index, lo, hi) in rows.items():
            found = self._found[doc]
            for i, n in zip(index, found.counts(lo, hi), strict=True):
                out[i] = n
        return out
