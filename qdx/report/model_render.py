"""The model figure's two renderers of one :class:`~qdx.report.model_layout.Scene`.

:func:`svg_text` writes SVG directly (text stays text, every string escaped, a
``<title>``/``<desc>`` for screen readers) and :func:`render_matplotlib` draws the same scene
for ``.pdf``/``.png`` with a CJK-capable font when one is installed.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from qdx.report.model_layout import LABEL_FONT, LINE, MARGIN, PAD, Box, Line, Scene, label_size

FONT_STACK = '"Noto Sans", "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "DejaVu Sans", sans-serif'


# --------------------------------------------------------------------------- SVG


def _tint(color: str, amount: float = 0.85) -> str:
    """``color`` mixed with white (box fills light enough for dark text)."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    mix = [round(c + (255 - c) * amount) for c in (r, g, b)]
    return "#" + "".join(f"{c:02X}" for c in mix)


def _svg_box(box: Box) -> Iterator[str]:
    fill = "#FFFFFF" if box.depth == 0 else _tint(box.color)
    stroke = "#222222" if box.depth == 0 else box.color
    yield (f'<g class="box" data-key={quoteattr(box.key)}><title>{escape(box.name)} — {escape(box.count)}</title>'
           f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" rx="6" '
           f'fill="{fill}" stroke="{stroke}" stroke-width="{box.border}"/>')
    weight = ' font-weight="bold"' if box.bold else ""
    y = box.y + PAD + box.font
    for line in box.lines:
        yield (f'<text x="{box.cx:.1f}" y="{y:.1f}" font-size="{box.font}"{weight} text-anchor="middle">'
               f"{escape(line)}</text>")
        y += box.font * LINE
    yield (f'<text x="{box.cx:.1f}" y="{y:.1f}" font-size="{box.font - 2}" fill="#555555" '
           f'text-anchor="middle">{escape(box.count)}</text></g>')


def _svg_line(line: Line, index: int) -> Iterator[str]:
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in line.points)
    marks = ""
    if line.arrow_end:
        marks += f' marker-end="url(#arrow-{index})"'
    if line.arrow_start:
        marks += f' marker-start="url(#arrow-{index})"'
    dash = ' stroke-dasharray="6 4"' if line.dashed else ""
    if line.arrow_end or line.arrow_start:
        size = round(8 + 2.5 * line.width, 1)  # a head that stays visible on a thick line
        yield (f'<defs><marker id="arrow-{index}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="{size}" '
               f'markerHeight="{size}" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
               f'<path d="M0,0 L10,5 L0,10 z" fill="{line.color}"/></marker></defs>')
    yield (f'<polyline points="{points}" fill="none" stroke="{line.color}" stroke-width="{line.width}"'
           f'{dash}{marks}/>')


def _svg_label(line: Line) -> Iterator[str]:
    if not line.label:
        return
    size = LABEL_FONT
    x, y = line.label_at
    width, height = label_size(line.label)
    yield (f'<rect x="{x - width / 2:.1f}" y="{y - height / 2:.1f}" width="{width:.1f}" height="{height:.1f}" '
           f'fill="#FFFFFF" fill-opacity="0.9" stroke="{line.color}" stroke-width="0.6" rx="3"/>')
    ty = y - height / 2 + 2 + size
    for text in line.label:
        yield (f'<text x="{x:.1f}" y="{ty:.1f}" font-size="{size}" fill="{line.color}" text-anchor="middle">'
               f"{escape(text)}</text>")
        ty += size * LINE


def svg_text(scene: Scene) -> str:
    """The scene as a standalone SVG document (every name escaped; text stays selectable)."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{scene.width:.0f}" height="{scene.height:.0f}" '
        f'viewBox="0 0 {scene.width:.1f} {scene.height:.1f}" role="img" aria-labelledby="model-title model-desc" '
        f'font-family={quoteattr(FONT_STACK)}>',
        f'<title id="model-title">{escape(scene.title)}</title>'
        f'<desc id="model-desc">{escape(scene.description)}</desc>',
        f'<rect width="{scene.width:.1f}" height="{scene.height:.1f}" fill="#FFFFFF"/>',
    ]
    for index, line in enumerate(scene.lines):
        parts.extend(_svg_line(line, index))
    for box in scene.boxes:
        parts.extend(_svg_box(box))
    for line in scene.lines:
        parts.extend(_svg_label(line))
    parts.append(f'<text x="{MARGIN}" y="{scene.height - 10:.1f}" font-size="9" fill="#777777">'
                 f"{escape(_legend(scene))}</text>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _legend(scene: Scene) -> str:
    return ("Line weight and box border: coded references (the code and all below it). "
            "Arrows: the project's links. Drawn by qdx.")


# --------------------------------------------------------------------------- matplotlib


def cjk_fonts() -> list[str]:
    """Families of installed CJK fonts matplotlib knows, registering system ones it has not
    seen yet (its font cache may predate the fonts)."""
    from matplotlib import font_manager

    def known() -> list[str]:
        return sorted({f.name for f in font_manager.fontManager.ttflist if "CJK" in f.name})

    if not known():
        for path in font_manager.findSystemFonts():
            if "CJK" in Path(path).name:
                font_manager.fontManager.addfont(path)
    names = known()
    preferred: list[str] = [n for n in ("Noto Sans CJK SC", "Noto Sans CJK JP") if n in names]
    return preferred or names[:1]


def render_matplotlib(scene: Scene, fmt: str) -> bytes:
    """The scene as ``pdf`` or ``png`` bytes, drawn with matplotlib (Agg, no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    dpi = 100
    pt = 72 / dpi  # a pixel in points at this dpi
    families = ["DejaVu Sans", *cjk_fonts()]
    with matplotlib.rc_context({"font.family": families, "pdf.fonttype": 42, "svg.fonttype": "none"}):
        figure = Figure(figsize=(scene.width / dpi, scene.height / dpi), dpi=dpi)
        axes = figure.add_axes((0, 0, 1, 1))
        axes.set_xlim(0, scene.width)
        axes.set_ylim(scene.height, 0)
        axes.axis("off")
        for line in scene.lines:
            _mpl_line(axes, line, pt)
        for box in scene.boxes:
            _mpl_box(axes, box, pt)
        for line in scene.lines:
            _mpl_label(axes, line, pt)
        axes.text(MARGIN, scene.height - 10, _legend(scene), fontsize=9 * pt, color="#777777", parse_math=False)
        out = io.BytesIO()
        figure.savefig(out, format=fmt, dpi=dpi * 2 if fmt == "png" else dpi, facecolor="white",
                       metadata={"Title": scene.title} if fmt == "pdf" else None)
    return out.getvalue()


def _mpl_box(axes: Any, box: Box, pt: float) -> None:
    from matplotlib.patches import FancyBboxPatch

    fill = "#FFFFFF" if box.depth == 0 else _tint(box.color)
    stroke = "#222222" if box.depth == 0 else box.color
    axes.add_patch(FancyBboxPatch((box.x, box.y), box.w, box.h, boxstyle="round,pad=0,rounding_size=6",
                                  facecolor=fill, edgecolor=stroke, linewidth=box.border * pt, zorder=3))
    y = box.y + PAD + box.font
    for line in box.lines:
        # parse_math=False: a name with "$...$" is text, not matplotlib mathtext (which can fail).
        axes.text(box.cx, y, line, fontsize=box.font * pt, fontweight="bold" if box.bold else "normal",
                  ha="center", va="baseline", zorder=4, parse_math=False)
        y += box.font * LINE
    axes.text(box.cx, y, box.count, fontsize=(box.font - 2) * pt, color="#555555", ha="center", parse_math=False,
              va="baseline", zorder=4)


def _mpl_line(axes: Any, line: Line, pt: float) -> None:
    from matplotlib.patches import FancyArrowPatch

    xs = [p[0] for p in line.points]
    ys = [p[1] for p in line.points]
    style = "--" if line.dashed else "-"
    if not (line.arrow_end or line.arrow_start):
        axes.plot(xs, ys, color=line.color, linewidth=line.width * pt, linestyle=style, zorder=1)
        return
    arrow = "<->" if line.arrow_end and line.arrow_start else ("->" if line.arrow_end else "<-")
    axes.add_patch(FancyArrowPatch(line.points[0], line.points[-1], arrowstyle=arrow + ",head_length=6,head_width=3",
                                   color=line.color, linewidth=line.width * pt, linestyle=style, zorder=2,
                                   shrinkA=0, shrinkB=0))


def _mpl_label(axes: Any, line: Line, pt: float) -> None:
    if not line.label:
        return
    x, y = line.label_at
    axes.text(x, y, "\n".join(line.label), fontsize=LABEL_FONT * pt, color=line.color, ha="center", va="center",
              parse_math=False,
              zorder=5, bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": line.color,
                              "linewidth": 0.6 * pt, "alpha": 0.9})
