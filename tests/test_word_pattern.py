"""``count_words`` is written for speed; it must count exactly as the README's rule says.

The oracle is the rule spelled out the plain way (a look-ahead to exclude CJK, one class of
combining marks, plain repeats): the README rule, restated independently of qdx's pattern.
"""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

import pytest

from qdx.analysis._codings import count_words

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003134f"
JOIN = "'\u2019\\-\u2010\u2011."
STUDY = Path(__file__).resolve().parent.parent / "fixtures" / "wechat-moments" / "project.qdpx"


def _plain_rule() -> re.Pattern[str]:
    marks = "".join(re.escape(chr(cp)) for cp in [*range(0x300, 0x1E960), *range(0xE0100, 0xE01F1)]
                    if unicodedata.category(chr(cp)).startswith("M"))
    base = f"(?![{CJK}])[^\\W_]"
    run = f"{base}(?:{base}|[{marks}])*"
    return re.compile(f"[{CJK}]|{run}(?:(?:[{JOIN}]|(?<=\\d)[,:](?=\\d)){run})*")


PLAIN = _plain_rule()


@pytest.mark.parametrize(("text", "words"), [
    ("don't stop", 2), ("well-known e.g. 3.14", 3), ("1,000 at 10:30", 3), ("a, b", 2), ("微信朋友圈", 5),
    ("nai\u0308ve", 1), ("\u0301x", 1), ("snake_case", 2), ("\U00020001\U00020002 ok", 3), ("", 0)])
def test_examples(text: str, words: int) -> None:
    assert count_words(text) == words == len(PLAIN.findall(text))


def test_random_text_counts_as_the_plain_rule() -> None:
    alphabet = list("ab1 9,:.'-_\u2019\u2010\u2011\u0301\u0308\u093f\u0915\u4e00\u3042\uac00\U00020001"
                    "\ufe0f\U000e0100\U0001d165\n\u00e9x\u0e01\u0e34")
    rng = random.Random(16)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert count_words(text) == len(PLAIN.findall(text)), repr(text)


def test_study_texts_count_as_the_plain_rule() -> None:
    import qdx
    from qdx.analysis._codings import source_texts

    project = qdx.read(STUDY)
    texts = [t for s in project.sources for _, t in source_texts(s) if t]
    assert texts
    assert [count_words(t) for t in texts] == [len(PLAIN.findall(t)) for t in texts]


def test_ascii_text_counts_as_the_plain_rule() -> None:
    # ASCII text takes a shorter pattern: it must agree with the full rule.
    alphabet = list("aZ09 ,:.'-_\n\t;!?/")
    rng = random.Random(29)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert count_words(text) == len(PLAIN.findall(text)), repr(text)
