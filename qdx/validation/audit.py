"""Codebook audit: consistency problems a careful reader of a codebook would point out.

The rules follow docs/methods.md §C.3 (MacQueen et al. 1998, team codebooks; NVivo help on node
hierarchies) and are documented one by one in ``docs/rules.md``. :func:`audit` works on
projects and on codebooks; a codebook has no coding data, so rules that count codings are
skipped and an INFO finding (CB0) says so.

>>> for finding in audit(qdx.read("a.qdpx"), qdx.read("b.qdpx"), labels=["a", "b"]):  # doctest: +SKIP
...     print(finding.rule, finding.code_path, finding.message)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qdx.errors import Severity
from qdx.model import Code, Guid, Project, ProjectIndex, iter_codes
from qdx.validation.codes import Usage, coding_usage, fold_name, has_coding_data, ignored_rules, path_label
from qdx.validation.misfit import macqueen_parts, misfits
from qdx.validation.structure import find_core, repeats_name

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

# Stable rule codes; CB1-CB7 follow docs/methods.md §C.3, CB12 onwards are qdx's own.
RULES: dict[str, tuple[str, Severity]] = {
    "CB0": ("no-coding-data", INFO),
    "CB1": ("never-applied", WARNING),
    "CB2": ("applied-once", INFO),
    "CB5": ("near-duplicate-name", WARNING),
    "CB6": ("catch-all-code", WARNING),
    "CB7": ("applied-without-definition", WARNING),
    "CB12": ("partial-macqueen-definition", INFO),
    "CB13": ("empty-category", WARNING),
    "CB14": ("definition-fits-other-code", WARNING),
    "CB15": ("repeats-core-name", WARNING),
    "CB16": ("inconsistent-across-files", WARNING),
}

# Formats (Provenance.fmt) that hold codings but no code definitions: CB7 would fire on every
# code of them (NVivo coded-text exports carry node names and passages only; a matrix export
# only counts), so it is skipped with one CB0 line.
NO_DEFINITIONS: frozenset[str] = frozenset({"nvivo-text", "nvivo-matrix-xlsx"})

# Names that mark a parking-lot code rather than a concept (docs/methods.md CB6).
CATCH_ALL: frozenset[str] = frozenset({
    "other", "others", "misc", "miscellaneous", "general", "unsorted", "temp", "tmp", "todo",
    "uncategorized", "uncategorised", "unclassified", "unknown", "various", "rest", "etc",
    "其他", "其它", "杂项", "未分类", "其他类", "其余",
})


@dataclass(frozen=True, slots=True)
class Finding:
    """One audit finding: a rule code, its severity, the code path it is about and why."""

    rule: str
    severity: Severity
    code_path: str
    message: str
    file: str | None = None

    @property
    def name(self) -> str:
        return RULES[self.rule][0]

    def as_dict(self) -> dict[str, str | None]:
        return {"rule": self.rule, "name": self.name, "severity": self.severity.value,
                "code_path": self.code_path, "message": self.message, "file": self.file}


class _Context:
    """One project under audit: its index, coding usage and where findings go."""

    def __init__(self, project: Project, label: str | None, skip: frozenset[str],
                 found: list[Finding]) -> None:
        self.project = project
        self.label = label
        self.skip = skip
        self.found = found
        self.index = ProjectIndex(project)
        self.coded = has_coding_data(project)
        self.usage: dict[Guid, Usage] = coding_usage(project) if self.coded else {}
        self.codes: list[Code] = list(self.index.codes.values())
        fmt = project.provenance.fmt if project.provenance is not None else None
        self.defines = fmt not in NO_DEFINITIONS

    def add(self, rule: str, code: Code | None, message: str) -> None:
        if rule in self.skip or (code is not None and rule in ignored_rules(code)):
            return
        where = path_label(self.index.code_path(code)) if code is not None else ""
        self.found.append(Finding(rule, RULES[rule][1], where, message, self.label))

    def refs(self, code: Code) -> int:
        entry = self.usage.get(code.guid)
        return entry.references if entry else 0

    def path(self, code: Code) -> str:
        return path_label(self.index.code_path(code))


def audit(
    *projects: Project,
    labels: Sequence[str] | None = None,
    skip: Iterable[str] = (),
    catch_all: Iterable[str] = CATCH_ALL,
    core: str | None = None,
) -> list[Finding]:
    """Audit one or more projects or codebooks.

    Args:
        projects: what to audit; with two or more, the same code (by GUID, else by path) is
            also compared across them (CB16).
        labels: how to name each project in findings (e.g. its file name).
        skip: rule codes not to report (a code can also silence a rule for itself with a
            description line ``qdx: ignore CB2``).
        catch_all: names (folded) that mark a catch-all code (CB6).
        core: the core category's name, for CB15, when the codebook does not show it.

    Returns:
        Findings in project order, then rule order.

    Raises:
        UsageError: ``labels`` does not have one entry per project, or ``skip`` names an
            unknown rule.

    Example:
        >>> [f.rule for f in audit(qdx.read("fixtures/table2-as-printed.qdc"))]   # doctest: +SKIP
        ['CB0', 'CB15', 'CB14', 'CB14', 'CB14']
    """
    from qdx.errors import UsageError

    names: Sequence[str | None] = labels if labels is not None else [None] * len(projects)
    if len(names) != len(projects):
        raise UsageError(f"{len(names)} labels for {len(projects)} projects")
    found: list[Finding] = []
    skipped = frozenset(s.strip().upper() for s in skip)
    if skipped - RULES.keys():
        raise UsageError(f"unknown audit rule(s) {', '.join(sorted(skipped - RULES.keys()))}; "
                         f"known: {', '.join(RULES)}")
    folded_catch_all = frozenset(fold_name(n) for n in catch_all)
    for project, label in zip(projects, names, strict=True):
        ctx = _Context(project, label, skipped, found)
        _usage_rules(ctx)
        _name_rules(ctx, folded_catch_all, core)
        _definition_rules(ctx)
    if len(projects) > 1:
        _across(projects, names, skipped, found)
    return found


# --------------------------------------------------------------------------- coding usage


def _usage_rules(ctx: _Context) -> None:
    not_checked = "CB1 never-applied, CB2 applied-once, CB7 applied-without-definition and CB13 empty-category"
    if not ctx.coded:
        ctx.add("CB0", None, f"no coding data (a codebook): {not_checked} were not checked")
        return
    if not ctx.usage:
        # Sources but not one coding: every code would be "never applied", which says only that
        # coding has not started (or was not exported). One line instead of hundreds.
        sources = len(ctx.project.sources)
        ctx.add("CB0", None, f"no codings in {sources} source(s): {not_checked} were not checked")
        return
    if not ctx.defines:
        fmt = ctx.project.provenance.fmt if ctx.project.provenance is not None else "this"
        ctx.add("CB0", None, f"a {fmt} export cannot carry code definitions: CB7 applied-without-definition "
                             "was not checked")
    for code in ctx.codes:
        refs = ctx.refs(code)
        if refs == 0 and not code.children:
            if code.is_codable:
                ctx.add("CB1", code, "never applied (0 references)")
            else:
                ctx.add("CB13", code, "empty category: no child codes and never applied")
        elif refs == 1:
            ctx.add("CB2", code, "applied only once (1 reference); a code used once may not earn its place")
        if refs and ctx.defines and not (code.description or "").strip() and not code.note_refs:
            ctx.add("CB7", code, f"applied {refs} time(s) but has no definition (no description or memo)")


# --------------------------------------------------------------------------- names


def _name_rules(ctx: _Context, catch_all: frozenset[str], core: str | None) -> None:
    first: dict[str, Code] = {}
    for code in ctx.codes:
        key = fold_name(code.name)
        if key in catch_all:
            ctx.add("CB6", code, f"catch-all code {code.name!r}: say what belongs here or recode its data")
        if not key:
            continue
        earlier = first.setdefault(key, code)
        if earlier is not code:
            how = "the same name as" if earlier.name == code.name else "a near-duplicate of"
            ctx.add("CB5", code, f"{code.name!r} is {how} {earlier.name!r} at {ctx.path(earlier)}")
    _repeats_core(ctx, core)


def _repeats_core(ctx: _Context, core: str | None) -> None:
    core_name = find_core(ctx.project, core)
    if core_name is None:
        return
    core_key = fold_name(core_name)
    for code in ctx.codes:
        if ctx.index.parents[code.guid] is None and fold_name(code.name) == core_key:
            continue  # the core category itself
        if repeats_name(code.name, core_name):
            ctx.add("CB15", code, f"{code.name!r} repeats the core category {core_name!r}; the core "
                                  "belongs at the top of the tree, not among its own parts")


# --------------------------------------------------------------------------- definitions


def _definition_rules(ctx: _Context) -> None:
    _macqueen(ctx)
    defined = [(c, c.description) for c in ctx.codes if c.description and c.description.strip()]
    related = {c.guid: _relatives(ctx, c) for c, _ in defined}
    for misfit in misfits([(c.guid, c.name) for c in ctx.codes],
                          [(c.guid, d) for c, d in defined if d is not None], related):
        code = ctx.index.codes[misfit.code]
        better = ", ".join(sorted(repr(ctx.index.codes[g].name) for g in misfit.better))
        message = f"its definition fits {better} better than its own name"
        if misfit.swapped is not None:
            message += f"; the definitions of {code.name!r} and {ctx.index.codes[misfit.swapped].name!r} " \
                       "look swapped"
        ctx.add("CB14", code, message)


def _relatives(ctx: _Context, code: Code) -> set[Guid]:
    """Ancestors and descendants: a definition may name them without fitting them better."""
    found = {c.guid for c, _ in iter_codes(code.children)}
    found.update(parent.guid for parent in ctx.index.tree.ancestors(code.guid))
    return found


def _macqueen(ctx: _Context) -> None:
    # MacQueen's parts guide coders applying a code: codable leaves; a category's description
    # is a summary (a Table 2 "implication") and is not held to them.
    parts = {c.guid: macqueen_parts(c.description or "") for c in ctx.codes
             if (c.description or "").strip() and c.is_codable and not c.children}
    structured = [g for g, p in parts.items() if p]
    # Only where the codebook otherwise uses the structure: at least two codes and half of them.
    if len(structured) < 2 or 2 * len(structured) < len(parts):
        return
    wanted = ("use", "do not use", "example")
    for guid, found in parts.items():
        missing = [w for w in wanted if w not in found]
        if missing:
            ctx.add("CB12", ctx.index.codes[guid], "definition lacks MacQueen part(s): " + ", ".join(missing))


# --------------------------------------------------------------------------- across files


@dataclass(frozen=True, slots=True)
class _Seen:
    label: str
    code: Code
    parent: tuple[str, ...] | None  # the parent's name path, for the message
    identity: Guid  # the first file's GUID of this code (matched by GUID, else by path)
    parent_identity: Guid | None


def _across(projects: Sequence[Project], labels: Sequence[str | None], skip: frozenset[str],
            found: list[Finding]) -> None:
    if "CB16" in skip:
        return
    by_guid: dict[Guid, _Seen] = {}
    by_path: dict[tuple[str, ...], _Seen] = {}
    for number, (project, label) in enumerate(zip(projects, labels, strict=True), start=1):
        name = label or f"#{number}"
        index = ProjectIndex(project)
        identity: dict[Guid, Guid] = {}  # this file's code GUID -> its identity across files
        for code in index.codes.values():  # pre-order: a parent's identity is known first
            path = index.code_path(code)
            other = by_guid.get(code.guid) or by_path.get(path)
            identity[code.guid] = other.identity if other is not None else code.guid
            parent = index.parents[code.guid]
            here = _Seen(name, code, index.code_path(parent) if parent is not None else None,
                         identity[code.guid], identity.get(parent.guid) if parent is not None else None)
            if other is None:
                by_guid[code.guid] = by_path[path] = here
                continue
            for what, mine, theirs in _differences(here, other):
                if "CB16" not in ignored_rules(code):
                    found.append(Finding("CB16", WARNING, path_label(path),
                                         f"{what} differs: {theirs!r} in {other.label} vs {mine!r} in {name}",
                                         label))


def _differences(here: _Seen, other: _Seen) -> list[tuple[str, str | None, str | None]]:
    a, b = here.code, other.code
    out: list[tuple[str, str | None, str | None]] = []
    if a.name != b.name:
        out.append(("name", a.name, b.name))
    if (a.color or "").lower() != (b.color or "").lower():
        out.append(("colour", a.color, b.color))
    if " ".join((a.description or "").split()) != " ".join((b.description or "").split()):
        out.append(("description", _short(a.description), _short(b.description)))
    # Parents compare by identity across files (GUID, else name path), not by GUID alone: two
    # copies of one codebook (NVivo for Windows and for Mac) give the same parent different
    # GUIDs, and a renamed parent is reported once (as its own name difference), not again
    # for each of its children.
    if here.parent_identity != other.parent_identity:
        out.append(("parent", path_label(here.parent) if here.parent else None,
                    path_label(other.parent) if other.parent else None))
    return out


def _short(text: str | None, limit: int = 60) -> str | None:
    if text is None:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --------------------------------------------------------------------------- Excel
