"""JSON output is streamed (issue 15: ``segments --json`` of a 50M-character segment held
0.7 GB): the pieces must join to exactly what ``json.dumps`` gives (the oracle), long strings
cut into slices anywhere, and the terminal's control escaping must stay what it was."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qdx.cli import _json_stream
from qdx.cli._common import emit_json

VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40),
        st.sampled_from(["\u2028\x1b\x7f\x9f", "患者說 😀 far", 'quote " back \\ slash', "\ue000qdx-"]),
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_pieces_join_to_json_dumps(data: object) -> None:
    slice_ = _json_stream.SLICE
    _json_stream.SLICE = 3  # strings of 4 characters and more go in slices of 3
    try:
        pieces = list(_json_stream.json_pieces(data))
    finally:
        _json_stream.SLICE = slice_
    assert "".join(pieces) == json.dumps(data, ensure_ascii=False, indent=2, default=str)
    assert all(len(p) <= 3 * 6 + 200 for p in pieces)  # a slice escaped, or the encoder's own piece


_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def test_emit_json_escapes_controls_as_before(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole document's escaping (the former one-string code) as oracle, with the long
    text cut into slices of 5 so escapes fall on both sides of every cut."""
    monkeypatch.setattr(_json_stream, "SLICE", 5)
    data = [{"text": "a\u202eb\x85c\u2028d" * 7, "n": 3, "name": "x\x7fy"}, "short"]
    emit_json(data)
    whole = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    assert capsys.readouterr().out == _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", whole) + "\n"


def test_a_long_string_is_never_one_piece() -> None:
    text = "患者說診所很遠 😀 clinic far\n" * 200_000  # 5.2M characters
    pieces = list(_json_stream.json_pieces({"text": text}))
    assert max(map(len, pieces)) <= 2 * _json_stream.SLICE  # "\n" escapes as two characters
    assert json.loads("".join(pieces)) == {"text": text}
