"""Mutations of real REFI-QDA files for fuzzing (shared by tests/test_fuzz.py and scripts/fuzz.py).

A mutation is a short list of :data:`Op` tuples ``(kind, a, b, c)`` whose integers are taken
modulo the size of whatever they index, so the same op list applies to any seed and a
hypothesis strategy (CI) or a seeded ``random.Random`` (long runs) can produce them.

Kinds act at three levels:

* bytes of the file as stored (zip bytes for ``.qdpx``): bit flips, truncation, deletion,
  duplication and insertion of byte ranges, "interesting" byte overwrites;
* the XML document (``.qde``/``.qdc``, or the ``.qde`` inside a ``.qdpx``, re-zipped after):
  element deletion, duplication, moving, deep nesting, attribute corruption, text corruption,
  and the same byte-level mutations on the serialised XML;
* the zip's members: deletion, duplication, renaming, replacing a member's bytes.
"""

from __future__ import annotations

import copy
import io
import random
import struct
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from lxml import etree

Op = tuple[str, int, int, int]

BYTE_KINDS = ("flip", "truncate", "delete", "duplicate", "insert", "magic")
XML_KINDS = (
    "xml-del", "xml-dup", "xml-move", "xml-nest", "xml-attr", "xml-attr-del", "xml-text",
    "xml-same-path",  # issue 15: every source reads one member (inflated once per reference)
)
XML_BYTE_KINDS = (
    *(f"xml-{k}" for k in BYTE_KINDS),
    "xml-late-doctype",  # issue 15: a DOCTYPE past the first 64 KB
    "xml-reencode",  # issue 15: the document in UTF-32 or UTF-7
)
ZIP_KINDS = (
    "zip-del", "zip-dup", "zip-rename", "zip-replace",
    "zip-method",  # issue 15: a member recompressed with bzip2 or LZMA
    "zip-alias",  # issue 15: central-directory records sharing one entry's bytes (overlap)
)
# NVivo coded-text exports (.txt seeds), issue 15: merged heads naming huge ranges, a code
# named many levels deep, many references in one block.
TEXT_KINDS = ("text-range", "text-deep-code", "text-many-refs")
# Output-side shapes (issue 15): documents that read fine but attack what comes after reading.
OUTPUT_KINDS = ("xml-guid-repeat", "xml-bigint", "xml-formula-name", "xml-control-name", "xml-dangling-ref")
ALL_KINDS = BYTE_KINDS + XML_KINDS + XML_BYTE_KINDS + ZIP_KINDS + TEXT_KINDS + OUTPUT_KINDS

# Values that have broken parsers before: empty, huge, negative, not a number, odd GUIDs,
# path tricks, control characters, lone surrogates are impossible in XML so U+FFFD instead.
INTERESTING_VALUES = (
    "", " ", "-1", "0", "1", "2147483648", "-9223372036854775809", "99999999999999999999999",
    "1e309", "NaN", "0x10", "١٢", "true", "false", "maybe", "{}", "{00000000-0000-0000-0000-000000000000}",
    "not-a-guid", "internal://", "internal://../../etc/passwd", "relative://x.txt", "absolute:///etc/passwd",
    "internal://%2e%2e/x", "C:\\x", "sources/", "a" * 5000, "\u00e9\u4e2d\U0001f600", "\ufffd",
    "OneWay", "Bidirectional", "Boolean", "Date", "Integer", "Text", "=1+1", "Circle",
)
INTERESTING_BYTES = (
    b"\x00", b"\xff", b"\x7f", b"\x80", b"\xef\xbb\xbf", b"\xff\xfe", b"<", b">", b"&", b"]]>", b"<!--",
    b"&#0;", b"&#xD800;", b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"\xff\xff\xff\xff", b"\x00\x00\x00\x00",
    b"<!DOCTYPE x>", b"\r\n", b"\"", b"'",
)
MEMBER_NAMES = (
    "project.qde", "Project.qde", "other.qde", "sources/", "sources/a.txt", "Sources/A.TXT", "../x.txt",
    "/abs.txt", "sources/.root", "a\\b.txt", "sources/%41.txt",
)


@dataclass(frozen=True)
class Seed:
    """One real file to mutate: its name (the suffix picks the format) and bytes."""

    name: str
    data: bytes

    @property
    def is_zip(self) -> bool:
        return self.data.startswith(b"PK")

    @cached_property
    def members(self) -> list[tuple[zipfile.ZipInfo, bytes]]:
        with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
            return [(info, archive.read(info)) for info in archive.infolist()]

    @cached_property
    def xml_index(self) -> int | None:
        """Index of the main XML member of a zip seed (the ``.qde``; for Office files the
        document, first sheet or shared strings), or None."""
        names = [info.filename.lower() for info, _ in self.members]
        for wanted in (".qde", "word/document.xml", "xl/worksheets/sheet1.xml", "xl/sharedstrings.xml"):
            found = next((i for i, n in enumerate(names) if n.endswith(wanted)), None)
            if found is not None:
                return found
        return None

    @property
    def xml(self) -> bytes:
        if not self.is_zip:
            return self.data
        index = self.xml_index
        return self.members[index][1] if index is not None else b""


# --------------------------------------------------------------------------- bytes


def mutate_bytes(data: bytes, kind: str, a: int, b: int, c: int) -> bytes:
    """One byte-level mutation; integers are reduced modulo the data size."""
    n = len(data)
    if n == 0:
        return INTERESTING_BYTES[a % len(INTERESTING_BYTES)] if kind in ("insert", "magic") else data
    pos = a % n
    width = 1 + b % max(1, min(n - pos, 4096))
    if kind == "flip":
        return data[:pos] + bytes([data[pos] ^ (1 << (b % 8))]) + data[pos + 1 :]
    if kind == "truncate":
        return data[:pos]
    if kind == "delete":
        return data[:pos] + data[pos + width :]
    if kind == "duplicate":
        times = 1 + c % 8
        return data[:pos] + data[pos : pos + width] * (times + 1) + data[pos + width :]
    if kind == "insert":
        return data[:pos] + INTERESTING_BYTES[c % len(INTERESTING_BYTES)] + data[pos:]
    if kind == "magic":
        blob = INTERESTING_BYTES[c % len(INTERESTING_BYTES)]
        return data[:pos] + blob + data[pos + len(blob) :]
    raise ValueError(kind)


# --------------------------------------------------------------------------- XML


def _elements(root: etree._Element) -> list[etree._Element]:
    return [el for el in root.iter() if isinstance(el.tag, str)]


def mutate_xml(xml: bytes, kind: str, a: int, b: int, c: int) -> bytes:
    """One structural mutation of an XML document (left as is when it does not parse)."""
    if kind.startswith("xml-") and kind[4:] in BYTE_KINDS:
        return mutate_bytes(xml, kind[4:], a, b, c)
    if kind == "xml-late-doctype":
        return _late_doctype(xml, 65_536 + b % 16_384)
    if kind == "xml-reencode":
        return _reencode(xml, ("utf-32", "utf-7", "utf-16")[b % 3])
    try:
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    except etree.XMLSyntaxError:
        return xml
    els = _elements(root)
    el = els[a % len(els)]
    _XML_OPS[kind](root, els, el, b, c)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _xml_del(root: etree._Element, els: list[etree._Element], el: etree._Element, b: int, c: int) -> None:
    parent = el.getparent()
    if parent is not None:
        parent.remove(el)


def _xml_dup(root: etree._Element, els: list[etree._Element], el: etree._Element, b: int, c: int) -> None:
    parent = el.getparent()
    if parent is not None:
        for _ in range(1 + c % 3):
            el.addnext(_copy(el))


def _xml_move(root: etree._Element, els: list[etree._Element], el: etree._Element, b: int, c: int) -> None:
    """Put a copy of ``el`` somewhere it does not belong (an element inside another type)."""
    host = els[b % len(els)]
    if el is not host:
        host.append(_copy(el))


def _xml_nest(root: etree._Element, els: list[etree._Element], el: etree._Element, b: int, c: int) -> None:
    """Nest a copy of ``el`` inside itself many times (Code inside Code inside Code...)."""
    depth = 1 + b % 300
    attrib = {str(k): str(v) for k, v in el.attrib.items()}
    inner = etree.SubElement(el, el.tag, attrib)
    for _ in range(depth):
        inner = etree.SubElement(inner, el.tag, attrib)


def _xml_attr(root: etree._Element, els: list[etree._Element], el: etree._Element, b: int, c: int) -> None:
    names = list(el.attrib) or ["guid"]
    name = names[b % len(names)]
    el.set(name, INTERESTING_VALUES[c % len(INTERESTING_VALUES)])


def _xml_attr_del(root: etree._Element, els: list[etree._Element], el: etree._Element, b: int, c: int) -> None:
    names = list(el.attrib)
    if names:
        del el.attrib[names[b % len(names)]]


def _xml_text(root: etree._Element, els: list[etree._Element], el: etree._Element, b: int, c: int) -> None:
    el.text = INTERESTING_VALUES[c % len(INTERESTING_VALUES)]


# --------------------------------------------------------------------------- output-side shapes

# Integers no text, picture or recording has: past int64, past 2^53, far below zero.
BIG_INTEGERS = (str(2**63), str(2**64 + 7), str(2**62), str(-(2**70)), "9" * 40, str(2**53))
# Formula text hidden behind a list separator, a bare CR, a space or a line break.
FORMULA_VALUES = ("a;=1+1", "x\r=1+1", "b,@SUM(1)", " =HYPERLINK(\"http://x\")", "c\n-2+3", "d\t+1")
# What a terminal acts on and XML 1.0 allows: C1 CSI and NEL, bidi override, LF, CR.
CONTROL_VALUES = ("a\x9b31mRED", "b\x85c", "txt\u202eexe", "x\nqdx: error: forged", "y\rz", "\u2028w")
_POSITIONS = ("startPosition", "endPosition", "begin", "end", "firstX", "firstY", "secondX", "secondY", "page",
              "timeStamp", "position")


def _codes(els: list[etree._Element]) -> list[etree._Element]:
    return [e for e in els if etree.QName(e).localname == "Code"]


def _xml_guid_repeat(root: etree._Element, els: list[etree._Element], el: etree._Element, b: int, c: int) -> None:
    """A code takes the GUID of one of its ancestors (a cycle by GUID) or of another code."""
    codes = _codes(els)
    if len(codes) < 2:
        return
    code = codes[b % len(codes)]
    above = [a for a in code.iterancestors() if etree.QName(a).localname == "Code"]
    donor = above[c % len(above)] if above and c % 2 else codes[c % len(codes)]
    if donor.get("guid") is not None:
        code.set("guid", str(donor.get("guid")))


def _xml_bigint(root: etree._Element, els: list[etree._Element], el: etree._Element, b: int, c: int) -> None:
    """A position, coordinate, page or time gets a number no real file has."""
    holders = [(e, n) for e in els for n in _POSITIONS if e.get(n) is not None]
    if holders:
        target, name = holders[b % len(holders)]
        target.set(name, BIG_INTEGERS[c % len(BIG_INTEGERS)])


def _set_name(els: list[etree._Element], b: int, value: str) -> None:
    named = [e for e in els if e.get("name") is not None] or els
    named[b % len(named)].set("name", value)


def _xml_formula_name(root: etree._Element, els: list[etree._Element], el: etree._Element, b: int, c: int) -> None:
    _set_name(els, b, FORMULA_VALUES[c % len(FORMULA_VALUES)])


def _xml_control_name(root: etree._Element, els: list[etree._Element], el: etree._Element, b: int, c: int) -> None:
    """A name, or a GUID when c is odd, gets characters a terminal would act on."""
    value = CONTROL_VALUES[c % len(CONTROL_VALUES)]
    if c % 2:
        with_guid = [e for e in els if e.get("guid") is not None or e.get("targetGUID") is not None] or els
        target = with_guid[b % len(with_guid)]
        target.set("guid" if target.get("guid") is not None else "targetGUID", value)
    else:
        _set_name(els, b, value)


def _xml_dangling_ref(root: etree._Element, els: list[etree._Element], el: etree._Element, b: int, c: int) -> None:
    """A reference (CodeRef, SourceRef, SelectionRef, MemberSource, ...) names nothing."""
    refs = [e for e in els if e.get("targetGUID") is not None]
    if refs:
        refs[b % len(refs)].set("targetGUID", f"{c % 10**8:08d}-dead-4000-8000-000000000000")
def _xml_same_path(root: etree._Element, els: list[etree._Element], el: etree._Element, b: int, c: int) -> None:
    paths = [e for e in els if e.get("plainTextPath")]
    if paths:
        first = paths[b % len(paths)].get("plainTextPath") or ""
        for e in paths:
            e.set("plainTextPath", first)


def _late_doctype(xml: bytes, comment: int) -> bytes:
    """A comment of ``comment`` bytes, then a DOCTYPE, after the XML declaration."""
    end = xml.find(b"?>") + 2 if xml.startswith(b"<?xml") else 0
    return xml[:end] + b"<!--" + b"x" * comment + b'-->\n<!DOCTYPE Project [<!ENTITY e "e">]>' + xml[end:]


def _reencode(xml: bytes, encoding: str) -> bytes:
    text = xml.decode("utf-8", "replace")
    if text.startswith("<?xml"):
        text = text[text.find("?>") + 2 :]
    return f'<?xml version="1.0" encoding="{encoding.upper()}"?>{text}'.encode(encoding)


def _copy(el: etree._Element) -> etree._Element:
    return copy.deepcopy(el)


_XML_OPS = {
    "xml-del": _xml_del,
    "xml-dup": _xml_dup,
    "xml-move": _xml_move,
    "xml-nest": _xml_nest,
    "xml-attr": _xml_attr,
    "xml-attr-del": _xml_attr_del,
    "xml-text": _xml_text,
    "xml-guid-repeat": _xml_guid_repeat,
    "xml-bigint": _xml_bigint,
    "xml-formula-name": _xml_formula_name,
    "xml-control-name": _xml_control_name,
    "xml-dangling-ref": _xml_dangling_ref,
    "xml-same-path": _xml_same_path,
}


# --------------------------------------------------------------------------- zip members


def _zip(members: Sequence[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    # Duplicate member names are one of the mutations; zipfile warns about them.
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as archive:
        warnings.simplefilter("ignore")
        for info, data in members:
            fresh = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            fresh.compress_type = info.compress_type
            fresh.external_attr = info.external_attr
            archive.writestr(fresh, data)
    return out.getvalue()


def mutate_members(
    members: list[tuple[zipfile.ZipInfo, bytes]], kind: str, a: int, b: int, c: int
) -> list[tuple[zipfile.ZipInfo, bytes]]:
    """One change to the list of zip members (deleted, duplicated, renamed, replaced)."""
    if not members:
        return members
    i = a % len(members)
    info, data = members[i]
    out = list(members)
    if kind == "zip-del":
        del out[i]
    elif kind == "zip-dup":
        out.insert(i, (info, data))
    elif kind == "zip-rename":
        out[i] = (zipfile.ZipInfo(MEMBER_NAMES[b % len(MEMBER_NAMES)], date_time=info.date_time), data)
    elif kind == "zip-replace":
        out[i] = (info, mutate_bytes(data, BYTE_KINDS[b % len(BYTE_KINDS)], c, b, c))
    elif kind == "zip-method":
        fresh = zipfile.ZipInfo(info.filename, date_time=info.date_time)
        fresh.compress_type = (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)[b % 2]
        out[i] = (fresh, data)
    return out


def alias_entries(archive: bytes, a: int, b: int) -> bytes:
    """Append ``1 + b % 200`` copies of the ``a``-th central-directory record: entries that
    share one entry's bytes, the simplest overlap (Fifield's bomb shares one kernel)."""
    end = archive.rfind(b"PK\x05\x06")
    if end < 0 or len(archive) < end + 22:
        return archive
    count, size, start = struct.unpack_from("<HII", archive, end + 10)
    records, pos = [], start
    while pos + 46 <= end and archive[pos : pos + 4] == b"PK\x01\x02":
        name, extra, comment = struct.unpack_from("<HHH", archive, pos + 28)
        records.append(archive[pos : pos + 46 + name + extra + comment])
        pos += len(records[-1])
    if not records:
        return archive
    copies = records[a % len(records)] * (1 + b % 200)
    total = min(count + (1 + b % 200), 0xFFFF)
    tail = bytearray(archive[end:])
    struct.pack_into("<HHI", tail, 8, total, total, size + len(copies))
    return archive[:pos] + copies + archive[pos:end] + bytes(tail)


# --------------------------------------------------------------------------- NVivo coded text

_HUGE = ("1000000000", "9223372036854775808", "99999999999999999999", "20000")


def mutate_text(data: bytes, kind: str, a: int, b: int, c: int) -> bytes:
    """One change to an NVivo coded-text export (left as is when it has no reference head)."""
    import re

    text = data.decode("utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8", "replace")
    heads = list(re.finditer(r"References? (\d+)(?:-\d+)?", text))
    if kind == "text-range" and heads:
        head = heads[a % len(heads)]
        text = f"{text[: head.start()]}References {head.group(1)}-{_HUGE[b % len(_HUGE)]}{text[head.end() :]}"
    elif kind == "text-deep-code":
        text = "Codes\\\\" + "\\".join(["a"] * (1 + b % 3000)) + "\n\n" + text
    elif kind == "text-many-refs" and heads:
        head = heads[a % len(heads)]
        body_end = heads[(a % len(heads)) + 1].start() if a % len(heads) + 1 < len(heads) else len(text)
        block = text[head.start() : body_end]
        text = text[:body_end] + block * (1 + b % 2000) + text[body_end:]
    return text.encode("utf-8")


# --------------------------------------------------------------------------- applying op lists


def apply(seed: Seed, ops: Sequence[Op]) -> bytes:
    """The seed's bytes after ``ops`` (XML and member ops first, then whole-file byte ops).

    XML-level and member-level ops on a zip seed rewrite the archive (a fresh, valid zip with
    the mutated members), so the reader gets past the zip layer and meets the bad XML.
    """
    if any(op[0] in TEXT_KINDS for op in ops):
        data = seed.data
        for kind, a, b, c in ops:
            data = mutate_text(data, kind, a, b, c) if kind in TEXT_KINDS else mutate_bytes(data, kind, a, b, c)
        return data
    structural = [op for op in ops if op[0] not in BYTE_KINDS]
    raw = [op for op in ops if op[0] in BYTE_KINDS]
    data = seed.data
    if structural:
        data = _apply_structural(seed, structural)
    for kind, a, b, c in raw:
        data = mutate_bytes(data, kind, a, b, c)
    return data


def _apply_structural(seed: Seed, ops: Sequence[Op]) -> bytes:
    xml_ops = [op for op in ops if op[0].startswith("xml-")]
    zip_ops = [op for op in ops if op[0].startswith("zip-")]
    xml = seed.xml
    for kind, a, b, c in xml_ops:
        xml = mutate_xml(xml, kind, a, b, c)
    if not seed.is_zip:
        return xml
    members = list(seed.members)
    if seed.xml_index is not None and xml_ops:
        info, _ = members[seed.xml_index]
        members[seed.xml_index] = (info, xml)
    for kind, a, b, c in zip_ops:
        if kind != "zip-alias":
            members = mutate_members(members, kind, a, b, c)
    archive = _zip(members)
    for kind, a, b, _ in zip_ops:
        if kind == "zip-alias":
            archive = alias_entries(archive, a, b)
    return archive


def random_ops(rng: random.Random, seed: Seed, most: int = 4, only: Sequence[str] | None = None) -> list[Op]:
    """A random op list for long fuzz runs.

    One family per example: raw bytes, XML structure, or XML plus zip members. Mixing them
    freely would waste most examples: a byte flip in a zip almost always fails the CRC check
    first, so the structural damage behind it would never reach the reader.
    """
    if seed.name.lower().endswith(".txt"):
        families = (BYTE_KINDS, TEXT_KINDS, TEXT_KINDS + BYTE_KINDS)
    elif seed.is_zip:
        families = (BYTE_KINDS, XML_KINDS, XML_KINDS + XML_BYTE_KINDS + ZIP_KINDS, OUTPUT_KINDS)
    else:
        families = (BYTE_KINDS, XML_KINDS, XML_KINDS + XML_BYTE_KINDS, OUTPUT_KINDS)
    kinds = tuple(only) if only else rng.choice(families)
    return [
        (rng.choice(kinds), rng.getrandbits(32), rng.getrandbits(32), rng.getrandbits(32))
        for _ in range(rng.randint(1, most))
    ]


# --------------------------------------------------------------------------- the property


def check(data: bytes, name: str, folder: str, *, deep: bool = False, outputs: bool = False) -> str:
    """Read ``data`` as file ``name`` through :func:`qdx.read`; return ``project`` or the error class.

    With ``deep``, a project read is also summarised (``qdx info``), cut into segments and
    written back as ``.qdpx`` and read again, as a user's next command would do. With
    ``outputs``, it also goes through every analysis and spreadsheet writer (:func:`check_outputs`).

    Raises:
        Exception: anything other than a :class:`~qdx.errors.QdxError` (the bug a fuzzer hunts).
    """
    import os

    import qdx
    from qdx.errors import QdxError

    path = os.path.join(folder, name)
    with open(path, "wb") as out:
        out.write(data)
    try:
        project = qdx.read(path)
    except QdxError as exc:
        assert str(exc) and "\n" not in str(exc), f"error message not one line: {exc!r}"
        return f"error:{type(exc).__name__}"
    if deep:
        _deep(project)
    if outputs:
        check_outputs(project)
    return "project"


def _deep(project: object) -> None:
    import json

    import qdx
    from qdx.cli.info import summary
    from qdx.errors import QdxError
    from qdx.model import Project
    from qdx.segment import segments

    assert isinstance(project, Project)
    json.dumps(summary(project), default=str)
    segments(project)
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():  # lossy-write notes (U+FFFD for control characters)
            warnings.simplefilter("ignore")
            qdx.write(project, buffer, fmt="qdpx")
    except QdxError:
        return
    buffer.seek(0)
    qdx.read(buffer, fmt="qdpx")


def check_outputs(project: object) -> None:
    """Every analysis and spreadsheet writer on ``project``: each ends or raises a QdxError, and
    no CSV cell it writes starts like a formula with ``,`` or ``;`` as list separator.

    Raises:
        AssertionError: a CSV cell would run as a formula. Exception: any non-QdxError failure.
    """
    import csv
    import sys

    import qdx
    from qdx.errors import QdxError
    from qdx.model import Project
    from qdx.report.excel import write_report
    from qdx.report.safe import frame_csv

    assert isinstance(project, Project)
    steps = (
        lambda: write_report(project, io.BytesIO()),
        lambda: [frame_csv(f) for f in qdx.frames(project).tables().values()],
        lambda: [frame_csv(qdx.matrix(project, rows=rows).reset_index()) for rows in ("codes", "sources", "cases")],
        lambda: qdx.saturation(project),
        lambda: qdx.audit(project),
        lambda: qdx.validate(project),
    )
    for step in steps:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = step()
        except QdxError:
            continue
        for text in result if isinstance(result, list) else ():
            if not isinstance(text, str):  # issues, findings: only the CSV texts are checked
                continue
            csv.field_size_limit(sys.maxsize)  # a long passage is one legitimate (large) cell
            for delimiter in (",", ";"):
                for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
                    for cell in row:
                        if cell.lstrip(" ").startswith(("=", "+", "-", "@")):
                            float(cell)  # only a number may start so (ValueError otherwise)
