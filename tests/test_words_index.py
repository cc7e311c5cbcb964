"""Word counts of passages from their text's word boundaries (qdx/analysis/_words.py).

``TextWords`` applies the word rule as array operations over a whole text and counts passages
by their positions; the oracle is ``count_words`` (the regular expression, itself checked
against the plain rule in test_word_pattern.py) run on each passage's own characters.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from qdx.analysis._codings import count_words
from qdx.analysis._words import TextWords, WordIndex, _bmp_table, _flags

STUDY = Path(__file__).resolve().parent.parent / "fixtures" / "wechat-moments" / "project.qdpx"
# Letters, digits of several scripts, joiners, marks (BMP and astral), CJK (BMP and astral),
# an emoji with its variation selector, a lone surrogate, an astral letter and digit.
ALPHABET = [*"ab Z09 .,:'-_\n", "\u2019", "\u2010", "\u2011", "\u0301", "\u0308", "\u0903", "\u093f", "\u0915",
            "\u4e2d", "\u30a2", "\ud55c", "\U00020001", "\U0003134a", "\u00e9", "\u0661", "\ufe0f", "\U000e0100",
            "\U0001d165", "\U0001f600", "\U0001d400", "\U0001d7ce", "\uff11", "\ud800", "\u3000", "\u00b2"]


@pytest.mark.parametrize(("text", "start", "end", "words"), [
    ("well-known fact", 2, 15, 2),  # "ll-known fact": the cut word still counts once
    ("well-known fact", 4, 5, 0),  # only the hyphen
    ("1,000 at 10:30", 1, 14, 3),  # ",000 at 10:30"
    ("abc def", 2, 5, 2),  # "c d": the ends of two words, no whole one
    ("nai\u0308ve", 3, 4, 0),  # only the combining mark
    ("nai\u0308ve", 3, 6, 1),
    ("\u5fae\u4fe1 ok", 0, 2, 2),
])
def test_examples(text: str, start: int, end: int, words: int) -> None:
    assert count_words(text[start:end]) == words
    assert TextWords(text).count(start, end) == words


def test_random_passages_count_as_their_own_text() -> None:
    rng = random.Random(1616)
    for _ in range(4000):
        weights = [rng.random() for _ in ALPHABET]
        text = "".join(rng.choices(ALPHABET, weights, k=rng.randint(0, 60)))
        found = TextWords(text)
        assert found.total == count_words(text), repr(text)
        starts = [rng.randint(0, len(text)) for _ in range(12)]
        ends = [rng.randint(start, len(text)) for start in starts]
        got = found.counts(starts, ends)
        assert got == [count_words(text[a:b]) for a, b in zip(starts, ends, strict=True)], repr(text)


def test_class_table_matches_the_per_character_rule() -> None:
    table = _bmp_table()
    assert [int(table[cp]) for cp in range(0x10000)] == [_flags(cp) for cp in range(0x10000)]


def test_passages_fall_back_to_their_own_text() -> None:
    index = WordIndex({"d1": "alpha beta gamma"})
    # A passage whose text is not its document's slice (a PDF region's own text) and one
    # without a document are counted from their own characters; a missing text stays None.
    got = index.passages(["d1", "d1", None, "d1"], [0, 0, None, 6], [10, 5, None, 16],
                         ["alpha beta", "other words here", "one two", None])
    assert got == [2, 3, 2, None]


def test_study_passages() -> None:
    if not STUDY.exists():
        pytest.skip("bundled study fixture not built yet")
    import qdx
    from qdx.analysis._codings import build_corpus

    corpus = build_corpus(qdx.read(STUDY))
    segs = corpus.segments
    got = WordIndex(corpus.texts).passages(corpus.codings["doc"].tolist(), [s.start for s in segs],
                                           [s.end for s in segs], [s.text for s in segs])
    assert got == [count_words(s.text) if s.text is not None else None for s in segs]
    assert sum(1 for n in got if n) > 500
