"""Validation of a file on disk: schema, XML-level rules, then integrity rules on the model.

``.qde`` and ``.qdc`` are validated as they are; for a ``.qdpx`` the single ``*.qde`` member
(whatever its name or case, docs/quirks.md quirks 8 and 24) is validated. Problems in the file
are :class:`~qdx.errors.Issue` records, never exceptions; only a file that cannot be opened
at all (missing, not a zip, hostile) raises.

XML-level rule codes (the schema codes are in :mod:`qdx.validation.schema`):

======  ========  ===========================================================================
QDX050  error     the document is not well-formed XML
QDX051  error     the root element's namespace is not REFI-QDA 1.0 (known variants named)
QDX052  error     the root element is neither Project nor CodeBook
QDX053  error     a .qdpx holds no .qde document (a warning when it holds several)
QDX054  error     the reader could not build a model, so integrity rules were not checked
QDX055  error     a schema violation (one per violation, located by line and element path)
QDX056  error     PlainTextContent together with plainTextPath (spec §5.3: "not both")
QDX059  error     more schema violations than are listed
======  ========  ===========================================================================
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from qdx.errors import FormatError, Issue, ReadError, Severity
from qdx.formats import Format, ParsedDocument, ReadOptions
from qdx.model import Project
from qdx.options import StepProgress
from qdx.safety import (
    DEFAULT_LIMITS,
    GIB,
    Limits,
    SafeZip,
    check_no_doctype,
    check_parsed_no_doctype,
    open_input,
    read_capped,
    xml_parser,
)
from qdx.validation.schema import CODE_NOT_XML, check_document, element_path, is_refi_root, load_schema

ZIP_MAGIC = b"PK\x03\x04"
TEXT_DOCS = frozenset({"TextSource", "Note", "Representation", "TextDescription", "Transcript"})


class FileValidation(list[Issue]):
    """The issues of a file (a list, so callers that only want the issues need nothing else)
    and ``project``, the model validation read from it (None when it could not be read), so a
    caller that goes on to analyse the project never reads the file a second time."""

    def __init__(self, issues: list[Issue], project: Project | None = None) -> None:
        super().__init__(issues)
        self.project = project


def validate_file(
    path: str | os.PathLike[str],
    *,
    xsd: str | os.PathLike[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    integrity: bool = True,
    progress: StepProgress | None = None,
    label: str | None = None,
) -> FileValidation:
    """Every issue of a ``.qde``, ``.qdc`` or ``.qdpx`` file, and the model read from it.

    Args:
        path: the file.
        xsd: validate against this schema instead of qdx's own REFI-QDA 1.0 schemas.
        limits: zip safety limits.
        integrity: also read the model and apply the integrity rules (and report the
            reader's issues).
        progress: called with the name of each of :data:`STEPS` as it starts (a project of
            10^6 selections takes a quarter of a minute); steps that do not apply are skipped.
        label: the file name to give in locations instead of the path's own (a writer checks
            its temporary file under the target's name).

    Returns:
        Schema issues, XML-level issues, then the reader's and the integrity issues,
        without duplicates. No issue of severity error means the file is valid. Its
        ``project`` is the model read for the integrity rules (None when ``integrity`` is
        False or no model could be read): the file is opened and parsed once.

    Raises:
        ReadError: the file cannot be opened (missing, unreadable archive, hostile input).
        UsageError: ``xsd`` is not a usable schema.

    Example:
        >>> [i.code for i in validate_file("project.qdpx")]   # doctest: +SKIP
        []
    """
    file = Path(path)
    if file.is_dir():  # a folder of NVivo exports: validated as the model qdx reads from it
        return validate_model(path, _tree_format(), limits=limits, label=label)
    data = _file_bytes(file, limits)  # the one read of the file: the model is built from these bytes
    return validate_bytes(data, label or file.name, xsd=xsd, limits=limits, integrity=integrity, progress=progress)


def validate_bytes(
    data: bytes,
    name: str,
    *,
    xsd: str | os.PathLike[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    integrity: bool = True,
    progress: StepProgress | None = None,
) -> FileValidation:
    """:func:`validate_file` of a file's bytes already in memory (standard input), named
    ``name`` in locations; the format comes from the content.

    Raises:
        UsageError: ``xsd`` is not a usable schema.
    """
    step = progress or _no_progress
    schema = load_schema(xsd) if xsd is not None else None
    other = None if xsd is not None else other_format(data, name)
    if other is not None:  # an NVivo export: validated as the model qdx reads from it
        return validate_model(name, other, limits=limits, label=name, data=data)
    loaded = document_from_bytes(data, name, limits=limits)
    label = loaded.label
    issues = list(loaded.issues)
    if not loaded.data and loaded.issues:  # a package without a .qde: nothing to parse
        return FileValidation(issues)
    step(STEPS[0])
    try:
        doc = parse_document(loaded.data, label=label)
    except ReadError as exc:
        issues.append(Issue(CODE_NOT_XML, Severity.ERROR, exc.message, exc.location or label))
        return FileValidation(issues)
    # libxml2 checks the schema without holding the GIL, so the check runs in a thread while
    # this one builds the model from the same (read-only) tree: on two cores the schema check
    # costs no wall time. A user's xmlschema schema just takes turns with the reader.
    with ThreadPoolExecutor(max_workers=1) as pool:
        schema_check = pool.submit(check_document, doc, label=label, schema=schema)
        rules = xml_rules(doc, label=label)
        # Not a REFI root (QDX052): no reader can build a model, and the schema check says why.
        checked = None
        if integrity and (schema is not None or is_refi_root(doc)):
            parsed = ParsedDocument(label, loaded.data, doc.getroot())
            checked = read_and_check(loaded, parsed, limits=limits, progress=progress)
        else:
            step(STEPS[1])
        issues += schema_check.result()
    issues += rules
    if checked is None:
        return FileValidation(_unique(issues))
    issues += _without_repeats(checked.reading, [*issues, *checked.found]) + checked.found
    return FileValidation(_unique(issues), checked.project)


REFI_FORMATS = frozenset({"qdpx", "qde", "qdc"})


def other_format(data: bytes, name: str) -> Format | None:
    """The non-REFI format qdx reads a file as (an NVivo export), else None.

    REFI files, and files no format recognises, are validated as REFI documents (so a broken
    ``.qde`` still gets its precise XML diagnostics).
    """
    from qdx.api import HEAD_SIZE, detect

    try:
        chosen = detect(data[:HEAD_SIZE], name)
    except FormatError:
        return None
    return None if chosen.id in REFI_FORMATS or chosen.reader is None else chosen


def _tree_format() -> Format:
    """The format that reads folders (NVivo coded-text exports)."""
    from qdx.formats import registry

    return next(f for f in registry() if f.tree_reader is not None)


def validate_model(
    path: str | os.PathLike[str],
    fmt: Format,
    *,
    limits: Limits = DEFAULT_LIMITS,
    label: str | None = None,
    data: bytes | None = None,
) -> FileValidation:
    """Issues of a file that is not REFI-QDA XML (NVivo exports), read as the model it becomes.

    The REFI schema and XML rules do not apply to a ``.docx``, ``.xlsx`` or coded-text file;
    what applies is what reading found in the file (its format's rules: QDX0xx issues) and the
    integrity rules of the model (QDX1xx). A file that cannot be read at all is one QDX054 error.
    """
    from qdx.api import read_bytes, read_path
    from qdx.validation.integrity import check_integrity

    file = Path(path)
    name = label or file.name
    note = (
        f"read as {fmt.description} ({fmt.id}): the REFI-QDA schema does not apply; the reader's "
        "checks of the export and the integrity rules of the model it becomes do"
    )
    issues = [Issue("QDX057", Severity.INFO, note, name)]
    try:
        options = ReadOptions(label=name, limits=limits)
        if data is None:
            project = read_path(file, options, fmt=fmt.id)
        else:  # the bytes validate_file read already
            project = read_bytes(data, options, fmt=fmt.id)
    except ReadError as exc:
        message = f"integrity rules not checked: the file cannot be read ({exc.message})"
        return FileValidation([*issues, Issue("QDX054", Severity.ERROR, message, exc.location or name)])
    reading = list(project.provenance.issues) if project.provenance is not None else []
    return FileValidation(_unique([*issues, *reading, *check_integrity(project)]), project)


# What validate_file reports to its ``progress`` callback, in order.
STEPS = ("parsing", "checking the schema and reading the model", "checking integrity")


def _no_progress(step: str) -> None:
    pass


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """The XML bytes to validate, how to name them in locations, and packaging issues;
    ``file``: the whole file as read (the archive itself for a ``.qdpx``) and its name, so
    the reader works from these bytes instead of opening the file again."""

    data: bytes
    label: str
    issues: tuple[Issue, ...] = ()
    file: bytes = b""
    file_name: str = ""


def load_document(
    path: str | os.PathLike[str], *, limits: Limits = DEFAULT_LIMITS, label: str | None = None
) -> LoadedDocument:
    """The XML document of a ``.qde``/``.qdc`` file, or the ``.qde`` inside a ``.qdpx``.

    Raises:
        ReadError: the file is missing, unreadable, or a broken archive.
    """
    file = Path(path)
    return document_from_bytes(_file_bytes(file, limits), label or file.name, limits=limits)


def _file_bytes(file: Path, limits: Limits) -> bytes:
    # Opened as every reader opens its input: a device is refused, a FIFO does not hang,
    # and no more than the limit is read.
    try:
        with open_input(file) as stream:
            head = stream.read(len(ZIP_MAGIC))
            # A bare document is one member's worth; an archive's own size is not capped by
            # the member limits (its members are), only kept finite for pipes and growth.
            cap = limits.max_member_size if head != ZIP_MAGIC else max(2 * limits.max_member_size, 4 * GIB)
            return head + read_capped(stream, cap - len(head), location=str(file), hint="--max-member-size")
    except OSError as exc:
        raise ReadError(f"cannot read ({exc.strerror or exc})", location=str(file)) from exc


def document_from_bytes(data: bytes, name: str, *, limits: Limits = DEFAULT_LIMITS) -> LoadedDocument:
    """:func:`load_document` of a file's bytes already read, named ``name`` in locations."""
    if not data.startswith(ZIP_MAGIC):
        return LoadedDocument(data, name, file=data, file_name=name)
    return _inner_qde(name, data, limits)


def _inner_qde(name: str, data: bytes, limits: Limits) -> LoadedDocument:
    import io

    archive = SafeZip(io.BytesIO(data), limits=limits, label=name)
    try:
        names = [n for n in archive.names() if n.lower().endswith(".qde") and "/" not in n.rstrip("/")]
        if not names:
            message = "the archive holds no .qde project document (REFI §8.1)"
            missing = (Issue("QDX053", Severity.ERROR, message, name),)
            return LoadedDocument(b"", name, missing, data, name)
        # REFI §8.1 names it project.qde; some exporters use the project's name (quirk 8).
        # Locations name the member alone ("project.qde:12"), as the reader's do.
        names.sort(key=lambda n: (n.lower() != "project.qde", n))
        issues = []
        if len(names) > 1:
            message = f"the archive holds {len(names)} .qde documents; validating {names[0]}"
            issues.append(Issue("QDX053", Severity.WARNING, message, name))
        return LoadedDocument(archive.read(names[0]), names[0], tuple(issues), data, name)
    finally:
        archive.close()



def parse_document(data: bytes, *, label: str) -> etree._ElementTree:
    """Parse XML bytes safely (no DTD, no entities, no network) keeping source lines.

    Raises:
        UnsafeInputError: the document declares a DTD or entities.
        ReadError: the bytes are not well-formed XML (located at the offending line).
    """
    if not data or data.isspace():  # isspace() stops at the first byte; strip() copies 44 MB
        raise ReadError("the document is empty", location=label)
    check_no_doctype(data, location=label)
    try:
        # REFI has no xml:id and XSD checks need no ID table: collect_ids=False spares
        # libxml2 a hash insert per element.
        tree = etree.ElementTree(etree.fromstring(data, xml_parser(collect_ids=False)))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        where = f"{label}:{line}" if line else label
        raise ReadError(f"not well-formed XML: {exc.msg}", location=where) from exc
    # The readers' refusal, for what the byte check above cannot see (a late or UTF-32 DOCTYPE).
    check_parsed_no_doctype(tree, location=label)
    return tree


def xml_rules(doc: etree._ElementTree, *, label: str) -> list[Issue]:
    """Rules only visible in the raw XML (the model cannot hold both forms of a text).

    REFI §5.3 (comment on TextSourceType and TranscriptType): "Either PlainTextContent or
    plainTextPath MUST be filled, not both". The XSD cannot express it, so both together
    still validate (docs/quirks.md §7).
    """
    issues = []
    # iter() with a tag filters in C: the 10^5 selections of a big project never reach Python.
    for content in doc.iter("{*}PlainTextContent"):
        elem = content.getparent()
        if elem is None or elem.get("plainTextPath") is None or etree.QName(elem).localname not in TEXT_DOCS:
            continue
        message = (
            f"has both PlainTextContent and plainTextPath; REFI §5.3 allows one, not both (at {element_path(elem)})"
        )
        issues.append(Issue("QDX056", Severity.ERROR, message, f"{label}:{elem.sourceline}"))
    return issues


@dataclass(frozen=True, slots=True)
class Checked:
    """What :func:`read_and_check` found: the reader's issues, the integrity issues and the
    model (None, with one QDX054 in ``found`` saying why, when no model could be read)."""

    reading: list[Issue]
    found: list[Issue]
    project: Project | None = None


def read_and_check(
    loaded: LoadedDocument,
    parsed: ParsedDocument,
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: StepProgress | None = None,
) -> Checked:
    """Read the model from the file's bytes in ``loaded`` (with the document ``parsed``
    already) and apply the integrity rules. ``progress`` as in :func:`validate_file` (its
    second and third steps)."""
    from qdx.api import read_bytes
    from qdx.validation.integrity import check_integrity

    step = progress or _no_progress
    step(STEPS[1])
    try:
        project = read_bytes(loaded.file, ReadOptions(label=loaded.file_name, limits=limits, parsed=parsed))
    except FormatError as exc:
        message = f"integrity rules not checked: no reader for this file ({exc.message})"
        return Checked([], [Issue("QDX054", Severity.WARNING, message, exc.location)])
    except ReadError as exc:
        message = f"integrity rules not checked: the file cannot be read ({exc.message})"
        return Checked([], [Issue("QDX054", Severity.ERROR, message, exc.location)])
    reading = list(project.provenance.issues) if project.provenance is not None else []
    step(STEPS[2])
    return Checked(reading, check_integrity(project), project)


# Reader codes (qdx.formats.refi._context) that report what an integrity rule also finds.
# Reader codes for what the schema also rejects (bad value, missing attribute, unknown element):
# when a schema violation is reported on the same line, the reader's note adds nothing.
_SCHEMA_RULES = frozenset({"QDX005", "QDX006", "QDX007"})
_SAME_RULE = {"QDX001": "QDX113", "QDX004": "QDX113", "QDX003": "QDX110", "QDX010": "QDX051"}


def _without_repeats(reading: list[Issue], found: list[Issue]) -> list[Issue]:
    """The reader's issues minus those an integrity rule reports at the same place.

    The reader notes missing files, duplicate GUIDs and foreign namespaces as it meets them
    (as warnings or notes); the validator's issue is kept instead, because its severity follows
    the spec (REFI §3.7, §5.3, §8.3) and the context (a bare .qde cannot carry its files).
    """
    covered = {(issue.code, issue.location) for issue in found}
    return [
        i
        for i in reading
        if (_SAME_RULE.get(i.code), i.location) not in covered
        and not (i.code in _SCHEMA_RULES and ("QDX055", i.location) in covered)
    ]


def _unique(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for issue in issues:
        key = (issue.code, issue.location, issue.message)
        if key not in seen:
            seen.add(key)
            kept.append(issue)
    return kept
