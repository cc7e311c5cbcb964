"""The saturation curve as PNG, SVG or PDF (matplotlib, imported only when drawing).

Bars: new codes per document; lines: cumulative codes at each level of the code tree; the
held-out documents are shaded and the Guest 2020 point, when reached, is marked. The file's
suffix names the format; any other suffix is refused before anything is computed or written.

>>> plot_saturation(qdx.saturation(project), "curve.svg")   # doctest: +SKIP
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, BinaryIO

from qdx.report.output import require_suffix
from qdx.safety import atomic_write

if TYPE_CHECKING:
    from qdx.analysis.saturation import SaturationResult

PLOT_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
# The sheet writer places an image at 60 % of the size its resolution gives (qdx.report.sheets).
SHEET_IMAGE_SCALE = 0.6
DRAW_DPI = 110

_MAX_TICK_LABELS = 40
_MAX_BARS = 30  # as many codes as one printed page shows readably; the lowest come first
_PLURAL = {"concept": "concepts", "subcategory": "subcategories", "main category": "main categories", "core": "core"}


def plot_format(path: str | os.PathLike[str]) -> str:
    """The drawing format a file name asks for (``png``, ``svg`` or ``pdf``).

    Raises:
        UsageError: any other suffix (naming an SVG ``.png`` would mislead every viewer).
    """
    return PLOT_FORMATS[require_suffix(path, tuple(PLOT_FORMATS), "a drawing")]


def plot_saturation(result: SaturationResult, path: str | os.PathLike[str]) -> None:
    """Draw the curve (held-out part shaded, Guest point marked) atomically, in the format
    the suffix of ``path`` names.

    Raises:
        UsageError: an unsupported suffix. WriteError: the file cannot be written.
    """
    fmt = plot_format(path)
    atomic_write(path, lambda stream: draw(result, stream, fmt=fmt))


@contextmanager
def _lettering(names: Iterable[str]) -> Iterator[None]:
    """Names in any script: DejaVu Sans, with the installed CJK font behind it when a name needs
    one (finding it costs 0.1 s); a character no font has is drawn as a box, not reported as a
    warning on the user's terminal."""
    import matplotlib

    from qdx.report.model_render import cjk_fonts

    wide = any(ord(ch) >= 0x2E80 for name in names for ch in name)  # CJK radicals onwards
    families = ["DejaVu Sans", *(cjk_fonts() if wide else [])]
    with warnings.catch_warnings(), matplotlib.rc_context({"font.family": families}):
        warnings.filterwarnings("ignore", message="Glyph .* missing", category=UserWarning)
        yield


def label(name: str, width: int = 48) -> str:
    """A name as a chart label: one line (tabs, returns and newlines are spaces), ``$`` not read
    as mathtext, at most ``width`` characters."""
    one = " ".join(name.split())
    one = one if len(one) <= width else one[: width - 1] + "…"
    return one.replace("$", r"\$")


def draw(result: SaturationResult, stream: BinaryIO, *, fmt: str = "png", max_width: float | None = None) -> None:
    """Render ``result`` into ``stream`` as ``png``, ``svg`` or ``pdf``; ``max_width`` (inches)
    caps the figure's width, which otherwise grows with the number of documents."""
    with _lettering(p.document for p in result.curve):
        _draw(result, stream, fmt, max_width)


def _draw(result: SaturationResult, stream: BinaryIO, fmt: str, max_width: float | None) -> None:
    # A bare Figure (no pyplot) renders through the Agg canvas and leaves the process's
    # global backend alone, so a library call never changes a user's interactive setup.
    from matplotlib.figure import Figure

    curve = result.curve
    xs = list(range(1, len(curve) + 1))
    width = max(8.0, 0.45 * len(curve) + 3)
    fig = Figure(figsize=(min(width, max_width or width), 5.5), dpi=DRAW_DPI)
    ax = fig.add_subplot()
    colours = ["#cb181d" if p.held_out else "#9ecae1" for p in curve]
    ax.bar(xs, [p.new for p in curve], color=colours, label="new codes in document")
    if any(p.held_out and p.new for p in curve):
        ax.bar([0], [0], color="#cb181d", label="new codes in a held-out document")  # legend entry only
    for level in result.levels:
        ax.plot(
            xs,
            [p.levels[level].cumulative for p in curve],
            marker="o",
            markersize=3,
            label=f"cumulative {_PLURAL.get(level, level)}",
        )
    top = max([p.cumulative for p in curve] + [p.new for p in curve] + [1])
    ax.set_ylim(0, top * 1.18)  # headroom for the held-out label above every line
    held = [x for x, p in zip(xs, curve, strict=True) if p.held_out]
    if held:
        ax.axvspan(min(held) - 0.5, max(held) + 0.5, color="#fdd0a2", alpha=0.5, label="held-out documents")
        verdict = "passed" if result.holdout is not None and result.holdout.saturated else "FAILED"
        ax.text(min(held) - 0.4, top * 1.15, f"held-out test {verdict}", va="top", fontsize=9, fontweight="bold")
    guest = result.guest2020
    if guest.reached:
        n = int(guest.point.split("+")[0])
        ax.axvline(n + 0.5, color="#636363", linestyle="--", linewidth=1, label=f"Guest 2020 saturation {guest.point}")
    step = max(1, -(-len(curve) // _MAX_TICK_LABELS))
    ax.set_xticks(xs[::step], [label(p.document) for p in curve][::step], rotation=60, ha="right", fontsize=8)
    ax.set_xlim(0.4, len(curve) + 0.6)
    ax.set_xlabel(f"documents (order: {result.order})")
    ax.set_ylabel("codes")
    ax.set_title("Code discovery curve")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)  # outside: never hides a line
    fig.tight_layout()
    # Fixed metadata keep the bytes the same from run to run (no creation date in SVG/PDF).
    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
    fig.savefig(stream, format=fmt, metadata=metadata)


def kappa_chart(kappas: Sequence[tuple[str, float]], low: float) -> bytes:
    """A PNG bar chart of one kappa per code, lowest first, so a coder meeting starts with the
    codes the coders read differently; bars under ``low`` red, a dashed line at ``low``. At most
    30 codes (the lowest; the title then says so), so the chart prints on one page.

    A kappa that is undefined (NaN) gets no bar and the label "n/a": a bar of 0 would claim
    an agreement no worse than chance that nobody measured.
    """
    with _lettering(code for code, _ in kappas):
        return _kappa_png(kappas, low)


def _kappa_png(kappas: Sequence[tuple[str, float]], low: float) -> bytes:
    import io

    from matplotlib.figure import Figure

    measured = sorted(((c, k) for c, k in kappas if k == k), key=lambda ck: ck[1])
    undefined = [c for c, k in kappas if k != k]
    measured, undefined = measured[:_MAX_BARS], undefined[: max(0, _MAX_BARS - len(measured))]
    names = [label(c) for c, _ in measured] + [label(c) for c in undefined]
    fig = Figure(figsize=(9.0, 1.3 + 0.24 * max(len(names), 1)), dpi=150)  # 30 bars: 8.5 in, one printed page
    ax = fig.add_subplot()
    ys = list(range(len(names)))
    values = [k for _, k in measured]
    ax.barh(ys[: len(measured)], values, color=["#cb181d" if k < low else "#6baed6" for k in values])
    for y, k in zip(ys, values, strict=False):  # the value beside each bar: a kappa of 0 has no bar
        ax.text(max(k, 0.0) + 0.01, y, f"{k:.2f}", va="center", fontsize=9, color="#cb181d" if k < low else "#252525")
    for y in ys[len(measured):]:
        ax.text(0.01, y, "n/a", va="center", fontsize=9, color="#636363")
    ax.axvline(low, color="#636363", linestyle="--", linewidth=1)
    ax.set_yticks(ys, names, fontsize=10)
    ax.invert_yaxis()  # lowest kappa at the top
    ax.set_xlim(min([0.0, *values]) - 0.05, 1.08)
    ax.set_xlabel(f"Cohen's kappa, pooled over the code's sources (dashed: {low:.2f}; red: below it)", fontsize=10)
    shown = "" if len(names) == len(kappas) else f": the {len(names)} lowest of {len(kappas)} codes"
    ax.set_title(f"Agreement per code{shown}", fontsize=12)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    stream = io.BytesIO()
    fig.savefig(stream, format="png", metadata={"Software": None})
    return sheet_image(stream.getvalue(), 150)


def sheet_image(png: bytes, dpi: float) -> bytes:
    """``png`` (drawn at ``dpi``) marked with the resolution at which a sheet shows it at the
    figure's own size in inches, so its lettering prints at the size it was drawn in.

    XlsxWriter sizes an image by the PNG's pHYs resolution (96 dpi shows pixels 1:1) and the
    sheet writer then scales it by :data:`SHEET_IMAGE_SCALE`; stating ``dpi`` × that scale undoes
    both. Only the pHYs chunk changes (PNG specification §11.3.5.3), with its CRC.
    """
    import struct
    import zlib

    per_metre = round(dpi * SHEET_IMAGE_SCALE / 0.0254)
    data = struct.pack(">IIB", per_metre, per_metre, 1)
    chunk = struct.pack(">I", len(data)) + b"pHYs" + data + struct.pack(">I", zlib.crc32(b"pHYs" + data))
    out, pos, placed = [png[:8]], 8, False
    while pos < len(png):
        length = struct.unpack(">I", png[pos:pos + 4])[0]
        kind, end = png[pos + 4:pos + 8], pos + 12 + length
        if kind == b"pHYs":
            out.append(chunk)
            placed = True
        else:
            out.append(png[pos:end])
            if kind == b"IHDR" and b"pHYs" not in png:
                out.append(chunk)
                placed = True
        pos = end
    return b"".join(out) if placed else png
