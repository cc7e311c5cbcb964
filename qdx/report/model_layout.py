"""The model figure's layout: a :class:`Scene` of boxes and lines in pixels, for any renderer.

qdx computes the layout itself (a tiered tree needs no graph engine): the core category is
centred on top, the main categories stand in a row below it, and each main category's
subcategories (and their concepts) are stacked in a column under it, joined to it by a spine.
Line weights and box borders grow with the number of coded references below a code (its own
codings and all below it), so the figure shows where the data is. Colours come from the
codebook. A Link (REFI §3.10: origin, target, direction, name) that joins a parent and its
child is drawn *as* that tree line with an arrowhead and its name; any other Link is an extra
arrow between the two boxes. Text widths are estimated here too (wide CJK characters count
one em), so that names wrap inside their boxes in every renderer.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from qdx.errors import UsageError
from qdx.model import Direction, guid_key
from qdx.report.codebook_data import CodebookData, CodebookEntry, valid_color, xml_text

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
