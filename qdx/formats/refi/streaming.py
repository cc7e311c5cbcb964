"""Streaming a ``Project`` document: each source and each top-level section is read when its
end tag arrives and its subtree is then freed (:func:`qdx.formats.refi.reader.read_document`).
"""

from __future__ import annotations

from typing import Any, BinaryIO

from lxml import etree

from qdx.errors import ReadError
from qdx.formats.refi._context import Context, Element, local
from qdx.formats.refi.roots import _ITEM_BATCH, _ITEMS, PROJECT_NS, SECTIONS, Parts
from qdx.formats.refi.selections import read_text_selections
from qdx.formats.refi.sources import SOURCE_READERS
from qdx.model import Source, TextSelection, TextSource


def _stream(source: BinaryIO, ctx: Context) -> tuple[Element, Parts]:
    # collect_ids=False: no ID hash table (REFI has no xml:id; qdx never looks elements up
    # by ID), which halves libxml2's own time on a 10^5-selection project.
    events = etree.iterparse(
        source,
        events=("end",),
        tag=_stream_tags(),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        collect_ids=False,
    )
    streamer = _Streamer(ctx, source)
    selection, end, batch, flush = streamer.selection, streamer.end, streamer.batch, streamer.flush
    for _, el in events:
        # One event per selection (10^5-10^6): the next selection of the source being read
        # joins the batch right here; anything else goes through the streamer's methods.
        parent = el.getparent()
        if parent is streamer.owner and el.tag in _SELECTION_TAGS:
            batch.append(el)
            if len(batch) >= _Streamer.BATCH:
                flush()
        elif parent is streamer.section and el.tag in streamer.item_tags:
            # Likewise the next item of the section being read (10^6 users).
            streamer.item_batch.append(el)
            if len(streamer.item_batch) >= _Streamer.BATCH:
                streamer.flush_items()
        elif el.tag in _SELECTION_TAGS:
            selection(el)
        else:
            end(el)
    root = events.root
    if root is None:  # pragma: no cover - iterparse raises on an empty document first
        raise ReadError("document has no root element")
    streamer.parts["Sources"] = tuple(streamer.sources)
    return root, streamer.parts


_SELECTION_TAGS = frozenset({"PlainTextSelection", f"{{{PROJECT_NS}}}PlainTextSelection"})


class _Streamer:
    """What to do at the end tags that reach Python (the others lxml keeps to itself).

    The ``PlainTextSelection``s of a top-level ``TextSource`` are read in batches of
    :data:`BATCH` as they end and then removed, so the tree never holds more than one batch:
    a source with 10^4 selections would otherwise sit whole in memory (and out of the CPU
    caches) until its end tag, while reading one at a time would pay Python's call overhead
    per selection. The order of reading, hence of issues, is the whole-tree reader's: a
    source's selections first, then its other children and attributes (``read_text_source``).
    """

    BATCH = 512

    def __init__(self, ctx: Context, stream: BinaryIO) -> None:
        self.ctx = ctx
        self.stream = stream
        self.parts: Parts = {}
        self.sources: list[Source] = []
        self.owner: Element | None = None  # the TextSource the pending selections belong to
        self.pending: list[TextSelection] = []
        self.batch: list[Element] = []  # ended selections of ``owner`` not read yet
        self.items: dict[str, list[Any]] = {}  # section -> items read as they ended (_ITEMS)
        # The top-level section (Users, Variables, Cases, Links) whose items are batched like
        # selections, the exact tags of its items, and its items ended but not read yet.
        self.section: Element | None = None
        self.item_tags: frozenset[str] = frozenset()
        self.item_batch: list[Element] = []
        self.item_name = ""

    def end(self, el: Element) -> None:
        name = local(el.tag)
        if name == "PlainTextSelection":
            self.selection(el)
        elif name in SOURCE_READERS:
            parent = el.getparent()
            if parent is not None and _is_sources(parent):
                self.source(el, name)
        elif name in _ITEMS:
            self.item(el, name)
        elif name in SECTIONS and name != "Sources" and _depth(el) == 1:
            if el is self.section:
                self.flush_items()
                self.section, self.item_tags = None, frozenset()
            if name in self.items:  # its items were read one by one; nothing else counts
                self.parts[name] = tuple(self.items.pop(name))
            else:
                self.parts[name] = SECTIONS[name][1](el, self.ctx)
            _free(el, siblings=False)

    def selection(self, el: Element) -> None:
        parent = el.getparent()
        if parent is None or (parent is not self.owner and not self.adopt(parent)):
            return  # a note's or a representation's: read with its owner
        self.batch.append(el)
        if len(self.batch) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        """Read the batched selections and take them out of the tree."""
        owner, batch = self.owner, self.batch
        if owner is None or not batch:
            return
        self.pending.extend(read_text_selections(batch, self.ctx))
        # Removing an element that still has a Python proxy makes lxml move it into a
        # document of its own (a walk of its subtree); one without is simply freed. So the
        # proxies are dropped first and the run of selections deleted by position (a third
        # of the streaming overhead on 10^5 selections).
        first, last = owner.index(batch[0]), owner.index(batch[-1])
        for el in batch:
            # A selection with more children than its Coding (unknown elements, notes) is
            # emptied first: lxml moves a removed subtree into a document of its own, and
            # during iterparse that took time quadratic in the children (4 MB of unknown
            # children in one selection: > 30 s); clear() frees them in linear time.
            if len(el) > 1:
                el.clear()
        if last - first + 1 == len(batch):  # the usual case: nothing else between them
            batch.clear()
            del owner[first : last + 1]
            return
        for el in batch:  # comments or stray elements in between: they stay
            owner.remove(el)
        batch.clear()

    def item(self, el: Element, name: str) -> None:
        """A User, Variable, Case or Link: batched if it is an item of its top-level section.

        Read as they end, in batches, and freed: a section of 10^6 users sat whole in the tree
        (1.2 GB for a 70 MB file) until its end tag, and one call per user took ~30 s.
        """
        parent = el.getparent()
        section = _ITEMS[name]
        if parent is None or local(parent.tag) != section[0] or _depth(parent) != 1:
            return
        if parent is not self.section:
            self.flush_items()
            # Only the first item's own spelling is batched by _stream; one in another
            # namespace (or none) comes back here and is read in order.
            self.section, self.item_name, self.item_tags = parent, name, frozenset({el.tag})
        if el.tag not in self.item_tags:
            self.flush_items()
            self.items.setdefault(section[0], []).append(section[1](el, self.ctx))
            _free(el, siblings=True)
            return
        self.item_batch.append(el)
        if len(self.item_batch) >= self.BATCH:
            self.flush_items()

    def flush_items(self) -> None:
        """Read the batched items of ``section`` and take them (and what precedes them) out
        of the tree, as :func:`_free` does for one."""
        section, batch = self.section, self.item_batch
        if section is None or not batch:
            return
        found = _ITEM_BATCH[self.item_name](batch, self.ctx)
        self.items.setdefault(_ITEMS[self.item_name][0], []).extend(found)
        last = section.index(batch[-1])
        for el in batch:
            if len(el):  # children (unknown elements) are freed in linear time; see flush()
                el.clear()
        batch.clear()
        del section[: last + 1]

    def adopt(self, parent: Element) -> bool:
        """Is ``parent`` a top-level TextSource? If so it owns the selections from now on."""
        grand = parent.getparent()
        if local(parent.tag) != "TextSource" or grand is None or not _is_sources(grand):
            return False
        self.flush()  # a previous owner whose end tag never came (cannot happen in well-formed XML)
        self.owner, self.pending = parent, []
        return True

    def source(self, el: Element, name: str) -> None:
        if el is self.owner:
            self.flush()
        found = SOURCE_READERS[name](el, self.ctx)
        if el is self.owner and isinstance(found, TextSource):
            found.selections = (*self.pending, *found.selections)
        self.owner, self.pending = None, []
        self.batch.clear()
        self.sources.append(found)
        _free(el, siblings=True)
        if self.ctx.advance_to is not None:
            self.ctx.advance_to(self.stream.tell())


def _is_sources(el: Element) -> bool:
    """``el`` is the project's ``Sources`` element (a child of the root)."""
    parent = el.getparent()
    return local(el.tag) == "Sources" and parent is not None and parent.getparent() is None


def _stream_tags() -> list[str]:
    names = (*SOURCE_READERS, *SECTIONS, *_ITEMS, "PlainTextSelection")
    # "{*}x" matches x in any namespace and in none.
    return [f"{{*}}{name}" for name in names]


def _depth(el: Element) -> int:
    depth = 0
    parent = el.getparent()
    while parent is not None and depth < 3:
        depth += 1
        parent = parent.getparent()
    return depth


def _free(el: Element, *, siblings: bool) -> None:
    el.clear()
    if siblings:
        parent = el.getparent()
        while parent is not None and el.getprevious() is not None:
            del parent[0]
