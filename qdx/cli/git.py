"""``qdx git``: git's diff and merge drivers for REFI-QDA projects and codebooks.

``qdx git install`` writes ``*.qdpx diff=qdx merge=qdx`` (and ``*.qdc``) into the repository's
``.gitattributes`` (``--global``: the user's attributes file) and the matching git config:

* ``diff.qdx.textconv``: ``git diff`` shows :func:`qdx.ops.textview.render_text` of each side;
* ``merge.qdx.driver``: ``git merge`` runs ``qdx git merge-driver %O %A %B %P``, the three-way
  merge of the ancestor (%O), ours (%A, also where the result goes) and theirs (%B). With
  conflicts it still leaves the merged project (ours' side taken) and writes
  ``<path>.conflicts.json`` beside it, then exits 1, which git reports as a conflict.

The drivers run qdx with the Python that installed them (``<python> -m qdx``), with qdx's
folder put on ``PYTHONPATH`` when that is how this qdx was found, so they run this very qdx.
``qdx git uninstall`` removes the lines and the config again.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import click

from qdx.cli._common import archive_limits, echo, handle_errors
from qdx.errors import QdxError, UsageError
from qdx.safety import Limits

MARKER = "# qdx git install: REFI-QDA projects and codebooks diff and merge with qdx"
PATTERNS = ("*.qdpx", "*.qdc")
ATTRIBUTES = tuple(f"{pattern} diff=qdx merge=qdx" for pattern in PATTERNS)
_FORMATS = {".qdpx": "qdpx", ".qdc": "qdc"}


@click.group()
def git() -> None:
    """Use qdx as git's diff and merge driver for .qdpx and .qdc files."""


def qdx_command() -> str:
    """How git should run this qdx: ``<python> -m qdx``, with ``PYTHONPATH`` when needed."""
    import qdx

    root = str(Path(qdx.__file__).resolve().parent.parent)
    command = f"{shlex.quote(sys.executable)} -m qdx"
    entries = [str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root in entries:
        # This qdx was found through PYTHONPATH (a checkout, not an installed package): git
        # must find the same one, whatever the environment it runs the driver in.
        return f'PYTHONPATH={shlex.quote(root)}"${{PYTHONPATH:+:$PYTHONPATH}}" {command}'
    return command


def _git(*args: str, check: bool = True) -> str:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise QdxError("git is not installed (or not on PATH)") from exc
    if check and done.returncode != 0:
        raise QdxError(f"git {' '.join(args)} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout.strip()


def _attributes_file(is_global: bool) -> Path:
    if not is_global:
        top = _git("rev-parse", "--show-toplevel", check=False)
        if not top:
            raise UsageError("not inside a git repository (use --global for every repository)")
        return Path(top) / ".gitattributes"
    configured = _git("config", "--global", "--get", "core.attributesFile", check=False)
    if configured:
        return Path(os.path.expanduser(configured))
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(xdg) / "git" / "attributes"


def _write_lines(path: Path, lines: list[str]) -> None:
    from qdx.safety import atomic_write

    data = ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
    path.parent.mkdir(parents=True, exist_ok=True)

    def produce(stream: object) -> None:
        stream.write(data)  # type: ignore[attr-defined]

    atomic_write(path, produce)


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@git.command()
@click.option("--global", "is_global", is_flag=True, help="For every repository of this user.")
@handle_errors
def install(is_global: bool) -> None:
    """Write the .gitattributes lines and git config for qdx's diff and merge drivers."""
    scope = "--global" if is_global else "--local"
    path = _attributes_file(is_global)
    command = qdx_command()
    _git("config", scope, "diff.qdx.textconv", f"{command} git textconv")
    _git("config", scope, "merge.qdx.name", "qdx three-way merge of REFI-QDA projects")
    _git("config", scope, "merge.qdx.driver", f"{command} git merge-driver %O %A %B %P")
    lines = _read_lines(path)
    missing = [line for line in (MARKER, *ATTRIBUTES) if line not in lines]
    if missing:
        _write_lines(path, [*lines, *missing])
    echo(f"qdx diff and merge drivers installed ({scope[2:]}): {path} and git config")


@git.command()
@click.option("--global", "is_global", is_flag=True, help="Remove the user-wide installation.")
@handle_errors
def uninstall(is_global: bool) -> None:
    """Remove the lines and git config that ``qdx git install`` wrote."""
    scope = "--global" if is_global else "--local"
    path = _attributes_file(is_global)
    for section in ("diff.qdx", "merge.qdx"):
        _git("config", scope, "--remove-section", section, check=False)  # absent is fine
    lines = _read_lines(path)
    kept = [line for line in lines if line not in (MARKER, *ATTRIBUTES)]
    if kept != lines:
        _write_lines(path, kept)
    echo(f"qdx diff and merge drivers removed ({scope[2:]})")


@git.command()
@click.argument("path", type=click.Path())
@archive_limits
@handle_errors
def textconv(path: str, limits: Limits) -> None:
    """Print the text rendering of PATH (git's textconv for .qdpx and .qdc)."""
    from qdx.api import read
    from qdx.ops.textview import render_text

    # git shows this text in a terminal: each line goes through echo, so a control character
    # in a name is shown escaped like everywhere else in the CLI.
    for line in render_text(read(path, limits=limits)).splitlines():
        echo(line)


@git.command("merge-driver")
@click.argument("base", type=click.Path())
@click.argument("ours", type=click.Path())
@click.argument("theirs", type=click.Path())
@click.argument("name", required=False)
@archive_limits
@handle_errors
def merge_driver(base: str, ours: str, theirs: str, name: str | None, limits: Limits) -> None:
    """git's merge driver: merge BASE (%O), OURS (%A) and THEIRS (%B) into OURS.

    NAME (%P) is the file's path in the repository: its extension says the format, and the
    conflict report goes to NAME.conflicts.json. Exit 0 merged cleanly, 1 conflicts.
    """
    from qdx.api import read, write
    from qdx.cli._merge3 import three_way
    from qdx.model import Project
    from qdx.report.conflicts import write_conflicts

    fmt = _FORMATS.get(Path(name or ours).suffix.lower())
    # A file added on both branches has no ancestor: git passes an empty %O.
    empty = os.path.getsize(base) == 0 if os.path.exists(base) else True
    old = Project(is_codebook=fmt == "qdc") if empty else read(base, fmt=fmt, limits=limits)
    mine, other = read(ours, fmt=fmt, limits=limits), read(theirs, fmt=fmt, limits=limits)
    fmt = fmt or (mine.provenance.fmt if mine.provenance is not None else None)
    if fmt not in _FORMATS.values():
        raise UsageError(f"cannot merge {name or ours} as {fmt or 'an unknown format'}; qdx merges .qdpx and .qdc")
    result, failed = three_way(old, mine, other, policy="fail", match="path")
    write(result.project, ours, fmt=fmt, newline="keep")
    if not failed:
        return
    report = f"{name or ours}.conflicts.json"
    write_conflicts(result.conflicts, report, inputs={"path": name or ours})
    echo(f"qdx: {len(result.conflicts)} merge conflict(s) in {name or ours}; see {report}:", err=True)
    for conflict in result.conflicts:
        echo(f"  {conflict.message()}", err=True)
    sys.exit(1)
