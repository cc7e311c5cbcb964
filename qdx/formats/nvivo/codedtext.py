"""Parser for NVivo coded-text exports, "Reference view" (.txt and .docx), docs/nvivo-exports.md §c.1.

Grammar (§c.1)::

    source-header  := [ "<" ] HNAME [ ">" ] " - § " INT " reference" ["s"] " coded" SP+ "[" [SP] PCT "% Coverage]"
    reference-head := ( "Reference " INT | "References " INT "-" INT ) " - " PCT "% Coverage"
    reference-body := { line }  until the next reference-head or source-header

Variants (§c.1 table): V1 angle brackets, two spaces before ``[``; V2 the header on two lines
without ``§``; V3 no brackets, ``[ 6.78% Coverage]``, UTF-8 with BOM, LF, no blank lines; V4
brackets, UTF-16, CRLF, a blank line after every head; V5 a first line naming the code.
PDF/picture regions are a body line ``Page N : (x1,y1) - (x2,y2)``. ``References 2-3`` is one
passage counted as several references (several users coded it).

The ``§ N references`` count is a checksum: a mismatch is an Issue with file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from qdx.errors import Issue, Severity
from qdx.formats.nvivo.names import HName, parse_hname


@dataclass(frozen=True, slots=True)
class Phrases:
    """The English words of the grammar; localised NVivo builds translate them (§c.1, unverified)."""

    reference: str = "Reference"
    references: str = "References"
    coded: str = "coded"
    coverage: str = "Coverage"
    page: str = "Page"


ENGLISH = Phrases()
_PCT = r"(?P<pct>\d+(?:[.,]\d+)?)"


@dataclass(frozen=True, slots=True)
class _Grammar:
    header: re.Pattern[str]
    count_line: re.Pattern[str]
    head: re.Pattern[str]
    region: re.Pattern[str]


def _grammar(p: Phrases) -> _Grammar:
    ref, refs = re.escape(p.reference), re.escape(p.references)
    count = (
        rf"(?P<sect>§\s*)?(?P<n>\d+)\s+(?:{ref}|{refs}|{ref.lower()}s?)\s+{re.escape(p.coded)}"
        rf"\s*\[\s*{_PCT}%\s+{re.escape(p.coverage)}\]\s*"
    )
    return _Grammar(
        header=re.compile(rf"^(?P<lt><)?(?P<name>.+?)(?(lt)>)\s+-\s+{count}$"),
        count_line=re.compile(rf"^{count}$"),
        head=re.compile(
            rf"^(?:{ref}\s+(?P<one>\d+)|{refs}\s+(?P<first>\d+)\s*-\s*(?P<last>\d+))"
            rf"\s+-\s+{_PCT}%\s+{re.escape(p.coverage)}\s*$"
        ),
        region=re.compile(
            rf"^{re.escape(p.page)}\s+(?P<page>\d+)\s*:\s*\((?P<x1>-?\d+),\s*(?P<y1>-?\d+)\)"
            r"\s*-\s*\((?P<x2>-?\d+),\s*(?P<y2>-?\d+)\)\s*$"
        ),
    )


_ENGLISH_GRAMMAR = _grammar(ENGLISH)


@dataclass(frozen=True, slots=True)
class Region:
    """A PDF or picture region reference: page and top-left / bottom-right corners (§c.1)."""

    page: int
    x1: int
    y1: int
    x2: int
    y2: int


@dataclass(frozen=True, slots=True)
class Reference:
    """One reference head and its body. ``first..last`` > 1 wide for merged references."""

    first: int
    last: int
    coverage: float | None
    text: str | None
    region: Region | None
    line: int

    @property
    def count(self) -> int:
        """How many references NVivo counts for this head (``References 2-3`` counts 2)."""
        return self.last - self.first + 1


@dataclass(frozen=True, slots=True)
class SourceBlock:
    """A source header, its declared ``§ N`` count and the references under it."""

    source: HName
    declared: int
    coverage: float | None
    line: int
    references: tuple[Reference, ...] = ()

    @property
    def found(self) -> int:
        """References present, counting merged heads as several (the checksum's other side)."""
        return sum(r.count for r in self.references)


@dataclass(frozen=True, slots=True)
class CodedText:
    """One parsed export file (one code)."""

    label: str
    blocks: tuple[SourceBlock, ...]
    code_name: HName | None = None
    variant: str = "V3"
    encoding: str = "utf-8-sig"
    newline: str = "\n"
    issues: tuple[Issue, ...] = field(default=())

    @property
    def declared(self) -> int:
        """Sum of the headers' ``§ N`` counts."""
        return sum(b.declared for b in self.blocks)

    @property
    def found(self) -> int:
        """References found, merged heads counted as several."""
        return sum(b.found for b in self.blocks)


# --------------------------------------------------------------------------- decoding


def decode(data: bytes) -> tuple[str, str, list[Issue]]:
    """Decode an export: BOM first (UTF-8 or UTF-16, §c.1 V3/V4), then UTF-8, then cp1252.

    Returns:
        (text, encoding name, issues).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig", []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16", []
    if len(data) >= 4 and data[1] == 0 and data[3] == 0 and data[0] != 0:
        return data.decode("utf-16-le", errors="replace"), "utf-16-le", []
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        issue = Issue("QDX407", Severity.WARNING, "file is not UTF-8 or UTF-16; decoded as cp1252")
        return data.decode("cp1252", errors="replace"), "cp1252", [issue]


def split_lines(text: str) -> tuple[list[str], str]:
    """Lines of ``text`` (any newline convention) and the convention met (``\\r\\n`` or ``\\n``)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return lines, newline


def looks_like_coded_text(text: str, grammar: _Grammar = _ENGLISH_GRAMMAR) -> bool:
    """Whether the first lines of ``text`` follow the §c.1 grammar (used by format sniffing)."""
    lines = [ln.strip() for ln in text.replace("\r", "").split("\n")[:12]]
    lines = [ln for ln in lines if ln]
    for i, line in enumerate(lines[:6]):
        if grammar.header.match(line) or grammar.count_line.match(line):
            return any(grammar.head.match(x) for x in lines[i + 1 : i + 3])
    return False


# --------------------------------------------------------------------------- parsing


@dataclass(slots=True)
class _OpenRef:
    first: int
    last: int
    coverage: float | None
    line: int
    body: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _OpenBlock:
    source: HName
    declared: int
    coverage: float | None
    line: int
    refs: list[_OpenRef] = field(default_factory=list)
    # References so far, merged heads counted as several; kept as a running total because
    # every head compares against it (a sum per head made a 40,000-reference block quadratic).
    found: int = 0


def _pct(text: str | None) -> float | None:
    return None if text is None else float(text.replace(",", "."))


class _Parser:
    """A line state machine over one export file."""

    def __init__(self, lines: list[str], label: str, grammar: _Grammar, *, trim: bool) -> None:
        self.lines = lines
        self.label = label
        self.g = grammar
        self.trim = trim
        self.blocks: list[_OpenBlock] = []
        self.preamble: list[str] = []
        self.issues: list[Issue] = []
        self.two_line = False
        self.brackets = False
        self.section = True

    def where(self, index: int) -> str:
        return f"{self.label}:{index + 1}"

    def run(self) -> None:
        i = 0
        while i < len(self.lines):
            i += self._step(i)

    def _step(self, i: int) -> int:
        consumed = self._try_header(i)
        if consumed:
            return consumed
        line = self.lines[i]
        block = self.blocks[-1] if self.blocks else None
        head = self.g.head.match(line.strip())
        if block is not None and head and self._accept_head(block, head, i):
            return 1
        if block is not None and block.refs:
            block.refs[-1].body.append(line)
        elif block is None:
            self.preamble.append(line)
        elif line.strip():
            self.issues.append(
                Issue("QDX406", Severity.WARNING, "text outside any reference ignored", self.where(i))
            )
        return 1

    def _next_is_head(self, i: int) -> bool:
        for line in self.lines[i : i + 3]:
            if line.strip():
                return bool(self.g.head.match(line.strip()))
        return False

    def _try_header(self, i: int) -> int:
        line = self.lines[i].strip()
        match = self.g.header.match(line)
        if match and self._next_is_head(i + 1):
            self.brackets = self.brackets or bool(match.group("lt"))
            self.section = bool(match.group("sect"))
            self._open(parse_hname(match.group("name")), match, i)
            return 1
        if i + 1 < len(self.lines) and line and not self.g.head.match(line):
            second = self.g.count_line.match(self.lines[i + 1].strip())
            if second and self._next_is_head(i + 2):
                # V2: "<Internals\Interviews\Ana>" then "2 references coded [3.10% Coverage]".
                self.two_line = True
                self.brackets = self.brackets or line.startswith("<")
                self.section = bool(second.group("sect"))
                name = line[1:-1] if line.startswith("<") and line.endswith(">") else line
                self._open(parse_hname(name), second, i)
                return 2
        return 0

    def _open(self, name: HName, match: re.Match[str], i: int) -> None:
        self.blocks.append(_OpenBlock(name, int(match.group("n")), _pct(match.group("pct")), i + 1))

    def _accept_head(self, block: _OpenBlock, head: re.Match[str], i: int) -> bool:
        first = int(head.group("one") or head.group("first"))
        last = int(head.group("one") or head.group("last"))
        expected = block.found + 1
        # A body line that merely looks like a head is text once the block is complete
        # (§c.1 "Ambiguity to handle"): only a head that is still expected opens a reference.
        if first != expected and block.found >= block.declared:
            return False
        if first != expected:
            self.issues.append(
                Issue(
                    "QDX408",
                    Severity.WARNING,
                    f"reference numbered {first}, expected {expected}",
                    self.where(i),
                )
            )
        last = max(last, first)
        block.refs.append(_OpenRef(first, last, _pct(head.group("pct")), i + 1))
        block.found += last - first + 1
        return True

    # ------------------------------------------------------------------ finishing

    def spaced(self) -> bool:
        """V4 writes a blank line after every reference head (§c.1 table)."""
        heads = [r.line for b in self.blocks for r in b.refs]
        return bool(heads) and all(h < len(self.lines) and not self.lines[h].strip() for h in heads)

    def finish(self) -> list[SourceBlock]:
        spaced = self.spaced()
        blocks = []
        for block in self.blocks:
            refs = tuple(self._reference(r, spaced) for r in block.refs)
            blocks.append(SourceBlock(block.source, block.declared, block.coverage, block.line, refs))
            self._checksum(blocks[-1])
        return blocks

    def _reference(self, ref: _OpenRef, spaced: bool) -> Reference:
        body = list(ref.body)
        if spaced:
            if body and not body[0].strip():
                body.pop(0)
            if body and not body[-1].strip():
                body.pop()
        if self.trim:
            while body and not body[0].strip():
                body.pop(0)
            while body and not body[-1].strip():
                body.pop()
        region = self._region(body)
        text = None if region is not None else "\n".join(body)
        return Reference(ref.first, ref.last, ref.coverage, text, region, ref.line)

    def _region(self, body: list[str]) -> Region | None:
        lines = [b for b in body if b.strip()]
        match = self.g.region.match(lines[0].strip()) if len(lines) == 1 else None
        if match is None:
            return None
        page, x1, y1, x2, y2 = (int(match.group(k)) for k in ("page", "x1", "y1", "x2", "y2"))
        return Region(page, x1, y1, x2, y2)

    def _checksum(self, block: SourceBlock) -> None:
        if block.found != block.declared:
            self.issues.append(
                Issue(
                    "QDX401",
                    Severity.WARNING,
                    f"header of '{block.source.render()}' declares {block.declared} references,"
                    f" {block.found} found",
                    f"{self.label}:{block.line}",
                )
            )

    def variant(self, encoding: str, newline: str) -> str:
        if self.preamble_name() is not None:
            return "V5"
        if self.two_line:
            return "V2"
        if self.brackets and (encoding.startswith("utf-16") or newline == "\r\n" or self.spaced()):
            return "V4"
        return "V1" if self.brackets else "V3"

    def preamble_name(self) -> HName | None:
        named = [p.strip() for p in self.preamble if p.strip()]
        return parse_hname(named[0]) if named else None


def parse_lines(
    lines: list[str],
    *,
    label: str,
    phrases: Phrases = ENGLISH,
    trim: bool = False,
    encoding: str = "utf-8-sig",
    newline: str = "\n",
) -> CodedText:
    """Parse the lines of a Reference-view export.

    Args:
        lines: the file's lines without line ends.
        label: how to name the file in issue locations.
        phrases: the grammar's words (English by default).
        trim: drop blank lines around bodies (Word exports, whose spacing is layout).
        encoding: what the bytes were decoded as (for the variant guess).
        newline: the file's newline convention (for the variant guess).

    Returns:
        The parsed file; checksum mismatches and stray text are in ``issues``.
    """
    grammar = _ENGLISH_GRAMMAR if phrases == ENGLISH else _grammar(phrases)
    parser = _Parser(lines, label, grammar, trim=trim)
    parser.run()
    blocks = parser.finish()
    return CodedText(
        label=label,
        blocks=tuple(blocks),
        code_name=parser.preamble_name(),
        variant=parser.variant(encoding, newline),
        encoding=encoding,
        newline=newline,
        issues=tuple(parser.issues),
    )


def parse_text(data: bytes, *, label: str, phrases: Phrases = ENGLISH) -> CodedText:
    """Parse a .txt Reference-view export (any of V1-V5, UTF-8/UTF-16, LF/CRLF).

    Args:
        data: the file's bytes.
        label: the file name, used in issue locations (``J_Denial.txt:12``).
        phrases: the grammar's words.

    Returns:
        The parsed file.

    Example:
        >>> parse_text(b"Files\\\\\\\\A - \\xc2\\xa7 1 reference coded [ 9.00% Coverage]\\n"
        ...            b"Reference 1 - 9.00% Coverage\\nhello\\n", label="x.txt").found
        1
    """
    text, encoding, issues = decode(data)
    lines, newline = split_lines(text)
    parsed = parse_lines(lines, label=label, phrases=phrases, encoding=encoding, newline=newline)
    if issues:
        located = tuple(Issue(i.code, i.severity, i.message, label) for i in issues)
        parsed = replace(parsed, issues=located + parsed.issues)
    return parsed
