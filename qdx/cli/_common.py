"""Shared pieces of the CLI: reading inputs, JSON output, one-place error handling."""

from __future__ import annotations

import functools
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NoReturn, ParamSpec, TypeVar

import click

from qdx.cli._json_stream import SLICE, json_pieces
from qdx.errors import QdxError, UnsafeInputError, UsageError
from qdx.model import Project
from qdx.options import PositionUnit
from qdx.safety import DEFAULT_LIMITS, GIB, Limits

P = ParamSpec("P")
R = TypeVar("R")


def choice(option: Any) -> click.Choice[str]:
    """The click choices of a fixed option set: the values of its ``Literal`` type in
    :mod:`qdx.options`, so the command line and the library cannot drift apart."""
    from qdx.options import choices

    return click.Choice(choices(option))


class HiddenAlias(click.Option):
    """An option whose first spelling is the one shown in ``--help``; the later ones (an old
    name kept for one release, e.g. ``--unit``) still work, are not advertised, and say on
    stderr that they are going (so a script's author hears of it before it breaks)."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        shown, self.opts = self.opts, self.opts[:1]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = shown

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        # The old spellings are parsed into their own slot, so handle_parse_result can tell
        # which spelling was used; the value then goes to the option's own name.
        if self.name is None or self.is_flag or self.multiple or self.count:  # value options only
            return super().add_to_parser(parser, ctx)
        all_opts = self.opts
        parser.add_option(obj=self, opts=all_opts[:1], dest=self.name, action="store", nargs=self.nargs)
        parser.add_option(obj=self, opts=all_opts[1:], dest=self._old, action="store", nargs=self.nargs)
        return None

    def get_error_hint(self, ctx: click.Context | None) -> str:
        # click names every spelling ("'--position-unit' / '--unit'"); an error names the one
        # --help shows, as the help and the deprecation warning do.
        return f"'{self.opts[0]}'"

    @property
    def _old(self) -> str:
        return f"{self.name}.old"

    def handle_parse_result(self, ctx: click.Context, opts: Any, args: list[str]) -> tuple[Any, list[str]]:
        if self._old in opts:
            old = opts.pop(self._old)
            if self.name not in opts:
                opts[self.name] = old
            if not ctx.resilient_parsing:
                old_names, new_name = "/".join(self.opts[1:]), self.opts[0]
                echo(f"qdx: warning: {old_names} is now {new_name}; the old name goes in the next release", err=True)
        return super().handle_parse_result(ctx, opts, args)


# --unit meant the position unit in info/segments/convert and the agreement unit in agree:
# each now has its own name, and --unit stays a hidden alias until the next release.
def position_unit_option(
    help: str = "Force the producer's text-position unit.",
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """``--position-unit`` (old spelling ``--unit``): the unit a producer counts positions in."""
    from qdx.options import PositionUnit

    return click.option(
        "--position-unit", "--unit", "unit", cls=HiddenAlias, type=choice(PositionUnit), default=None, help=help
    )


json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def _positive_finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A limit must be a real, positive number: ``nan`` compares false with everything, so
    ``--max-ratio nan`` would silently turn the zip-bomb check off; ``inf`` or 0 likewise."""
    if not math.isfinite(value) or value <= 0:
        raise click.BadParameter(f"{value} is not a finite, positive number")
    return value


def limits_options(func: Callable[P, R]) -> Callable[P, R]:
    """Add --max-member-size / --max-ratio (the zip safety limits) to a command, as two
    arguments (:func:`archive_limits` turns them into one ``Limits``: use that)."""
    func = click.option(
        "--max-member-size",
        type=click.IntRange(min=1),
        default=2 * GIB,
        show_default=True,
        help="Refuse archive members that inflate past this many bytes.",
    )(func)
    return click.option(
        "--max-ratio",
        type=float,
        default=1000.0,
        show_default=True,
        callback=_positive_finite,
        help="Refuse archive members compressed more than this ratio (zip bombs).",
    )(func)


def make_limits(max_member_size: int, max_ratio: float) -> Limits:
    return Limits(max_member_size=max_member_size, max_ratio=max_ratio)


# What a terminal would act on rather than show: C0 controls (ESC starts escape sequences,
# BEL rings, CR overwrites the line, LF starts a forged one), DEL, C1 controls (U+009B is a
# one-byte CSI on some terminals), the Unicode line/paragraph separators and the bidi
# overrides that reorder what is shown ("Trojan Source").
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# In JSON, C0 controls are escaped by json.dumps already (and LF/TAB are layout).
_UNSAFE_IN_JSON = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(text: str) -> str:
    """``text`` with everything a terminal would act on shown as ``\\xNN``/``\\uNNNN``."""
    return _UNSAFE.sub(_shown, text)


def echo(text: str = "", *, err: bool = False) -> None:
    """The one place the CLI prints a line (besides JSON, :func:`emit_json`): names, GUIDs and
    messages from a file are data, so a control character in them is shown escaped and a
    newline cannot forge a second line (``qdx: error: ...``) on the terminal or in a log.
    Multi-line output is printed line by line."""
    click.echo(terminal_text(text), err=err)


def archive_limits(func: Callable[..., R]) -> Callable[..., R]:
    """Give a command the zip safety limits as one ``limits: Limits`` argument, from the
    --max-member-size / --max-ratio options every command that reads a project takes (one
    place for the options and their plumbing, instead of a copy in each command)."""

    @functools.wraps(func)
    def wrapper(*args: Any, max_member_size: int, max_ratio: float, **kwargs: Any) -> R:
        return func(*args, limits=make_limits(max_member_size, max_ratio), **kwargs)

    return limits_options(wrapper)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn QdxError into a one-line message on stderr and exit 1 (UsageError: exit 2);
    under ``--json`` also ``{"error": {...}}`` on stdout (:func:`fail`)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except UsageError as exc:
            fail(exc, 2)
        except QdxError as exc:
            fail(exc, 1)
        except KeyboardInterrupt:
            echo("qdx: interrupted", err=True)
            sys.exit(130)

    return wrapper


def _after_error() -> None:
    """The error is reported: what a library's half-built objects print while being
    garbage-collected ("Exception ignored in ...": openpyxl's zip and sheet writers after a
    full disk) would only bury that one line in tracebacks, so it is not printed."""
    sys.unraisablehook = lambda unraisable: None


def fail(exc: QdxError, status: int, document: dict[str, object] | None = None) -> NoReturn:
    """End a command on ``exc``: its one line on stderr and exit ``status``. Under ``--json``
    stdout gets one JSON document too, so a script reading stdout always has something to
    parse: ``document`` (if any) plus ``{"error": {"message", "location", "type"}}``."""
    if json_requested():
        emit_json({**(document or {}), **error_document(exc)})
    echo(f"qdx: error: {exc}", err=True)
    _after_error()
    sys.exit(status)


def error_document(exc: QdxError) -> dict[str, object]:
    """``exc`` as JSON: message, location (null when none) and the error class name."""
    return {"error": {"message": exc.message, "location": exc.location, "type": type(exc).__name__}}


def json_requested() -> bool:
    """True when the running command was given ``--json``."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.params.get("as_json"))


# Reads smaller than this finish before a bar would be worth drawing.
PROGRESS_MIN_BYTES = 8 << 20


# A single input or output file named "-" is standard input or output (POSIX convention).
STDIN = "-"
STDIN_LABEL = "<stdin>"


def read_stdin(limits: Limits) -> bytes:
    """Standard input's bytes, for an input named ``-``. A pipe has no size to check first, so
    reading stops past --max-member-size and refuses (a project is never that large).

    Raises:
        UnsafeInputError: standard input holds more than ``limits.max_member_size`` bytes.
        UsageError: ``-`` was given twice (the second read would find it empty).
    """
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        if ctx.meta.get("qdx.stdin"):
            raise UsageError("standard input (-) can be read once; name the other inputs by their paths")
        ctx.meta["qdx.stdin"] = True
    data = sys.stdin.buffer.read(limits.max_member_size + 1)
    if len(data) > limits.max_member_size:
        raise UnsafeInputError(
            f"input is over the limit of {limits.max_member_size} bytes (--max-member-size); refused",
            location=STDIN_LABEL,
        )
    return data


STDOUT = "-"


def stdout_format(output: str | None, to: str | None) -> str | None:
    """The format of ``-o -`` (standard output): ``--to``, since there is no file name to
    take it from. None when the output is a file (its extension decides).

    Raises:
        UsageError: ``-o -`` without ``--to``, ``--to`` without ``-o -``, or ``-o -`` with
            ``--json`` (standard output then holds the data itself).
    """
    if output != STDOUT:
        if to is not None:
            raise UsageError("--to needs -o - (a file's extension gives its format)")
        return None
    if to is None:
        raise UsageError("-o - writes to standard output: say the format with --to")
    if json_requested():
        raise UsageError("-o - writes the data to standard output; drop --json (or use --to json)")
    return to


def write_stdout(write: Callable[[IO[bytes]], object]) -> None:
    """Hand standard output's byte stream to ``write`` (the same writer a file would get)."""
    stream = sys.stdout.buffer
    write(stream)
    stream.flush()


def load_bytes(data: bytes, *, limits: Limits | None = None, unit: PositionUnit | None = None) -> Project:
    """:func:`load` of an input read already (standard input): the format comes from its content."""
    from qdx.api import read_bytes
    from qdx.formats import ReadOptions

    return read_bytes(data, ReadOptions(label=STDIN_LABEL, unit=unit, limits=limits or DEFAULT_LIMITS))


def load(
    path: str, *, limits: Limits | None = None, unit: PositionUnit | None = None, progress: bool | None = None
) -> Project:
    """Read a project for a command (the library does the work; this only adapts options).

    ``progress``: draw a progress bar on stderr while reading; by default only for a large
    file on an interactive terminal, never under ``--json`` nor inside another bar (a
    command drawing its own sets ``click`` context ``meta["qdx.progress"]``).
    """
    from qdx.api import read

    if path == STDIN:
        return load_bytes(read_stdin(limits or DEFAULT_LIMITS), limits=limits, unit=unit)
    options: dict[str, Any] = {"unit": unit} if limits is None else {"unit": unit, "limits": limits}
    if not (auto_progress(path) if progress is None else progress):
        return read(path, **options)
    with click.progressbar(length=1, label=f"reading {Path(path).name}", file=sys.stderr) as bar:

        def advance(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        return read(path, progress=advance, **options)


def auto_progress(path: str) -> bool:
    """Draw a progress bar for ``path``: a large file, an interactive terminal, no --json."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and (ctx.params.get("as_json") or ctx.meta.get("qdx.progress")):
        return False
    try:
        large = os.path.getsize(path) >= PROGRESS_MIN_BYTES
    except OSError:
        return False
    return large and sys.stderr.isatty()


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON, streamed: never the whole document as one string.

    ``json.dumps`` of a 50M-character segment held the text four times at once (the escaped
    string, the joined document, the control-escaped copy, its UTF-8 bytes): 0.7 GB
    (:mod:`qdx.cli._json_stream`).
    """
    # json escapes C0 controls itself; DEL, C1 and the separators/bidi controls it leaves raw
    # are escaped too (still valid JSON: they can only occur inside strings). Each is one
    # character, so escaping piece by piece is escaping the whole.
    pending: list[str] = []
    size = 0
    for piece in json_pieces(data):
        pending.append(_UNSAFE_IN_JSON.sub(_json_escape, piece))
        size += len(piece)
        if size >= SLICE:
            click.echo("".join(pending), nl=False)
            pending, size = [], 0
    click.echo("".join(pending))


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def same_file(a: str, b: str) -> bool:
    """True when both paths exist and name the same file (links and spellings resolved)."""
    return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)


def refuse_overwriting_input(output: str, *inputs: str, in_place_option: bool = False) -> None:
    """Writing onto an input would lose it if anything went wrong: refuse (usage error)."""
    hint = " or pass --in-place" if in_place_option else ""
    if any(same_file(output, item) for item in inputs):
        raise UsageError(f"output {output} is the input; write elsewhere{hint}")


def given(param: str) -> bool:
    """True when the user set option ``param`` (by its parameter name) on the command line."""
    from click.core import ParameterSource

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return False
    return ctx.get_parameter_source(param) not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def require_option(needed: str, present: bool, **dependents: str) -> None:
    """Options that only mean something with another option: a usage error without it, never
    silently ignored. ``dependents`` maps parameter names to their flags (``core="--core"``).

    Raises:
        UsageError: a dependent option was given while ``needed`` was not.
    """
    if present:
        return
    used = [flag for param, flag in dependents.items() if given(param)]
    if used:
        verb = "needs" if len(used) == 1 else "need"
        raise UsageError(f"{' and '.join(used)} {verb} {needed}")


def progress_enabled(as_json: bool) -> bool:
    """Progress bars only on an interactive terminal and never under --json."""
    return not as_json and sys.stderr.isatty()
