"""The grounded-theory model as a figure: core on top, main categories, subcategories (concepts
on request), the project's Links as labelled arrows.

qdx computes the layout itself (a tiered tree needs no graph engine): the core category is
centred on top, the main categories stand in a row below it, and each main category's
subcategories (and their concepts) are stacked in a column under it, joined to it by a spine.
Line weights and box borders grow with the number of coded references below a code (its own
codings and all below it), so the figure shows where the data is. Colours come from the
codebook. A Link (REFI §3.10: origin, target, direction, name) that joins a parent and its
child is drawn *as* that tree line with an arrowhead and its name; any other Link is an extra
arrow between the two boxes.

One layout, two renderers: :func:`svg_text` writes SVG directly (text stays text, every string
escaped, a ``<title>``/``<desc>`` for screen readers) and :func:`render_matplotlib` draws the
same scene for ``.pdf``/``.png`` with a CJK-capable font when one is installed.
"""

from __future__ import annotations

import io
import math
import os
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from qdx.errors import UsageError
from qdx.model import Direction, Project, guid_key
from qdx.report.codebook_data import CodebookData, CodebookEntry, codebook_data, valid_color, xml_text

MODEL_SUFFIXES = (".svg", ".pdf", ".png")
FONT_STACK = '"Noto Sans", "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "DejaVu Sans", sans-serif'
# (font size px, bold, box inner width px) per tier: core, main, sub, concept (deeper: as concept).
_TIERS = ((16, True, 260), (13, True, 170), (11, False, 170), (10, False, 150))
PAD = 8
LINE = 1.3  # line height as a multiple of the font size
COLUMN_GAP = 28
ROW_GAP = 10
TIER_GAP = 150  # room between the core and the main row for link labels
MARGIN = 24
DEFAULT_COLOR = "#6B6B6B"
LINK_COLOR = "#B03A2E"
LABEL_FONT = 10
LABEL_WIDTH = 118
LABEL_AT = 0.68  # labels sit two thirds down a core→main arrow, where the arrows have fanned out


# --------------------------------------------------------------------------- scene


@dataclass(frozen=True, slots=True)
class Box:
    """A code's box: top-left corner, size, wrapped name lines and a count line."""

    key: str
    name: str
    depth: int
    x: float
    y: float
    w: float
    h: float
    lines: tuple[str, ...]
    count: str
    font: float
    bold: bool
    color: str
    border: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass(frozen=True, slots=True)
class Line:
    """A polyline; ``arrow_end``/``arrow_start`` put arrowheads on it, ``label`` at ``label_at``."""

    points: tuple[tuple[float, float], ...]
    width: float
    color: str
    arrow_end: bool = False
    arrow_start: bool = False
    dashed: bool = False
    label: tuple[str, ...] = ()
    label_at: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True, slots=True)
class Scene:
    """Everything the renderers draw, in pixels; ``description`` is the figure's alt text."""

    width: float
    height: float
    boxes: tuple[Box, ...]
    lines: tuple[Line, ...]
    title: str
    description: str
    depth: int
    counts: dict[int, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- text


def char_width(char: str, size: float, bold: bool = False) -> float:
    """Estimated advance of ``char``: wide (CJK, full-width) characters one em, others ~0.57 em."""
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return size
    return size * (0.62 if bold else 0.57)


def text_width(text: str, size: float, bold: bool = False) -> float:
    return sum(char_width(c, size, bold) for c in text)


def _pieces(text: str) -> Iterator[str]:
    """Words (with their trailing space) and single wide characters: the places a line may break."""
    word = ""
    for char in text:
        if unicodedata.east_asian_width(char) in ("W", "F"):
            if word:
                yield word
                word = ""
            yield char
        elif char == " ":
            yield word + " "
            word = ""
        else:
            word += char
    if word:
        yield word


def wrap(text: str, width: float, size: float, bold: bool = False, max_lines: int = 4) -> tuple[str, ...]:
    """``text`` broken into lines no wider than ``width`` (a longer word is cut); at most
    ``max_lines``, the last ending in … when text was left out."""
    lines: list[str] = []
    current = ""
    for piece in _pieces(" ".join(text.split())):
        if current and text_width((current + piece).rstrip(), size, bold) > width:
            lines.append(current.rstrip())
            current = ""
        while text_width(piece.rstrip(), size, bold) > width:  # one word wider than the box
            cut = _fit(piece, width, size, bold)
            lines.append(piece[:cut])
            piece = piece[cut:]
        current += piece
    if current.strip():
        lines.append(current.rstrip())
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], lines[max_lines - 1][: max(1, len(lines[max_lines - 1]) - 1)] + "…"]
    return tuple(lines) or ("",)


def _fit(text: str, width: float, size: float, bold: bool) -> int:
    used = 0.0
    for index, char in enumerate(text):
        used += char_width(char, size, bold)
        if used > width:
            return max(1, index)
    return len(text)


# --------------------------------------------------------------------------- layout


def _tier(depth: int) -> tuple[int, bool, int]:
    return _TIERS[min(depth, len(_TIERS) - 1)]


def _weight(refs: int, most: int, widest: float = 6.0) -> float:
    """Line weight 1–``widest`` px, by the square root of the references (area-like growth)."""
    if most <= 0:
        return 1.0
    return round(1.0 + (widest - 1.0) * math.sqrt(refs / most), 2)


def _box(entry: CodebookEntry, x: float, y: float, tier_depth: int, most: int) -> Box:
    size, bold, inner = _tier(tier_depth)
    name = xml_text(entry.name)  # SVG is XML: control characters from other files cannot go in
    lines = wrap(name, inner, size, bold)
    height = PAD * 2 + size * LINE * len(lines) + (size - 1) * LINE
    return Box(key=entry.guid, name=name, depth=tier_depth, x=x, y=y, w=inner + 2 * PAD, h=height,
               lines=lines, count=_count_text(entry), font=size, bold=bold, color=entry.color or DEFAULT_COLOR,
               border=_weight(entry.references_total or 0, most, 3.0))


def _count_text(entry: CodebookEntry) -> str:
    if entry.references_total is None:
        return "refs n/a"
    sources = f" · {entry.sources_total} sources" if entry.sources_total is not None else ""
    return f"{entry.references_total} refs{sources}"


@dataclass
class _Layout:
    book: CodebookData
    depth: int
    children: dict[str, list[CodebookEntry]]
    most: dict[int, int]
    boxes: list[Box] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    by_key: dict[str, Box] = field(default_factory=dict)

    def add(self, box: Box) -> Box:
        self.boxes.append(box)
        self.by_key[guid_key(box.key)] = box
        return box


def _children(book: CodebookData) -> dict[str, list[CodebookEntry]]:
    """Children per parent GUID key ('' for the roots), in tree order."""
    found: dict[str, list[CodebookEntry]] = {}
    parents: list[CodebookEntry] = []
    for entry in book.entries:
        del parents[entry.depth:]
        found.setdefault(guid_key(parents[-1].guid) if parents else "", []).append(entry)
        parents.append(entry)
    return found


def _column(lay: _Layout, entry: CodebookEntry, x: float, y: float, tier: int) -> tuple[float, float]:
    """Stack ``entry``'s descendants (down to the figure depth) under its box at (x, y); returns
    the column's width and bottom. Children hang off a spine on the box's left."""
    parent = lay.add(_box(entry, x, y, tier, lay.most.get(tier, 0)))
    width, bottom = parent.w, parent.bottom
    if tier + 1 >= lay.depth:
        return width, bottom
    indent = 18.0 if tier >= 2 else 12.0
    spine_x = x + indent / 2
    stubs: list[tuple[float, CodebookEntry]] = []
    for child in lay.children.get(guid_key(entry.guid), []):
        top = bottom + ROW_GAP
        child_w, child_bottom = _column(lay, child, x + indent, top, tier + 1)
        stubs.append((top + lay.by_key[guid_key(child.guid)].h / 2, child))
        width, bottom = max(width, indent + child_w), child_bottom
    for mid, child in stubs:
        weight = _weight(child.references_total or 0, lay.most.get(tier + 1, 0))
        lay.lines.append(Line(((spine_x, parent.bottom), (spine_x, mid), (x + indent, mid)), weight, parent.color))
    return width, bottom


def _levels(book: CodebookData) -> int:
    """The depth of the tier drawn as 'main categories' (1 under a core, else 0)."""
    return 1 if book.has_core else 0


def layout(book: CodebookData, depth: int = 3) -> Scene:
    """The tiered layout of ``book``'s tree down to ``depth`` levels (core = level 1).

    Raises:
        UsageError: ``depth`` below 1, or a project without codes.
    """
    if depth < 1:
        raise UsageError("--depth must be 1 (the core alone) or more")
    if not book.entries:
        raise UsageError("the project has no codes to draw")
    children = _children(book)
    offset = 0 if book.has_core else 1  # without a core the roots are the main categories
    most: dict[int, int] = {}
    for entry in book.entries:
        tier = entry.depth + offset
        most[tier] = max(most.get(tier, 0), entry.references_total or 0)
    lay = _Layout(book=book, depth=depth, children=children, most=most)
    roots = children.get("", [])
    top = MARGIN
    core_box = lay.add(_box(roots[0], 0, top, 0, most.get(0, 0))) if book.has_core else None
    mains = children.get(guid_key(roots[0].guid), []) if book.has_core else roots
    row_y = (core_box.bottom + TIER_GAP) if core_box is not None else top
    x = float(MARGIN)
    bottom = row_y
    if depth >= 2 or core_box is None:
        for main in mains:
            width, column_bottom = _column(lay, main, x, row_y, 1)
            x += width + COLUMN_GAP
            bottom = max(bottom, column_bottom)
    width = max(x - COLUMN_GAP + MARGIN, (core_box.w if core_box else 0) + 2 * MARGIN)
    if core_box is not None:
        centred = replace(core_box, x=(width - core_box.w) / 2)
        lay.boxes[0] = centred
        lay.by_key[guid_key(centred.key)] = centred
        if depth >= 2:
            _core_lines(lay, centred, mains)
    _link_lines(lay, book)
    _spread_labels(lay.lines)
    return _scene(lay, book, width, bottom + MARGIN + 20, depth)


def _core_lines(lay: _Layout, core: Box, mains: Sequence[CodebookEntry]) -> None:
    for main in mains:
        box = lay.by_key[guid_key(main.guid)]
        weight = _weight(main.references_total or 0, lay.most.get(1, 0))
        lay.lines.append(Line(((core.cx, core.bottom), (box.cx, box.y)), weight, box.color))


def _anchor(box: Box, toward: Box) -> tuple[float, float]:
    """Where a straight line from ``box`` toward ``toward`` leaves ``box`` (top/bottom/side)."""
    if toward.y >= box.bottom:
        return box.cx, box.bottom
    if toward.bottom <= box.y:
        return box.cx, box.y
    return (box.x + box.w, box.y + box.h / 2) if toward.x > box.x else (box.x, box.y + box.h / 2)


def _link_lines(lay: _Layout, book: CodebookData) -> None:
    """Each Link whose two ends are drawn: the tree line between them gains arrowheads and the
    Link's name, or a new dashed arrow joins the two boxes."""
    for link in book.links:
        if link.origin is None or link.target is None:
            continue
        origin, target = lay.by_key.get(guid_key(link.origin)), lay.by_key.get(guid_key(link.target))
        if origin is None or target is None or origin is target:
            continue
        both = link.direction is Direction.BIDIRECTIONAL
        one = link.direction is Direction.ONE_WAY or both
        start, end = _anchor(origin, target), _anchor(target, origin)
        mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        label = wrap(xml_text(link.name), LABEL_WIDTH, LABEL_FONT, max_lines=3) if link.name else ()
        tree = _tree_line(lay, origin, target)
        color = valid_color(link.color) or LINK_COLOR
        if tree is not None:
            index, line = tree
            reverse = line.points[0] != start
            lay.lines[index] = replace(line, color=color, arrow_end=(one and not reverse) or both,
                                       arrow_start=(one and reverse) or both, label=label,
                                       label_at=_along(line, LABEL_AT))
        else:
            lay.lines.append(Line((start, end), 1.5, color, arrow_end=one, arrow_start=both, dashed=True,
                                  label=label, label_at=mid))


def _along(line: Line, share: float) -> tuple[float, float]:
    (x1, y1), (x2, y2) = line.points[0], line.points[-1]
    return x1 + (x2 - x1) * share, y1 + (y2 - y1) * share


def label_size(label: Sequence[str]) -> tuple[float, float]:
    """Width and height of a link label's box."""
    return max(text_width(t, LABEL_FONT) for t in label) + 8, LABEL_FONT * LINE * len(label) + 4


def _spread_labels(lines: list[Line]) -> None:
    """Move a label down (then up) past labels it would cover, so every label stays readable."""
    placed: list[tuple[float, float, float, float]] = []
    for index, line in enumerate(lines):
        if not line.label:
            continue
        w, h = label_size(line.label)
        x, y = line.label_at
        for step in (0, 1, -1, 2, -2, 3, -3):
            top = y + step * (h + 4)
            if not any(abs(x - px) < (w + pw) / 2 and abs(top - py) < (h + ph) / 2 for px, py, pw, ph in placed):
                break
        placed.append((x, top, w, h))
        lines[index] = replace(line, label_at=(x, top))


def _tree_line(lay: _Layout, a: Box, b: Box) -> tuple[int, Line] | None:
    """The straight core→main line between ``a`` and ``b`` (either way round), if there is one."""
    wanted = ({(a.cx, a.bottom), (b.cx, b.y)}, {(b.cx, b.bottom), (a.cx, a.y)})
    for index, line in enumerate(lay.lines):
        if len(line.points) == 2 and set(line.points) in wanted:
            return index, line
    return None


def _scene(lay: _Layout, book: CodebookData, width: float, height: float, depth: int) -> Scene:
    counts: dict[int, int] = {}
    for box in lay.boxes:
        counts[box.depth] = counts.get(box.depth, 0) + 1
    names = ["core category", "main categories", "subcategories", "concepts"]
    parts = [f"{n} {names[min(d, 3)] if n != 1 or d else 'core category'}" for d, n in sorted(counts.items())]
    description = (f"Grounded-theory model of {book.title}: " + ", ".join(parts) + ". Line weights show "
                   "coded references; arrows are the project's links.")
    return Scene(width=round(width, 1), height=round(height, 1), boxes=tuple(lay.boxes), lines=tuple(lay.lines),
                 title=xml_text(f"Model: {book.title}"), description=xml_text(description), depth=depth, counts=counts)


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


def _cjk_fonts() -> list[str]:
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
    families = ["DejaVu Sans", *_cjk_fonts()]
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


# --------------------------------------------------------------------------- API


@dataclass(frozen=True, slots=True)
class ModelFigure:
    """The model figure of a project: its :class:`Scene` and renderings.

    In a notebook it displays as SVG. ``save(path)`` writes ``.svg``, ``.pdf`` or ``.png``.
    """

    scene: Scene

    @property
    def svg(self) -> str:
        return svg_text(self.scene)

    def _repr_svg_(self) -> str:
        return self.svg

    def to_bytes(self, suffix: str) -> bytes:
        """The figure as ``.svg``, ``.pdf`` or ``.png`` bytes.

        Raises:
            UsageError: another suffix.
        """
        suffix = suffix.lower()
        if suffix == ".svg":
            return self.svg.encode("utf-8")
        if suffix in (".pdf", ".png"):
            return render_matplotlib(self.scene, suffix[1:])
        raise UsageError(f"cannot draw the model as {suffix or 'a file without extension'}; "
                         f"use {', '.join(MODEL_SUFFIXES)}")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the figure atomically in the format of ``path``'s suffix."""
        from qdx.report.codebook_doc import write_bytes

        write_bytes(path, self.to_bytes(Path(path).suffix))


def figure_from(book: CodebookData, depth: int = 3) -> ModelFigure:
    """:func:`model_figure` over prepared codebook data (reports reuse theirs)."""
    return ModelFigure(layout(book, depth))


def model_figure(project: Project, path: str | os.PathLike[str] | None = None, *, depth: int = 3) -> ModelFigure:
    """The grounded-theory model of ``project`` as a figure; written to ``path`` if given.

    Args:
        project: the project (not modified).
        path: ``.svg``, ``.pdf`` or ``.png`` to write.
        depth: tree levels to draw, the core being level 1: 3 draws core, main categories and
            subcategories; 4 adds the concepts.

    Returns:
        The :class:`ModelFigure` (displays as SVG in a notebook).

    Raises:
        UsageError: a bad depth or suffix, or no codes. WriteError: the file could not be written.

    Example:
        >>> qdx.model_figure(qdx.read("study.qdpx"), "model.svg")   # doctest: +SKIP
    """
    figure = figure_from(codebook_data(project), depth)
    if path is not None:
        figure.save(path)
    return figure
