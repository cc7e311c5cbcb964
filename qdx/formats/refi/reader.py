"""REFI-QDA 1.0 ``project.qde`` / ``.qdc`` XML -> model (Project-mrt2019.xsd, Codebook-mrt2019.xsd).

One handler per element type, dispatched by local name (namespaces are advisory, docs/quirks.md
quirk 25). Text positions are stored here exactly as written (producer units); the caller
(:mod:`qdx.formats.refi.units`) converts them to code points once the unit is known.

This module parses a document safely and reads it; the handlers live beside it: the roots and
their sections in :mod:`~qdx.formats.refi.roots`, the streaming of a ``Project`` in
:mod:`~qdx.formats.refi.streaming`, users to graphs in :mod:`~qdx.formats.refi.records`,
sources in :mod:`~qdx.formats.refi.sources` and codings and text selections in
:mod:`~qdx.formats.refi.selections`.
"""
from __future__ import annotations

import io
import re
from typing import BinaryIO

from lxml import etree

from qdx.errors import ReadError
from qdx.formats.refi._context import Context, Element
from qdx.formats.refi.roots import read_root
from qdx.formats.refi.streaming import _stream
from qdx.model import Project
from qdx.safety import check_no_doctype, check_parsed_no_doctype, xml_parser


def parse_xml(data: bytes, label: str) -> Element:
    """Parse XML bytes safely (no DTD, no entities, no network) and return the root.

    Raises:
        UnsafeInputError: the document declares a DTD or entities.
        ReadError: the XML is malformed (location ``label:line``).
    """
    check_no_doctype(data, location=label)
    try:
        root = etree.fromstring(data, parser=xml_parser())
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, label) from exc
    _refuse_doctype(root, label)
    return root


# The first element after the XML declaration, comments and any (refused) DOCTYPE.
_ROOT_RE = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:(?:<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)\s*)*<(?:[\w.-]+:)?(\w+)[\s/>]",
    re.DOTALL,
)


def root_name(head: bytes) -> str | None:
    """Local name of the document element, read from the first bytes (None if unclear)."""
    found = _ROOT_RE.match(head)
    return found.group(1).decode("ascii") if found else None


# How much of a document is looked at before parsing (root name, DOCTYPE, qdx marker).
HEAD = 1 << 20


def read_head(data: bytes | BinaryIO) -> bytes:
    """The first bytes of a document: enough for :func:`root_name` and the qdx marker.

    A stream is left where it was. A marker comment longer than :data:`HEAD` (its ``lf=``
    list on a project of 10^5 texts) is read to its end so it is never cut short.
    """
    if isinstance(data, bytes):
        head = data[:HEAD]
        if len(data) > HEAD and b"qdx:" in head[:512] and b"-->" not in head:
            head = data[: data.find(b"-->") + 3] if b"-->" in data else data
        return head
    start = data.tell()
    head = data.read(HEAD)
    if b"qdx:" in head[:512]:
        while b"-->" not in head and len(head) % HEAD == 0 and head:
            more = data.read(HEAD)
            if not more:
                break
            head += more
    data.seek(start)
    return head


def read_document(data: bytes | BinaryIO, label: str, ctx: Context, expected: tuple[str, ...]) -> Project:
    """Parse and read a ``.qde``/``.qdc`` document, given as bytes or a seekable stream.

    A ``Project`` is streamed: each source, and each top-level section, is read when its end
    tag arrives and its subtree is then freed, so peak memory is the model plus one source's
    elements rather than the whole lxml tree (nor, for a stream, the document's bytes).
    Other roots are parsed whole.

    Raises:
        UnsafeInputError: the document declares a DTD or entities.
        ReadError: malformed XML (``label:line``) or an unexpected root element.
    """
    head = read_head(data)
    check_no_doctype(head, location=label)
    if root_name(head[:65536]) != "Project":
        whole = data if isinstance(data, bytes) else data.read()
        return read_root(parse_xml(whole, label), ctx, expected)
    try:
        root, parts = _stream(io.BytesIO(data) if isinstance(data, bytes) else data, ctx)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, label) from exc
    _refuse_doctype(root, label)
    return read_root(root, ctx, expected, parts)

def _syntax_error(exc: etree.XMLSyntaxError, label: str) -> ReadError:
    line = exc.lineno or (exc.position[0] if exc.position else 0)
    return ReadError(f"malformed XML: {exc.msg}", location=f"{label}:{line}")


def _refuse_doctype(root: Element, label: str) -> None:
    check_parsed_no_doctype(root.getroottree(), location=label)
