"""The ``qdx`` command line: a click group whose commands are imported only when run.

This package is the only part of qdx that prints or exits. Each command lives in its own
module (``qdx/cli/<name>.py``) exposing a click command named like the module; exit statuses
are 0 OK, 1 data or validation problems, 2 usage errors.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click

from qdx import __version__

# name -> (module, one-line help). Listing the help here keeps `qdx --help` from importing
# every command (and pandas/openpyxl behind them).
COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("qdx.cli.info", "Summarise a project or codebook."),
    "validate": ("qdx.cli.validate", "Check schema, integrity and (optionally) GT structure."),
    "convert": ("qdx.cli.convert", "Convert between REFI-QDA and NVivo formats."),
    "segments": ("qdx.cli.segments", "List coded segments with their exact text."),
    "audit": ("qdx.cli.audit", "Audit codebook consistency."),
    "diff": ("qdx.cli.diff", "Show what changed between two projects."),
    "merge": ("qdx.cli.merge", "Merge several coders' projects into one."),
    "agree": ("qdx.cli.agree", "Intercoder agreement (NVivo kappa, alpha, ...)."),
    "saturation": ("qdx.cli.saturation", "Code-discovery curve and saturation tests."),
    "matrix": ("qdx.cli.matrix", "Coding matrix (code x source/case/variable/code)."),
    "report": ("qdx.cli.report", "Write the full report (.xlsx workbook or .html page)."),
    "export": ("qdx.cli.export", "Export tidy tables (parquet/csv)."),
    "codebook": ("qdx.cli.codebook", "Write the codebook appendix (.docx, .md, .html)."),
    "model": ("qdx.cli.model", "Draw the grounded-theory model (.svg, .pdf, .png)."),
    "git": ("qdx.cli.git", "Install qdx as git's diff and merge driver."),
}


# click >= 8.2 raises this for a bare `qdx` so that the help text is shown (exit 2).
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _) in COMMANDS.items() if _available(module)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None or not _available(entry[0]):
            return None
        module = importlib.import_module(entry[0])
        command = getattr(module, cmd_name.replace("-", "_"))
        assert isinstance(command, click.Command)
        return command

    def main(
        self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
        standalone_mode: bool = True, **extra: Any,
    ) -> Any:
        """Run as click does, but a usage error is one line like every other qdx error
        (``qdx: error: ...``, exit 2) instead of click's usage block."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        from qdx.cli._common import echo

        try:
            status = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _NO_ARGS_IS_HELP as exc:  # bare `qdx`: the help text, as click shows it
            exc.show()
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            hint = f" (see {ctx.command_path} --help)" if isinstance(exc, click.UsageError) and ctx else ""
            if _json_wanted(ctx, sys.argv[1:] if args is None else list(args)):
                from qdx.cli._common import emit_json

                error = {"message": exc.format_message(), "location": None, "type": "UsageError"}
                emit_json({"error": error})
            echo(f"qdx: error: {exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            echo("qdx: aborted", err=True)
            sys.exit(1)
        sys.exit(status if isinstance(status, int) else 0)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _json_wanted(ctx: click.Context | None, args: list[str]) -> bool:
    """A usage error click found before the command ran (a bad option value): under
    ``--json``, for a command that takes it, stdout gets the error as JSON too, as for
    every other error (:func:`qdx.cli._common.fail`)."""
    if ctx is None or not any(param.name == "as_json" for param in ctx.command.params):
        return False
    options = args[: args.index("--")] if "--" in args else args
    return "--json" in options


def _available(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qdx")
def main() -> None:
    """qdx: portable, auditable qualitative research data (REFI-QDA, NVivo exports)."""
