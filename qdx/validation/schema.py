"""XML Schema validation of REFI-QDA 1.0 documents against qdx's own XSDs (``schemas/``).

The verdict comes from libxml2 (``lxml.etree.XMLSchema``, compiled once per schema and cached),
which is fast and reports the line and node of every violation. Each violation becomes an
:class:`~qdx.errors.Issue` ``QDX055`` located at ``<file>:<line>`` with a readable element path
(``/Project/CodeBook/Codes/Code[3]``) in the message. A schema that libxml2 cannot compile
(a user's ``--xsd``) is handed to ``xmlschema`` instead, whose errors also carry paths.

REFI-QDA §6/§7: a compliant document "must validate against the XML schemas"; the rules the
schemas cannot express are in :mod:`qdx.validation.integrity`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

from lxml import etree

from qdx.errors import Issue, Severity, UsageError
from qdx.safety import xml_parser

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
# Root local name -> (schema file stem, the namespace REFI-QDA 1.0 requires).
ROOTS: dict[str, tuple[str, str]] = {"Project": ("project", PROJECT_NS), "CodeBook": ("codebook", CODEBOOK_NS)}
# Namespaces seen in the wild that are NOT 1.0 (docs/quirks.md §6 quirks 6, 7, 19, 21, 25).
KNOWN_VARIANTS: dict[str, str] = {
    "urn:QDA-XML:codebook:1:0": "written by NVivo 12 for Mac (quirk 6)",
    "urn:QDA-XML:codebook:0:4": "a pre-release namespace written by ATLAS.ti and MAXQDA (quirk 7)",
    "urn:QDA-XML:project:0:10": "a pre-release namespace (Transana, spec Annex A.3; quirk 19)",
    "urn:QDA-XML:project:1:0": "a misspelling of urn:QDA-XML:project:1.0 (quirk 21)",
}
MAX_SCHEMA_ISSUES = 200

CODE_NOT_XML = "QDX050"
CODE_NAMESPACE = "QDX051"
CODE_ROOT = "QDX052"
CODE_SCHEMA = "QDX055"
CODE_TOO_MANY = "QDX059"

# libxml2 quotes the whole pattern; name the rule instead (REFI §3.7 GUIDs, RGB colours).
_PATTERN_NAMES = {
    "GUID (8-4-4-4-12 hex digits, optionally in braces)": re.compile(r"'\\\{\[0-9A-Fa-f\]\{8\}.*?'\.?$"),
    "colour (#RRGGBB or #RGB)": re.compile(r"'#\[0-9A-Fa-f\]\{3\}.*?'\.?$"),
}


def schema_file(kind: str) -> Path:
    """The path of qdx's XSD ``kind`` (``project`` or ``codebook``).

    The wheel ships ``schemas/`` as ``qdx/_schemas`` (pyproject force-include); an editable
    checkout has it at ``<repo>/schemas``.

    Raises:
        FileNotFoundError: neither location holds the file (a broken installation).
    """
    name = f"{kind}.xsd"
    packaged = resources.files("qdx") / "_schemas" / name
    if packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "schemas" / name
    if checkout.is_file():
        return checkout
    raise FileNotFoundError(f"qdx schema {name} is missing from the installation")


@cache
def compiled(kind: str) -> etree.XMLSchema:
    """qdx's schema ``kind`` compiled by libxml2 (once per process)."""
    return etree.XMLSchema(etree.parse(str(schema_file(kind)), xml_parser()))


def load_schema(path: str | os.PathLike[str]) -> etree.XMLSchema | Any:
    """Compile a user-supplied XSD: libxml2 first, ``xmlschema`` when libxml2 refuses it.

    Args:
        path: the ``.xsd`` file.

    Returns:
        An ``lxml.etree.XMLSchema`` or an ``xmlschema.XMLSchema``.

    Raises:
        UsageError: the file cannot be read or is not a schema either library accepts.
    """
    try:
        return etree.XMLSchema(etree.parse(str(path), xml_parser()))
    except OSError as exc:
        raise UsageError(f"cannot read schema ({exc})", location=str(path)) from exc
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError):
        pass
    import xmlschema

    try:
        return xmlschema.XMLSchema(str(path))
    except (xmlschema.XMLSchemaException, OSError, ValueError) as exc:
        message = " ".join(str(exc).split())[:300]
        raise UsageError(f"not a usable XML schema: {message}", location=str(path)) from exc


def element_path(elem: etree._Element) -> str:
    """A readable path of local names with 1-based positions among same-named siblings."""
    steps: list[str] = []
    node: etree._Element | None = elem
    while node is not None:
        name = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if isinstance(c.tag, str) and etree.QName(c).localname == name]
            if len(same) > 1:
                name = f"{name}[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))


def is_refi_root(doc: etree._ElementTree) -> bool:
    """The root is a ``Project`` or a ``CodeBook`` (in whatever namespace)."""
    return etree.QName(doc.getroot()).localname in ROOTS


def check_document(doc: etree._ElementTree, *, label: str, schema: etree.XMLSchema | Any | None = None) -> list[Issue]:
    """Schema issues of a parsed REFI-QDA document.

    Args:
        doc: the parsed document (parsed by lxml, so elements know their source lines).
        label: how to name the document in locations (``project.qdpx!project.qde``).
        schema: a schema from :func:`load_schema` to use instead of qdx's own.

    Returns:
        ``QDX051`` for a namespace that is not REFI-QDA 1.0, ``QDX052`` for an unknown root,
        ``QDX055`` per schema violation; empty when the document is valid.
    """
    if schema is not None:
        return _violations(doc, schema, label)
    root = doc.getroot()
    qname = etree.QName(root)
    if not is_refi_root(doc):
        where = f"{label}:{root.sourceline}"
        message = f"root element <{qname.localname}> is neither a REFI-QDA Project nor a CodeBook"
        return [Issue(CODE_ROOT, Severity.ERROR, message, where)]
    kind, namespace = ROOTS[qname.localname]
    issues: list[Issue] = []
    if qname.namespace != namespace:
        issues.append(_namespace_issue(root, namespace, label))
        # Check the rest as if the namespace were right, so one wrong URI does not hide
        # every other problem in the file.
        doc = _renamespaced(doc, qname.namespace, namespace)
    return issues + _violations(doc, compiled(kind), label)


def _namespace_issue(root: etree._Element, expected: str, label: str) -> Issue:
    found = etree.QName(root).namespace
    if found is None:
        detail = "has no namespace"
    else:
        known = KNOWN_VARIANTS.get(found)
        detail = f"is in namespace {found!r}" + (f", {known}" if known else "")
    message = (
        f"<{etree.QName(root).localname}> {detail}; REFI-QDA 1.0 requires {expected!r},"
        " so the document is not schema-valid"
    )
    return Issue(CODE_NAMESPACE, Severity.ERROR, message, f"{label}:{root.sourceline}")


def _renamespaced(doc: etree._ElementTree, old: str | None, new: str) -> etree._ElementTree:
    """A copy of ``doc`` whose elements in namespace ``old`` are moved to ``new``.

    Source lines survive ``deepcopy``, so issues found on the copy still point into the file.
    """
    from copy import deepcopy

    copy = deepcopy(doc)
    for elem in copy.getroot().iter():
        if isinstance(elem.tag, str) and etree.QName(elem).namespace == old:
            elem.tag = etree.QName(new, etree.QName(elem).localname).text
    etree.cleanup_namespaces(copy)
    return copy


def _violations(doc: etree._ElementTree, schema: etree.XMLSchema | Any, label: str) -> list[Issue]:
    if isinstance(schema, etree.XMLSchema):
        if schema.validate(doc):
            return []
        entries = list(cast(Iterable[Any], schema.error_log))
        prefixes = _prefixes(doc) if any(":" in (e.path or "") for e in entries) else {}
        return _cap([_from_libxml2(entry, doc, prefixes, label) for entry in entries], label)
    return _cap([_from_xmlschema(error, label) for error in schema.iter_errors(doc)], label)


def _prefixes(doc: etree._ElementTree) -> dict[str, str]:
    """Namespace prefixes libxml2 may use in its error paths (e.g. ``ns0`` after a rename)."""
    found: dict[str, str] = {}
    for elem in doc.getroot().iter():
        if isinstance(elem.tag, str):
            found.update((k, v) for k, v in elem.nsmap.items() if k)
    return found


def _from_libxml2(entry: Any, doc: etree._ElementTree, prefixes: dict[str, str], label: str) -> Issue:
    elem = None
    if entry.path:
        try:
            found = doc.xpath(entry.path, namespaces=prefixes)
        except etree.XPathError:
            found = None
        if isinstance(found, list) and found and isinstance(found[0], etree._Element):
            elem = found[0]
    message = _tidy(entry.message) + (_namespace_hint(elem, doc) if elem is not None else "")
    return _issue(message, label, entry.line or None, element_path(elem) if elem is not None else None)


def _namespace_hint(elem: etree._Element, doc: etree._ElementTree) -> str:
    """Name a foreign namespace on an element inside a REFI document (quirk 7: a pasted
    ``.qdc`` root inside a project), which libxml2 only shows in Clark notation."""
    namespace = etree.QName(elem).namespace
    expected = etree.QName(doc.getroot()).namespace
    if namespace == expected or elem is doc.getroot():
        return ""
    known = KNOWN_VARIANTS.get(namespace or "")
    where = f"namespace {namespace!r}" if namespace else "no namespace"
    return f" <{etree.QName(elem).localname}> is in {where}" + (f", {known}" if known else "") + f", not {expected!r}."


def _from_xmlschema(error: Any, label: str) -> Issue:
    elem = error.elem
    index = getattr(error, "index", None)
    # Content-model errors are raised on the parent; point at the offending child instead.
    if elem is not None and isinstance(index, int) and 0 <= index < len(elem):
        elem = elem[index]
    if isinstance(elem, etree._Element):
        line = cast(int | None, elem.sourceline)
        return _issue(_tidy(error.reason or error.message), label, line, element_path(elem))
    return _issue(_tidy(error.reason or error.message), label, getattr(error, "sourceline", None), error.path)


def _issue(message: str, label: str, line: int | None, path: str | None) -> Issue:
    text = f"{message} (at {path})" if path else message
    return Issue(CODE_SCHEMA, Severity.ERROR, text, f"{label}:{line}" if line else label)


def _tidy(message: str) -> str:
    """One line, REFI-QDA 1.0 namespaces dropped, known patterns named."""
    text = " ".join(str(message).split())
    text = text.replace("{" + PROJECT_NS + "}", "").replace("{" + CODEBOOK_NS + "}", "")
    for name, pattern in _PATTERN_NAMES.items():
        if "[facet 'pattern']" in text and pattern.search(text):
            text = pattern.sub(f"a {name}.", text.replace("[facet 'pattern'] ", ""))
            text = text.replace("is not accepted by the pattern a", "is not a")
    return text


def _cap(issues: list[Issue], label: str) -> list[Issue]:
    if len(issues) <= MAX_SCHEMA_ISSUES:
        return issues
    rest = len(issues) - MAX_SCHEMA_ISSUES
    summary = Issue(CODE_TOO_MANY, Severity.ERROR, f"{rest} more schema violations not listed", label)
    return [*issues[:MAX_SCHEMA_ISSUES], summary]
