"""Turning parsed coded-text exports (one file per code) into a Project.

Each export file is one code (its path comes from the folder layout and the file name, or from
a V5 first line naming the code); each source header is one source, identified by its full
hierarchical name (docs/nvivo-exports.md §0.2). Source folders become Sets named by the folder path so a
writer can give back the same header. Text references become PlainTextSelections placed in the
source text (``--sources``) or in a stand-in text made of the coded passages; region references
(``Page N : (x1,y1) - (x2,y2)``) become PDFSelections on page N - 1 (NVivo counts pages from 1,
REFI from 0) with NVivo's corners (top-left origin, kept as written because the page size is
unknown).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from qdx.errors import Issue, Severity, UnsafeInputError
from qdx.formats.nvivo.codedtext import CodedText, Reference, SourceBlock
from qdx.formats.nvivo.names import HName, safe_file_name
from qdx.formats.nvivo.place import PassageBuilder, Placement, SourcePlacer, Used
from qdx.model import (
    MAX_CODE_DEPTH,
    Code,
    Coding,
    Guid,
    PDFSelection,
    PDFSource,
    Project,
    Provenance,
    Set,
    Source,
    TextSelection,
    TextSource,
    User,
    placeholder_user_name,
)

_NAMESPACE = uuid.UUID("6f1d3c2e-7a41-4d8e-9a35-2b8e8c1f4a10")


_PREFIX = _NAMESPACE.bytes
# uuid5's variant bits (RFC 4122 4.1.1: 10xx) applied to the 17th hex digit.
_VARIANT = {f"{d:x}": f"{d & 0x3 | 0x8:x}" for d in range(16)}


def stable_guid(*parts: str) -> Guid:
    """A deterministic GUID for a name (so converting twice gives identical output):
    ``str(uuid.uuid5(_NAMESPACE, "\\x1f".join(parts)))``, built from the SHA-1 digest
    directly (uuid's objects cost a third of reading a 120,000-row sheet)."""
    h = hashlib.sha1(_PREFIX + "\x1f".join(parts).encode()).hexdigest()
    return Guid(f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}")


@dataclass(frozen=True, slots=True)
class CodeFile:
    """A parsed export file and the code path it stands for."""

    code_path: tuple[str, ...]
    parsed: CodedText


@dataclass(slots=True)
class _SourceAcc:
    hname: HName
    placer: SourcePlacer | PassageBuilder
    from_text: bool
    selections: list[TextSelection] = field(default_factory=list)
    regions: list[PDFSelection] = field(default_factory=list)


@dataclass(slots=True)
class _Counters:
    placed: int = 0
    whitespace: int = 0
    unplaced: int = 0
    regions: int = 0
    merged_extra: int = 0
    merged_heads: int = 0
    merged_refs: int = 0


# "References 2-3" merges adjacent references, one selection per number (docs/nvivo-exports.md §c.1).
# Exports show a few numbers per merged head; the merged heads of one conversion may add at
# most this many selections beyond one per head, so the numbers in a head, not the size of
# the file, cannot decide the work: a 125-byte "References 1-1000000000" ran without bound.
MAX_MERGED_EXTRA = 10_000

class SourceTexts:
    """Source texts given with ``--sources``, found by file path or by name."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.by_path: dict[str, str] = {}
        self.by_name: dict[str, list[str]] = {}
        for path, text in texts.items():
            stem = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
            self.by_path[stem.lower()] = text
            self.by_name.setdefault(stem.rsplit("/", 1)[-1].lower(), []).append(stem.lower())

    def find(self, hname: HName) -> tuple[str, str] | None:
        """(file key, text) of a source: its folder path under the top folder first, then its name."""
        names = [hname.name, safe_file_name(hname.name)]
        for name in names:
            key = "/".join([*hname.folders[1:], name]).lower()
            if key in self.by_path:
                return key, self.by_path[key]
        for name in names:
            candidates = self.by_name.get(name.lower(), [])
            if len(candidates) == 1:
                return candidates[0], self.by_path[candidates[0]]
        return None


class ProjectBuilder:
    """Accumulates code files into one Project."""

    def __init__(self, name: str, texts: SourceTexts | None) -> None:
        self.name = name
        self.texts = texts
        self.sources: dict[str, _SourceAcc] = {}
        self.code_paths: list[tuple[str, ...]] = []
        self.issues: list[Issue] = []
        self.count = _Counters()
        self.users: dict[tuple[int, int], User] = {}

    # ------------------------------------------------------------------ sources

    def _source(self, hname: HName) -> _SourceAcc:
        # Headers that resolve to the same --sources file are one document (e.g. the same
        # interview under "Internals\\" in an NVivo 11 export and "Files\\" in a 12 one).
        found = self.texts.find(hname) if self.texts is not None else None
        key = f"\x00file:{found[0]}" if found is not None else hname.render()
        acc = self.sources.get(key)
        if acc is None:
            placer: SourcePlacer | PassageBuilder = SourcePlacer(found[1]) if found else PassageBuilder()
            acc = _SourceAcc(hname, placer, found is not None)
            self.sources[key] = acc
        return acc

    # ------------------------------------------------------------------ codes

    def add(self, item: CodeFile) -> None:
        """Add one export file (one code) and place its references.

        Raises:
            UnsafeInputError: the code is nested more than :data:`MAX_CODE_DEPTH` levels.
        """
        if len(item.code_path) > MAX_CODE_DEPTH:
            raise UnsafeInputError(
                f"code nested {len(item.code_path)} levels deep, more than {MAX_CODE_DEPTH}; refused",
                location=item.parsed.label,
            )
        if item.code_path not in self.code_paths:
            self.code_paths.append(item.code_path)
        self.issues.extend(item.parsed.issues)
        code = stable_guid("code", *item.code_path)
        for block in item.parsed.blocks:
            self._add_block(block, code, item.parsed.label)

    def _add_block(self, block: SourceBlock, code: Guid, label: str) -> None:
        acc = self._source(block.source)
        acc.placer.begin_block()
        used: Used = set()
        prev = (-1, -1)
        for ref in block.references:
            if ref.region is not None:
                self._add_region(acc, ref, code, label)
                continue
            placement = acc.placer.place(ref.text or "", prev, used)
            if placement is None:
                self._unplaced(block, ref, label)
                continue
            used.add((placement.start, placement.end))
            prev = (placement.start, placement.end)
            self._add_selections(acc, ref, placement, code, label)

    def _add_selections(
        self, acc: _SourceAcc, ref: Reference, placement: Placement, code: Guid, label: str
    ) -> None:
        self._bound_merged(ref, label)
        self.count.placed += ref.count
        if placement.method == "whitespace":
            self.count.whitespace += ref.count
        # "References 2-3": one passage coded by several users; one selection per reference,
        # as NVivo's own REFI export does (one selection per range and coding, docs/nvivo-exports.md §a.2),
        # each by its own placeholder user (see _coders).
        for number, user in zip(range(ref.first, ref.last + 1), self._coders(ref), strict=True):
            guid = stable_guid("sel", acc.hname.render(), str(code), str(number), label)
            coding = Coding(guid=stable_guid("coding", guid), code=code, creating_user=user)
            acc.selections.append(
                TextSelection(
                    guid=guid,
                    start=placement.start,
                    end=placement.end,
                    codings=(coding,),
                    creating_user=user,
                    loc=f"{label}:{ref.line}",
                )
            )

    def _coders(self, ref: Reference) -> list[Guid | None]:
        """The creating user of each reference of a head: none for ``Reference K``; for a merged
        ``References K-L`` (several users coded the passage, names not exported) one placeholder
        per reference, "NVivo user i of n (not named in the export)". Without them the n codings
        would be identical, and tools that key codings on (source, code, range, coder), QualCoder
        among them, keep one: NVivo's count would be lost. The placeholders are shared by all
        heads of the same width and are no identities (qdx.model.PLACEHOLDER_USER_MARK)."""
        if ref.count < 2:
            return [None]
        self.count.merged_heads += 1
        self.count.merged_refs += ref.count
        users: list[Guid | None] = []
        for number in range(1, ref.count + 1):
            user = self.users.get((number, ref.count))
            if user is None:
                user = User(
                    guid=stable_guid("placeholder-user", str(number), str(ref.count)),
                    name=placeholder_user_name(number, ref.count),
                )
                self.users[(number, ref.count)] = user
            users.append(user.guid)
        return users

    def _add_region(self, acc: _SourceAcc, ref: Reference, code: Guid, label: str) -> None:
        region = ref.region
        assert region is not None
        self._bound_merged(ref, label)
        page = region.page - 1  # NVivo counts pages from 1, REFI from 0 (docs/nvivo-exports.md, regions)
        if page < 0:  # never seen from NVivo: not a page before the first, so say so and keep page 0
            page = 0
            message = (f"region on 'Page {region.page}', but NVivo counts pages from 1;"
                       " read as the first page (REFI page 0)")
            self.issues.append(Issue("QDX412", Severity.WARNING, message, f"{label}:{ref.line}"))
        self.count.regions += ref.count
        for number, user in zip(range(ref.first, ref.last + 1), self._coders(ref), strict=True):
            guid = stable_guid("region", acc.hname.render(), str(code), str(number), label)
            acc.regions.append(
                PDFSelection(
                    guid=guid,
                    page=page,
                    first_x=region.x1,
                    first_y=region.y1,
                    second_x=region.x2,
                    second_y=region.y2,
                    codings=(Coding(guid=stable_guid("coding", guid), code=code, creating_user=user),),
                    creating_user=user,
                    loc=f"{label}:{ref.line}",
                )
            )

    def _bound_merged(self, ref: Reference, label: str) -> None:
        """Count what ``ref`` adds beyond one selection against :data:`MAX_MERGED_EXTRA`.

        Raises:
            UnsafeInputError: the merged heads add more selections than the limit.
        """
        self.count.merged_extra += ref.count - 1
        if self.count.merged_extra > MAX_MERGED_EXTRA:
            raise UnsafeInputError(
                f"merged reference heads ('References {ref.first}-{ref.last}') add more than"
                f" {MAX_MERGED_EXTRA:,} references beyond their heads; refused",
                location=f"{label}:{ref.line}",
            )

    def _unplaced(self, block: SourceBlock, ref: Reference, label: str) -> None:
        self.count.unplaced += ref.count
        preview = " ".join((ref.text or "").split())[:60]
        self.issues.append(
            Issue(
                "QDX402",
                Severity.ERROR,
                f"reference {ref.first} of '{block.source.render()}' not found in the source text"
                f" ({preview!r}); not converted",
                f"{label}:{ref.line}",
            )
        )

    # ------------------------------------------------------------------ result

    def project(self, fmt: str) -> Project:
        """The Project built so far."""
        sources = tuple(self._build_source(acc) for acc in self.sources.values())
        missing = [acc for acc in self.sources.values() if not acc.from_text]
        issues = list(self.issues)
        if self.texts is None:
            issues.append(
                Issue(
                    "QDX405",
                    Severity.WARNING,
                    "no --sources given: sources hold only the coded passages, so offsets are"
                    " not those of the original documents",
                )
            )
        else:
            issues.extend(
                Issue("QDX404", Severity.WARNING, "source text not found; built from coded passages", a.hname.render())
                for a in missing
            )
            issues.append(self._summary())
        if self.count.merged_heads:  # with or without --sources
            issues.append(self._merged_summary())
        quirks = ("nvivo-region-top-left",) if self.count.regions else ()
        return Project(
            name=self.name,
            origin="NVivo (coded-text export)",
            users=tuple(self.users[k] for k in sorted(self.users, key=lambda k: (k[1], k[0]))),
            codes=_code_tree(self.code_paths),
            sources=sources,
            sets=self._folder_sets(),
            provenance=Provenance(
                fmt=fmt, position_unit="codepoint", quirks=quirks, issues=tuple(issues)
            ),
        )

    def _summary(self) -> Issue:
        count = self.count
        return Issue(
            "QDX403",
            Severity.INFO,
            f"{count.placed} text references placed ({count.placed - count.whitespace} exact,"
            f" {count.whitespace} whitespace-normalised), {count.unplaced} not found,"
            f" {count.regions} region references",
        )

    def _merged_summary(self) -> Issue:
        count = self.count
        return Issue(
            "QDX411",
            Severity.INFO,
            f"{count.merged_heads} merged reference head(s) ('References K-L': several users coded"
            f" the same passage) kept as {count.merged_refs} codings by placeholder users"
            f" ('{placeholder_user_name(1, 2)}', ...): the export does not name the coders",
        )

    def _build_source(self, acc: _SourceAcc) -> Source:
        key = acc.hname.render()
        text = acc.placer.text
        selections = tuple(sorted(acc.selections, key=lambda s: (s.start, s.end)))
        doc = TextSource(
            guid=stable_guid("source", key), name=acc.hname.name, text=text, selections=selections
        )
        if not acc.regions:
            return doc
        representation = None
        if selections or acc.from_text:
            representation = TextSource(
                guid=stable_guid("representation", key), name=acc.hname.name, text=text, selections=selections
            )
        return PDFSource(
            guid=stable_guid("source", key),
            name=acc.hname.name,
            selections=tuple(acc.regions),
            representation=representation,
        )

    def _folder_sets(self) -> tuple[Set, ...]:
        folders: dict[str, list[Guid]] = {}
        for acc in self.sources.values():
            if acc.hname.folders:
                folders.setdefault(acc.hname.folder_path, []).append(stable_guid("source", acc.hname.render()))
        return tuple(
            Set(guid=stable_guid("set", path), name=path, member_sources=tuple(members))
            for path, members in folders.items()
        )


def _code_tree(paths: Sequence[tuple[str, ...]]) -> tuple[Code, ...]:
    """Nest code paths into Code records (a parent path with no file is still a code)."""
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    seen: set[tuple[str, ...]] = set()
    for path in paths:
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            if prefix not in seen:
                seen.add(prefix)
                children.setdefault(prefix[:-1], []).append(prefix)

    def make(path: tuple[str, ...]) -> Code:
        kids = tuple(make(p) for p in children.get(path, []))
        return Code(guid=stable_guid("code", *path), name=path[-1], children=kids)

    return tuple(make(p) for p in children.get((), []))


def code_path_for(label: str, parsed: CodedText) -> tuple[str, ...]:
    """The code a file stands for: a V5 first line naming it, else folders + file name."""
    if parsed.code_name is not None and parsed.code_name.item:
        return parsed.code_name.item
    parts = label.split("/")
    stem = parts[-1].rsplit(".", 1)[0] if "." in parts[-1] else parts[-1]
    return (*parts[:-1], stem)

