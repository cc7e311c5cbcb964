"""Position arithmetic: code points vs UTF-16 units vs CRLF-as-one (STANDARD.md §5.1).

Oracles are independent of qdx.text: UTF-16 offsets are measured by encoding the prefix
with Python's codec; CRLF-as-one offsets by counting the prefix with CRLF folded.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qdx.text import (
    CODEPOINT,
    CODEPOINT_LF,
    UTF16,
    PositionMap,
    boundary_share,
    check_unit,
    crlf_shift,
    is_word_start,
    shift_for_crlf,
    to_crlf,
)

# Emoji (astral), CJK (BMP, 3 UTF-8 bytes), CRLF and LF together.
SAMPLE = "Hi 😀 there\r\n你好 🇭🇺 ok\nend"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_utf16_hand_computed() -> None:
    m = PositionMap("a😀b", UTF16)
    # a=0, 😀=1..2 (two units), b=3: by hand
    assert [m.from_model(i) for i in range(4)] == [0, 1, 3, 4]
    assert [m.to_model(u) for u in (0, 1, 3, 4)] == [0, 1, 2, 3]
    assert m.to_model(2) == 1  # inside the surrogate pair -> start of the emoji
    assert not m.exact(2) and m.exact(3)


def test_codepoint_lf_hand_computed() -> None:
    m = PositionMap("a\r\nb\r\nc", CODEPOINT_LF)
    # model: a0 CR1 LF2 b3 CR4 LF5 c6; ATLAS.ti counts a0 CR1 b2 CR3 c4
    assert [m.from_model(i) for i in (0, 1, 3, 4, 6, 7)] == [0, 1, 2, 3, 4, 5]
    assert [m.to_model(p) for p in range(6)] == [0, 1, 3, 4, 6, 7]


def test_codepoint_is_identity() -> None:
    m = PositionMap(SAMPLE, CODEPOINT)
    assert m.identity
    assert m.to_model(7) == 7 == m.from_model(7)


def test_unknown_unit() -> None:
    with pytest.raises(ValueError, match="unknown position unit"):
        check_unit("bytes")


def test_sample_against_codec() -> None:
    m = PositionMap(SAMPLE, UTF16)
    for cp in range(len(SAMPLE) + 1):
        assert m.from_model(cp) == utf16_len(SAMPLE[:cp])
        assert m.to_model(utf16_len(SAMPLE[:cp])) == cp


@given(st.text(alphabet=st.sampled_from(list("ab \n\r😀你🇭é")), max_size=60), st.data())
def test_utf16_matches_codec(text: str, data: st.DataObject) -> None:
    m = PositionMap(text, UTF16)
    cp = data.draw(st.integers(0, len(text) + 3))
    expected = utf16_len(text[:cp]) + max(0, cp - len(text))
    assert m.from_model(cp) == expected
    assert m.to_model(expected) == cp


@given(st.lists(st.sampled_from(["a", " ", "\r\n", "\n", "😀", "你"]), max_size=40).map("".join), st.data())
def test_codepoint_lf_matches_folding(text: str, data: st.DataObject) -> None:
    m = PositionMap(text, CODEPOINT_LF)
    # only offsets that do not split a CRLF pair
    cuts = [i for i in range(len(text) + 1) if not (0 < i < len(text) and text[i - 1] == "\r" and text[i] == "\n")]
    cp = data.draw(st.sampled_from(cuts))
    folded = len(text[:cp].replace("\r\n", "\n"))
    assert m.from_model(cp) == folded
    assert m.to_model(folded) == cp


@given(st.text(alphabet=st.sampled_from(["a", "\n", "😀", "你", " "]), max_size=40), st.data())
def test_to_crlf_shift(text: str, data: st.DataObject) -> None:
    wide = to_crlf(text)
    assert wide.replace("\r\n", "\n") == text
    shifts = crlf_shift(text)
    cp = data.draw(st.integers(0, len(text)))
    assert wide[: shift_for_crlf(shifts, cp)] == to_crlf(text[:cp])


def test_to_crlf_keeps_existing_crlf() -> None:
    assert to_crlf("a\r\nb\nc") == "a\r\nb\r\nc"


def test_word_start() -> None:
    text = "Hello, world! 😀x"
    assert is_word_start(text, 0)
    assert is_word_start(text, 7)  # "world" after a space
    assert not is_word_start(text, 8)  # inside "world"
    assert not is_word_start(text, 6)  # the space itself
    assert is_word_start(text, 15)  # "x" after an emoji (not alphanumeric)
    assert boundary_share(text, [0, 7, 8]) == (2, 3)
