"""Fixed option sets: the command line offers exactly the values the library's ``Literal``
types allow (qdx.options), so the two cannot drift apart."""

from __future__ import annotations

from typing import Any, get_args

import click
import pytest

from qdx import options
from qdx.cli import COMMANDS, main

# (command, option) -> the Literal type its choices come from. Written out by hand: a new
# Choice option without a library type fails test_every_choice_option_is_listed.
EXPECTED: dict[tuple[str, str], Any] = {
    ("info", "unit"): options.PositionUnit,
    ("segments", "unit"): options.PositionUnit,
    ("convert", "unit"): options.PositionUnit,
    ("convert", "dialect"): options.Dialect,
    ("convert", "newline"): options.Newline,
    ("agree", "unit"): options.AgreeUnit,
    ("agree", "overlap_measure"): options.OverlapMeasure,
    ("matrix", "value"): options.CellValue,
    ("matrix", "level"): options.Level,
    ("matrix", "cooccur"): options.CooccurMode,
    ("diff", "match"): options.MatchLevel,
    ("merge", "match"): options.MatchLevel,
    ("merge", "policy"): options.Policy,
}
# Choices that are the command's own business (file formats, layouts), with no library option.
CLI_ONLY = {("validate", "structure"), ("export", "to"), ("matrix", "layout")}


def _choice_options() -> dict[tuple[str, str], tuple[str, ...]]:
    ctx = click.Context(main)
    found = {}
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert command is not None
        for param in command.params:
            if isinstance(param.type, click.Choice) and param.name:
                found[(name, param.name)] = tuple(param.type.choices)
    return found


def test_every_choice_option_is_listed() -> None:
    assert set(_choice_options()) - CLI_ONLY == set(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_click_choices_equal_the_literal_values(key: tuple[str, str]) -> None:
    assert _choice_options()[key] == get_args(EXPECTED[key])


def test_library_checks_use_the_same_values() -> None:
    from qdx.analysis import agreement, cooccurrence, matrix
    from qdx.ops import merge, pairing
    from qdx.text import UNITS

    assert agreement.UNITS == ("char", "sentence", "paragraph")
    assert agreement.OVERLAP_MEASURES == ("iou", "min_len")
    assert set(matrix.VALUES) | set(cooccurrence.CO_VALUES) == set(get_args(options.CellValue))
    assert cooccurrence.MODES == ("overlap", "document")
    assert pairing.MATCH_LEVELS == merge.MATCH_LEVELS == ("guid", "path", "name")
    assert merge.POLICIES == ("fail", "ours", "theirs", "keep-both")
    assert UNITS == ("codepoint", "utf16", "codepoint-lf")

