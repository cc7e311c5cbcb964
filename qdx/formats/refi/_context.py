"""Reading state shared by the REFI-QDA element handlers: issues, quirks, GUIDs, files.

Issue codes raised while reading REFI-QDA (stable, so users can filter them):

========  ==========================  =====================================================
QDX001    missing-text-file           a referenced ``.txt`` is not in the archive
QDX002    empty-text-file             a ``.txt`` of 0-1 bytes (NVivo Mac 15, quirk 4)
QDX003    duplicate-guid              one GUID on several elements (ATLAS.ti 8.4, quirk 13)
QDX004    missing-file                a referenced embedded file is not in the archive
QDX005    bad-value                   an attribute value of the wrong type, or a number beyond
                                      ±(2^53−1) (kept or defaulted)
QDX006    missing-attribute           a required attribute is absent
QDX007    unknown-element             an element the REFI-QDA 1.0 schema does not define
QDX008    position-unit               text positions re-read in another unit than ``origin``
QDX009    text-encoding               a ``.txt`` that is not UTF-8 (decoded as cp1252)
QDX010    namespace                   a namespace other than REFI-QDA 1.0 (quirks 6, 7, 25)
QDX011    position-inexact            a UTF-16 position inside a surrogate pair
QDX012    unreferenced-file           an archive entry no element refers to (info)
QDX013    unconverted-positions       positions left in the producer's unit (text missing)
QDX014    non-standard-attribute      an attribute outside the schema read into the model
                                      (info) or not carried over (warning)
========  ==========================  =====================================================
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lxml import etree

from qdx.errors import Issue, Severity
from qdx.model import Blob, Guid

Element = etree._Element
E = TypeVar("E")

# Resolves a path attribute (plainTextPath, richTextPath, path) to (member name, bytes).
Resolver = Callable[[str], tuple[str, bytes] | None]

_LOCAL: dict[str, str] = {}


def local(tag: str) -> str:
    """Local name of a Clark-notation tag (namespaces are advisory, docs/quirks.md quirk 25)."""
    name = _LOCAL.get(tag)
    if name is None:
        name = _LOCAL[tag] = tag.rpartition("}")[2]
    return name


def kids(el: Element) -> dict[str, list[Element]]:
    """Child elements of ``el`` grouped by local name, in document order."""
    out: dict[str, list[Element]] = {}
    names = _LOCAL.get
    for child in el:  # a TextSource may hold 10^4 selections: kept tight
        tag = child.tag
        if isinstance(tag, str):
            name = names(tag) or local(tag)
            group = out.get(name)
            if group is None:
                out[name] = [child]
            else:
                group.append(child)
    return out


_BRACES = operator.methodcaller("strip", "{}")


def _line(loc: str) -> int:
    """The line number at the end of a ``label:line`` location (0 when there is none)."""
    tail = loc.rpartition(":")[2]
    return int(tail) if tail.isdigit() else 0


def _no_resolver(path: str) -> tuple[str, bytes] | None:
    return None


# Positions, coordinates and milliseconds from a document are checked into a range where every
# later step computes exactly: within 2^53 - 1 any sum or difference of two fits an int64
# (numpy, pandas, parquet) and converts to a float without loss. No real text, picture or
# recording comes near it; a larger value (2^63 gave OverflowError tracebacks) is an Issue.
MAX_INTEGER = 2**53 - 1


def in_range(number: int) -> bool:
    """True when ``number`` is a usable position/coordinate/duration (see MAX_INTEGER)."""
    return -MAX_INTEGER <= number <= MAX_INTEGER


@dataclass(slots=True)
class Context:
    """Mutable state of one read: where we are, what went wrong, which quirks we met."""

    label: str
    resolve: Resolver = _no_resolver
    issues: list[Issue] = field(default_factory=list)
    quirks: list[str] = field(default_factory=list)
    # Own GUIDs in document order and where each was met (see check_duplicates).
    owned: list[Guid] = field(default_factory=list)
    owned_at: list[str] = field(default_factory=list)
    braced: bool = False  # some own GUID is written {in braces}: keys must drop them
    used_members: set[str] = field(default_factory=set)
    # Interning: the same user, code or timestamp is referenced by ~every coding; sharing
    # one object per distinct spelling keeps 10^5-10^6 codings lean.
    refs: dict[str, Guid | None] = field(default_factory=dict)
    strings: dict[str, str] = field(default_factory=dict)
    # Called with the byte offset reached (not a ByteProgress: package.py adapts it to one).
    advance_to: Callable[[int], None] | None = None
    # Attributes outside the schema met on records (see attributes_outside): (element,
    # attribute) -> [how many elements, the first location].
    outside: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def loc(self, el: Element) -> str:
        return f"{self.label}:{el.sourceline}"

    def ref(self, raw: str | None) -> Guid | None:
        """An optional GUID reference, interned (one shared Guid per spelling)."""
        if not raw:
            return None
        found = self.refs.get(raw)
        if found is None:
            stripped = raw.strip()
            found = self.refs[raw] = Guid(stripped) if stripped else None
        return found

    def req_ref(self, el: Element, name: str) -> Guid:
        """A required GUID reference, interned; a missing one is reported like :meth:`guid`."""
        found = self.ref(el.get(name))
        return found if found is not None else self.guid(el, name)

    def text(self, raw: str | None) -> str | None:
        """An attribute value that repeats (timestamps), interned."""
        if raw is None:
            return None
        return self.strings.setdefault(raw, raw)

    def issue(self, code: str, message: str, el: Element | None, severity: Severity = Severity.WARNING) -> None:
        self.issues.append(Issue(code, severity, message, self.loc(el) if el is not None else self.label))

    def quirk(self, label: str) -> None:
        if label not in self.quirks:
            self.quirks.append(label)

    # ----------------------------------------------------------------- attributes

    def guid(self, el: Element, name: str = "guid") -> Guid:
        """A required GUID attribute; a missing one is reported and replaced by a stable UUID."""
        value = el.get(name)
        if value:
            stripped = value.strip()
            if stripped:
                return Guid(stripped)
        self.issue("QDX006", f"<{local(el.tag)}> lacks required attribute {name}", el, Severity.ERROR)
        return Guid(str(uuid.uuid5(uuid.NAMESPACE_URL, f"qdx:{self.loc(el)}:{name}")))

    def own_guid(self, el: Element, loc: str | None = None) -> Guid:
        """The element's own ``guid``; duplicates (REFI §3.7 wants them unique) are reported
        by :meth:`check_duplicates` once the document is read."""
        raw = el.get("guid")
        # Usual case first: nothing to strip (no blanks, no braces), so no copies are made.
        if raw and raw[0].isalnum() and raw[-1].isalnum():
            value = Guid(raw)
        else:
            value = self.guid(el)
            self.braced = self.braced or value.startswith("{") or value.endswith("}")
        self.owned.append(value)
        self.owned_at.append(loc or self.loc(el))
        return value

    def attributes_outside(self, el: Element, allowed: frozenset[str]) -> None:
        """Note the attributes of ``el`` that its schema type does not define: the model has no
        place for them, so a conversion cannot carry them over (reported once per element name
        and attribute by :meth:`report_outside`). Namespaced attributes (``xsi:``, ``xml:``)
        are the XML machinery's, not data. The 10^5 text selections and codings of a large
        project, read in bulk, come here only when their attribute layout holds such a name
        (qdx/formats/refi/attrs.py)."""
        for name in el.attrib:
            if isinstance(name, str) and name not in allowed and not name.startswith("{"):
                entry = self.outside.setdefault((local(el.tag), name), [0, self.loc(el)])
                entry[0] += 1

    def report_outside(self) -> None:
        """One QDX014 warning per (element, attribute) outside the schema."""
        for (tag, name), (count, where) in sorted(self.outside.items()):
            many = f" on {count} <{tag}> elements (first here)" if count > 1 else ""
            message = f"attribute {name} of <{tag}> is outside the REFI-QDA schema; not carried over{many}"
            self.issues.append(Issue("QDX014", Severity.WARNING, message, where))
        self.outside.clear()

    def check_duplicates(self) -> None:
        """Report every GUID used by an earlier element too (QDX003, quirk 13), in document
        order, then forget the GUIDs.

        Checked once in bulk (a C-speed set of canonical keys) rather than element by
        element: on 10^5 selections that is 0.2 s less per read.
        """
        keys = map(str.lower, self.owned)
        if len(set(map(_BRACES, keys) if self.braced else keys)) < len(self.owned):
            first: dict[str, str] = {}
            # Elements are read children first (a source after its selections), so order by
            # line: the one reported as "already used" is the later one in the file.
            met = sorted(zip(self.owned, self.owned_at, strict=True), key=lambda pair: _line(pair[1]))
            for value, here in met:
                key = value.strip("{}").lower()
                before = len(first)
                seen = first.setdefault(key, here)
                if len(first) == before:  # not ``seen is here``: a coding shares its selection's loc
                    self.issues.append(
                        Issue("QDX003", Severity.WARNING, f"GUID {value} already used at {seen}", here)
                    )
                    self.quirk("quirk13:duplicate-guids")
        self.owned.clear()
        self.owned_at.clear()

    def opt_guid(self, el: Element, name: str) -> Guid | None:
        value = el.get(name)
        if value:
            value = value.strip()
        return Guid(value) if value else None

    def integer(self, el: Element, name: str, required: bool = True) -> int | None:
        value = el.get(name)
        if value is None:
            if required:
                self.issue("QDX006", f"<{local(el.tag)}> lacks required attribute {name}", el, Severity.ERROR)
                return 0
            return None
        try:
            number = int(value.strip())
        except ValueError:
            self.issue("QDX005", f"{name}={value!r} is not an integer", el, Severity.ERROR)
            return 0 if required else None
        if not in_range(number):
            message = f"{name}={value!r} is out of range (at most {MAX_INTEGER} in size)"
            self.issue("QDX005", message, el, Severity.ERROR)
            return 0 if required else None
        return number

    def req_int(self, el: Element, name: str) -> int:
        value = self.integer(el, name)
        return 0 if value is None else value

    def boolean(self, el: Element, name: str, default: bool) -> bool:
        value = el.get(name)
        if value is None:
            return default
        low = value.strip().lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        self.issue("QDX005", f"{name}={value!r} is not an xsd:boolean", el)
        return default

    # ----------------------------------------------------------------- files

    def _scheme_quirk(self, path: str) -> None:
        if "://" not in path:
            self.quirk("quirk22:schemeless-path")

    def text_file(self, path: str, el: Element) -> str | None:
        """Decode the ``.txt`` behind ``path`` (UTF-8, BOM stripped); None when absent."""
        found = self.resolve(path)
        if found is None:
            where = "not found" if _is_internal(path) or "://" not in path else "is outside the archive; not read"
            self.issue("QDX001", f"text file {path!r} {where}", el)
            return None
        member, data = found
        self.used_members.add(member)
        self._scheme_quirk(path)
        if len(data) <= 1:
            self.issue("QDX002", f"text file {member} holds {len(data)} byte(s)", el)
            self.quirk("quirk4:empty-text-file")
        return self._decode(member, data, el)

    def _decode(self, member: str, data: bytes, el: Element) -> str:
        if data.startswith(b"\xef\xbb\xbf"):
            # REFI §9.1.2 asks for UTF-8 and is silent on BOMs; NVivo Windows and QualCoder
            # write one (quirks 2, 21). It is not part of the text and never counted.
            data = data[3:]
            self.quirk("quirk2:utf8-bom")
        elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
            self.issue("QDX009", f"{member} is UTF-16, not UTF-8 (REFI §9.1.2); decoded as UTF-16", el)
            return data.decode("utf-16", errors="replace")
        if b"\r\n" in data:
            self.quirk("quirk2:crlf-text")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            self.issue("QDX009", f"{member} is not UTF-8 (REFI §9.1.2); decoded as cp1252", el)
            return data.decode("cp1252", errors="replace")

    def blob(self, path: str, el: Element) -> Blob | None:
        """The embedded file behind ``path`` (``internal://`` or scheme-less), or None."""
        found = self.resolve(path)
        if found is None:
            if _is_internal(path):
                self.issue("QDX004", f"embedded file {path!r} not found", el)
            return None
        member, data = found
        self.used_members.add(member)
        self._scheme_quirk(path)
        ext = member.rpartition("/")[2].rpartition(".")[2] if "." in member.rpartition("/")[2] else ""
        return Blob(ext, data)


def _is_internal(path: str) -> bool:
    return path.lower().startswith("internal://")


# --------------------------------------------------------------------------- element helpers


def _text(el: Element | None) -> str | None:
    if el is None:
        return None
    return el.text or ""


def _one(k: dict[str, list[Element]], name: str) -> Element | None:
    found = k.get(name)
    return found[0] if found else None


def _desc(k: dict[str, list[Element]]) -> str | None:
    return _text(_one(k, "Description"))


def _refs(k: dict[str, list[Element]], name: str, ctx: Context, attr: str = "targetGUID") -> tuple[Guid, ...]:
    return tuple(ctx.guid(el, attr) for el in k.get(name, ()))


def _many(k: dict[str, list[Element]], name: str, ctx: Context, fn: Callable[[Element, Context], E]) -> tuple[E, ...]:
    return tuple([fn(el, ctx) for el in k.get(name, ())])


def _enum(el: Element, name: str, enum_type: type[Any], ctx: Context) -> Any:
    value = el.get(name)
    if value is None:
        return None
    try:
        return enum_type(value.strip())
    except ValueError:
        ctx.issue("QDX005", f"{name}={value!r} is not a valid {enum_type.__name__}", el)
        return None


def _audit(el: Element, ctx: Context) -> dict[str, Any]:
    return {
        "creating_user": ctx.opt_guid(el, "creatingUser"),
        "creation_datetime": el.get("creationDateTime"),
        "modifying_user": ctx.opt_guid(el, "modifyingUser"),
        "modified_datetime": el.get("modifiedDateTime"),
    }


def _check_children(el: Element, k: dict[str, list[Element]], allowed: frozenset[str], ctx: Context) -> None:
    for name in k.keys() - allowed:
        ctx.issue("QDX007", f"unknown element <{name}> in <{local(el.tag)}> ignored", k[name][0])


