"""Under ``--json`` an error is a JSON document on stdout, ``{"error": {"message", "location",
"type"}}``, with the exit status it always had and the one line on stderr kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qdx.cli import COMMANDS, main
from tests.conftest import STUDY
from tests.test_limits_options import invocations

# qdx git's subcommands are git's drivers: git reads their output, so they take no --json.
JSON_COMMANDS = sorted(set(COMMANDS) - {"git"})


def test_only_git_drivers_lack_json() -> None:
    assert set(COMMANDS) - set(JSON_COMMANDS) == {"git"}


@pytest.mark.parametrize("command", JSON_COMMANDS)
def test_every_command_reports_errors_as_json(command: str, tmp_path: Path) -> None:
    args = [*invocations(tmp_path)[command], "--max-member-size", "10000", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == (2 if command == "diff" else 1), result.output
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "UnsafeInputError"
    assert "over the limit of 10000" in error["message"] and "--max-member-size" in error["message"]
    assert error["location"] is None or isinstance(error["location"], str)
    assert result.stderr.startswith("qdx: error:") and len(result.stderr.strip().splitlines()) == 1


def test_missing_file_under_json_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.qdpx"
    result = CliRunner().invoke(main, ["info", str(missing), "--json"])
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert "nowhere.qdpx" in f"{error['location']} {error['message']}"
    assert error["type"] in {"ReadError", "FormatError"}


def test_usage_error_under_json_keeps_exit_2() -> None:
    project = str(STUDY / "project.qdpx")
    result = CliRunner().invoke(main, ["agree", project, "--json"])  # one project needs two coders
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["type"] == "UsageError"


@pytest.mark.parametrize(
    "args",
    [
        ["info", str(STUDY / "project.qdpx"), "--position-unit", "bytes", "--json"],
        ["diff", str(STUDY / "project.qdpx"), str(STUDY / "coder-b.qdpx"), "--json", "--match", "fuzzy"],
        ["matrix", str(STUDY / "project.qdpx"), "--json", "--no-such-option"],
    ],
)
def test_click_usage_error_under_json_is_json_too(args: list[str]) -> None:
    """A bad option value is refused by click before the command runs: still one document."""
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "UsageError" and error["message"]
    assert result.stderr.startswith("qdx: error:") and len(result.stderr.strip().splitlines()) == 1
    plain = CliRunner().invoke(main, [a for a in args if a != "--json"])
    assert plain.exit_code == 2 and plain.stdout == ""


def test_without_json_stdout_stays_empty(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["info", str(tmp_path / "nowhere.qdpx")])
    assert result.exit_code == 1 and result.stdout == "" and result.stderr.startswith("qdx: error:")


def test_agree_with_nothing_to_compare_is_one_json_document(tmp_path: Path) -> None:
    """The null-valued result and the error together: one document a script can parse."""
    import qdx
    from qdx.model import Project, TextSource, User
    from tests.test_cli_core import g

    empty = Project(name="e", users=(User(guid=g(1), name="a"), User(guid=g(2), name="b")),
                    sources=(TextSource(guid=g(3), name="s", text="hello"),))  # fmt: skip
    path = tmp_path / "e.qdpx"
    qdx.write(empty, path)
    result = CliRunner().invoke(main, ["agree", str(path), "--coders", "a", "b", "--json"])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert document["computed"] is False and document["overall"]["kappa_pooled"] is None
    assert document["error"]["type"] == "NoDataError"
