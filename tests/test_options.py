"""Fixed option sets: the command line offers exactly the values the library's ``Literal``
types allow (qdx.options), so the two cannot drift apart."""

from __future__ import annotations

from pathlib import Path
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
    ("segments", "kind"): options.SegmentFilter,
    ("convert", "unit"): options.PositionUnit,
    ("convert", "dialect"): options.Dialect,
    ("convert", "newline"): options.Newline,
    ("agree", "unit"): options.AgreeUnit,
    ("agree", "overlap_measure"): options.OverlapMeasure,
    ("matrix", "value"): options.CellValue,
    ("matrix", "level"): options.Level,
    ("matrix", "cooccur"): options.CooccurMode,
    ("matrix", "layout"): options.MatrixLayout,
    ("diff", "match"): options.MatchLevel,
    ("merge", "match"): options.MatchLevel,
    ("merge", "policy"): options.Policy,
    ("report", "level"): options.ReportLevel,
    ("report", "sheets"): options.ReportSheets,
}
# Choices that are the command's own business (file formats, layouts), with no library option.
CLI_ONLY = {("validate", "structure"), ("export", "to"), ("matrix", "to"), ("segments", "to")}


def _commands() -> dict[str, click.Command]:
    """Every command by its full name, the subcommands of a group too ("git merge-driver")."""
    ctx = click.Context(main)
    found: dict[str, click.Command] = {}
    todo = [(name, main.get_command(ctx, name)) for name in COMMANDS]
    while todo:
        name, command = todo.pop()
        assert command is not None, name
        found[name] = command
        if isinstance(command, click.Group):
            todo.extend((f"{name} {sub}", command.get_command(ctx, sub)) for sub in command.list_commands(ctx))
    return found


def test_every_command_is_seen() -> None:
    """The walk reaches the commands other work added (a group's subcommands included)."""
    assert {"codebook", "model", "export", "git", "git merge-driver", "git textconv"} <= set(_commands())


def _choice_options() -> dict[tuple[str, str], tuple[str, ...]]:
    found = {}
    for name, command in _commands().items():
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
    assert pairing.MATCH_LEVELS == merge.MATCH_LEVELS == ("guid", "path", "name", "content")
    assert merge.POLICIES == ("fail", "ours", "theirs", "keep-both")
    assert UNITS == ("codepoint", "utf16", "codepoint-lf")



# --------------------------------------------------------------------------- renamed options

RENAMED = [  # (command, new name, old name kept hidden for one release, a value)
    ("info", "--position-unit", "--unit", "utf16"),
    ("segments", "--position-unit", "--unit", "utf16"),
    ("convert", "--position-unit", "--unit", "utf16"),
    ("agree", "--agree-unit", "--unit", "sentence"),
]


@pytest.mark.parametrize(("command", "new", "old", "value"), RENAMED)
def test_new_name_is_shown_and_old_name_is_hidden(command: str, new: str, old: str, value: str) -> None:
    from click.testing import CliRunner

    shown = CliRunner().invoke(main, [command, "--help"]).stdout
    assert new in shown and f"{old} " not in shown and f"{old}," not in shown


@pytest.mark.parametrize(("command", "new", "old", "value"), RENAMED)
def test_old_name_sets_the_same_parameter(command: str, new: str, old: str, value: str) -> None:
    ctx = click.Context(main)
    cmd = main.get_command(ctx, command)
    assert cmd is not None
    for flag in (new, old):
        args = {"convert": ["a.qdpx", "b.qdpx"], "agree": ["a.qdpx", "b.qdpx"]}.get(command, ["a.qdpx"])
        parsed = cmd.make_context(command, [*args, flag, value], resilient_parsing=True)
        assert parsed.params["unit"] == value


@pytest.mark.parametrize(("command", "new", "old", "value"), RENAMED)
@pytest.mark.parametrize("spelling", ["new", "old"])
def test_a_bad_value_names_only_the_new_spelling(command: str, new: str, old: str, value: str, spelling: str) -> None:
    """Whichever spelling was typed, the usage error names the option --help shows, and the
    hidden old name appears only in the one-line warning that it is going."""
    from click.testing import CliRunner

    args = {"convert": ["a.qdpx", "b.qdpx"], "agree": ["a.qdpx", "b.qdpx"]}.get(command, ["a.qdpx"])
    flag = new if spelling == "new" else old
    result = CliRunner().invoke(main, [command, *args, flag, "bogus"])
    assert result.exit_code == 2
    error = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(error) == 1 and f"Invalid value for '{new}': 'bogus' is not one of" in error[0]
    assert old not in error[0].replace(new, "")
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    going = f"qdx: warning: {old} is now {new}; the old name goes in the next release"
    assert warnings == ([] if spelling == "new" else [going])


def test_old_position_unit_spelling_still_reads(tmp_path: Path) -> None:
    """End to end: ``segments --unit`` gives what ``segments --position-unit`` gives."""
    import json

    from click.testing import CliRunner

    import qdx
    from tests.test_cli_core import small_project

    path = tmp_path / "p.qdpx"
    qdx.write(small_project(), path)
    runs = [CliRunner().invoke(main, ["segments", str(path), flag, "codepoint", "--json"]) for flag in
            ("--position-unit", "--unit")]  # fmt: skip
    assert [r.exit_code for r in runs] == [0, 0]
    assert json.loads(runs[0].stdout) == json.loads(runs[1].stdout) != []
    # The old name works, and says on stderr (never in the JSON) that it is going.
    assert runs[0].stderr == ""
    assert runs[1].stderr == "qdx: warning: --unit is now --position-unit; the old name goes in the next release\n"


def test_old_agree_unit_spelling_gives_the_same_numbers() -> None:
    import json

    from click.testing import CliRunner

    from tests.conftest import STUDY

    paths = [str(STUDY / "project.qdpx"), str(STUDY / "coder-b.qdpx")]
    runs = [CliRunner().invoke(main, ["agree", *paths, flag, "sentence", "--json"]) for flag in
            ("--agree-unit", "--unit")]  # fmt: skip
    assert [r.exit_code for r in runs] == [0, 0], runs[1].output
    new, old = (json.loads(r.stdout) for r in runs)
    assert new == old and new["unit"] == "sentence"
    assert "--unit is now --agree-unit" in runs[1].stderr


# --------------------------------------------------------------------------- progress callbacks


def test_every_public_progress_parameter_has_a_named_shape() -> None:
    """Two shapes, two names: (done, total) bytes while reading or writing a file, or the name
    of each step; a caller can tell from the signature which one to pass."""
    import inspect

    from qdx import api
    from qdx.formats import ReadOptions, WriteOptions
    from qdx.report import excel
    from qdx.validation import document

    expected = {
        api.read: "ByteProgress | None",
        document.validate_file: "StepProgress | None",
        document.validate_bytes: "StepProgress | None",
        excel.build_tables: "Progress | None",
        excel.write_report: "Progress | None",
        excel.write_report_file: "Progress | None",
    }
    for function, shape in expected.items():
        assert inspect.signature(function).parameters["progress"].annotation == shape, function
    assert excel.Progress is options.StepProgress
    for options_class in (ReadOptions, WriteOptions):
        assert options_class.__annotations__["progress"] == "ByteProgress | None"
