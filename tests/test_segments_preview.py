"""The terminal listing of ``qdx segments`` shows 80 characters of each segment, whitespace
collapsed, built from a prefix of the text only (a 50M-character segment took 1.2 GB)."""

from __future__ import annotations

import pytest

from qdx.cli.segments import PREVIEW_WIDTH, preview


def _whole(text: str) -> str:
    # The oracle: collapse the whole text, then cut (what the listing printed before).
    return " ".join(text.split())[:PREVIEW_WIDTH]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "short text",
        "word " * 100,
        "a" * 1000,
        " " * 5000 + "late start " * 20,  # a whitespace run longer than the first prefixes
        ("x" * 79 + " ") * 3,  # a word ending exactly at the edge
        "\n\t 患者說 😀 \r\n" * 200,
        "ab" + " " * 400 + "cd",
    ],
)
def test_preview_equals_collapsing_the_whole_text(text: str) -> None:
    assert preview(text) == _whole(text)


def test_preview_of_a_long_text_is_80_characters() -> None:
    text = "one two  three\n" * 1_000_000
    assert preview(text) == ("one two three " * 6)[:80]
    assert len(preview(text)) == 80
