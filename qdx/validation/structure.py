"""Grounded-theory structure check: core category → main categories → subcategories → concepts.

Strauss & Corbin's three coding stages leave a tree of three levels under one central (core)
category (docs/methods.md §C.1): open coding yields *concepts*, grouped into *subcategories*;
axial coding groups those into *main categories*; selective coding picks the *core category*
that pulls them together. :func:`check_structure` finds those levels in a project's code tree
and checks the rules of docs/methods.md §C.2; every rule is documented in ``docs/rules.md``.
The rule table and a study's profile (expectations, thresholds) are in
:mod:`qdx.validation.structure_profile`.

Finding the levels:

* by default a single root code whose children carry the rest is the core category;
* when the main categories are roots, the core is named (``core="..."``), or it is the one
  code or set whose description is marked as core (a line starting ``Core category`` or
  ``[core]``, ``Level: core``, ``核心范畴``).

>>> result = check_structure(project, expect={"concepts": 40})   # doctest: +SKIP
>>> result.levels.as_dict()                                          # doctest: +SKIP
{'core': 'Privacy paradox behaviour', 'main': 4, 'subcategories': 20, 'concepts': 40}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from qdx.errors import Issue, Severity
from qdx.model import Code, Guid, Link, Project, ProjectIndex, Set, iter_codes
from qdx.validation.codes import (
    coding_usage,
    fold_name,
    has_coding_data,
    ignored_rules,
    is_core_marked,
    name_words,
    path_label,
)
from qdx.validation.structure_profile import LEVEL_KEYS as LEVEL_KEYS
from qdx.validation.structure_profile import RULES as RULES
from qdx.validation.structure_profile import Profile as Profile
from qdx.validation.structure_profile import load_profile as load_profile
from qdx.validation.structure_profile import normalise_expect as normalise_expect
from qdx.validation.structure_profile import parse_expect as parse_expect

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Levels:
    """What the check found: the core category's name and how many codes sit at each level."""

    core: str | None
    main: int
    subcategories: int
    concepts: int

    def as_dict(self) -> dict[str, str | int | None]:
        return {"core": self.core, "main": self.main, "subcategories": self.subcategories,
                "concepts": self.concepts}


@dataclass(frozen=True, slots=True)
class StructureResult:
    """``issues`` (location = code path) and the ``levels`` found; ``valid`` means no errors."""

    issues: tuple[Issue, ...]
    levels: Levels

    @property
    def valid(self) -> bool:
        return not any(issue.severity is Severity.ERROR for issue in self.issues)


# --------------------------------------------------------------------------- finding the levels


@dataclass(slots=True)
class _Tree:
    core_name: str | None = None
    core: Code | None = None
    core_set: Set | None = None
    mains: tuple[Code, ...] = ()
    # Main categories are the core's children (so they are linked to it by nesting).
    nested: bool = False
    problems: list[tuple[str, Code | None, str]] = field(default_factory=list)


def _find_core(project: Project, index: ProjectIndex, core: str | None) -> _Tree:
    if core is not None:
        return _named_core(project, index, core)
    marked_codes = [c for c in index.codes.values() if is_core_marked(c.description)]
    marked_sets = [s for s in project.sets if is_core_marked(s.description)]
    if len(marked_codes) + len(marked_sets) > 1:
        tree = _tree_from_code(project, index, marked_codes[0]) if marked_codes else _tree_from_set(
            project, index, marked_sets[0])
        names = ", ".join([c.name for c in marked_codes] + [s.name for s in marked_sets])
        tree.problems.append(("GT1", None, f"several codes or sets are marked as core: {names}"))
        return tree
    if marked_codes:
        return _tree_from_code(project, index, marked_codes[0])
    if marked_sets:
        return _tree_from_set(project, index, marked_sets[0])
    if len(project.codes) == 1:
        return _tree_from_code(project, index, project.codes[0])
    # Several roots, none named or marked: a root deep enough to hold main categories,
    # subcategories and concepts is the core; the other roots are then reported (GT1).
    deep = [c for c in project.codes if _height(c) >= 3]
    if deep:
        return _tree_from_code(project, index, max(deep, key=lambda c: len(_subtree_guids(c))))
    tree = _Tree(mains=project.codes)
    what = "no codes" if not project.codes else f"{len(project.codes)} root codes"
    tree.problems.append(("GT1", None, f"no core category: {what} and none marked as core "
                                       "(give --core NAME or a single root code)"))
    return tree


def _named_core(project: Project, index: ProjectIndex, name: str) -> _Tree:
    wanted = fold_name(name)
    codes = [c for c in index.codes.values() if fold_name(c.name) == wanted]
    if codes:
        tree = _tree_from_code(project, index, codes[0])
        if len(codes) > 1:
            paths = "; ".join(path_label(index.code_path(c)) for c in codes)
            tree.problems.append(("GT1", codes[1], f"core name {name!r} matches several codes: {paths}"))
        return tree
    sets = [s for s in project.sets if fold_name(s.name) == wanted]
    if sets:
        return _tree_from_set(project, index, sets[0])
    # The core is only a name (not a code): the roots are the main categories.
    return _Tree(core_name=name, mains=project.codes)


def _tree_from_code(project: Project, index: ProjectIndex, core: Code) -> _Tree:
    tree = _Tree(core_name=core.name, core=core)
    if index.parents.get(core.guid) is not None:
        tree.problems.append(("GT1", core, "the core category is not a root code"))
    if core.children:
        tree.mains, tree.nested = core.children, True
        for other in project.codes:
            if other.guid != core.guid and core.guid not in _subtree_guids(other):
                tree.problems.append(("GT1", other, "a second root beside the core category "
                                                    "(the core must be the only root)"))
    else:
        tree.mains = tuple(c for c in project.codes if c.guid != core.guid)
    return tree


def _tree_from_set(project: Project, index: ProjectIndex, core_set: Set) -> _Tree:
    members = tuple(index.codes[g] for g in core_set.member_codes if g in index.codes)
    return _Tree(core_name=core_set.name, core_set=core_set, mains=members or project.codes)


def _height(code: Code) -> int:
    """Levels below ``code`` (0 for a leaf); iterative, so deep trees cannot overflow."""
    return max(len(ancestors) for _, ancestors in iter_codes((code,)))


def _subtree_guids(code: Code) -> set[Guid]:
    return {c.guid for c, _ in iter_codes((code,))}


# --------------------------------------------------------------------------- the checker


class _Checker:
    """Collects issues; knows the options, the coding usage and per-code silencing."""

    def __init__(self, project: Project, profile: Profile, min_sources: int) -> None:
        self.project = project
        self.index = ProjectIndex(project)
        self.profile = profile
        self.min_sources = min_sources
        self.coded = has_coding_data(project)
        self.usage = coding_usage(project) if self.coded else {}
        self.issues: list[Issue] = []

    def add(self, rule: str, code: Code | None, message: str, severity: Severity | None = None) -> None:
        if rule in self.profile.skip or (code is not None and rule in ignored_rules(code)):
            return
        location = path_label(self.index.code_path(code)) if code is not None else None
        self.issues.append(Issue(rule, severity or RULES[rule][1], message, location))

    def refs(self, code: Code) -> int:
        entry = self.usage.get(code.guid)
        return entry.references if entry else 0

    def sources(self, code: Code) -> int:
        entry = self.usage.get(code.guid)
        return entry.sources if entry else 0

    def is_coded_leaf(self, code: Code) -> bool:
        """A leaf with codings: a concept, wherever it sits."""
        return not code.children and self.refs(code) > 0

    def name(self, level: int) -> str:
        return self.profile.level_names[level]


def check_structure(
    project: Project,
    *,
    core: str | None = None,
    profile: Profile | None = None,
    expect: Mapping[str, int] | None = None,
    min_sources: int = 1,
) -> StructureResult:
    """Check a project's code tree against the three-level grounded-theory structure.

    Args:
        project: the project or codebook (a codebook has no codings: GT5/GT6 are skipped and
            an INFO issue says so).
        core: the core category's name, when the main categories are root codes.
        profile: level names, expected counts, thresholds and rules to skip.
        expect: expected counts by level (``main``, ``subcategories``, ``concepts``, ``core``);
            each mismatch is a GT8 error. Overrides the profile's counts key by key.
        min_sources: distinct sources each concept must be coded in (GT5); the larger of this
            and the profile's value applies.

    Returns:
        A :class:`StructureResult`; ``issues`` carry a rule code, a severity and the code path.

    Raises:
        UsageError: an expectation key is unknown.

    Example:
        >>> check_structure(project, expect={"main": 4}).valid   # doctest: +SKIP
        True
    """
    profile = profile or Profile()
    checker = _Checker(project, profile, max(min_sources, profile.min_sources))
    tree = _find_core(project, checker.index, core if core is not None else profile.core)
    for rule, code, message in tree.problems:
        checker.add(rule, code, message)
    levels = _check_levels(checker, tree)
    if levels.main == 0 and tree.core_name is not None:
        # Selective coding integrates main categories around the core (docs/methods.md C.1): a core
        # with nothing below it, e.g. a codebook that is one code, is no three-level structure.
        checker.add("GT1", tree.core, f"the {checker.name(0)} {tree.core_name!r} has no {checker.name(1)} "
                                      f"below it; the structure needs at least one")
    _check_links(checker, tree)
    wanted = {**profile.expect, **normalise_expect(expect or {})}
    _check_counts(checker, levels, wanted)
    if not checker.coded:
        checker.add("GT5", None, "no coding data (a codebook): grounding (GT5) and direct coding "
                                 "(GT6) were not checked", INFO)
    return StructureResult(tuple(checker.issues), levels)


def _check_levels(checker: _Checker, tree: _Tree) -> Levels:
    if tree.core is not None:
        _check_category_coding(checker, tree.core)
    subs: list[Code] = []
    mains = 0
    for child in tree.mains:
        if checker.is_coded_leaf(child):
            checker.add("GT7", child, f"a {checker.name(3)} at {checker.name(1)} level "
                                      f"({checker.name(1)} and {checker.name(2)} levels skipped)")
            _check_concept(checker, child)
            continue
        mains += 1
        subs.extend(_check_main(checker, child))
    concepts = _check_subcategories(checker, tree, subs)
    return Levels(tree.core_name, mains, len(subs), concepts)


def _check_main(checker: _Checker, main: Code) -> list[Code]:
    _check_category_coding(checker, main)
    subs: list[Code] = []
    for child in main.children:
        if checker.is_coded_leaf(child):
            checker.add("GT7", child, f"a {checker.name(3)} at {checker.name(2)} level "
                                      f"(the {checker.name(2)} level is skipped)")
            _check_concept(checker, child)
        else:
            subs.append(child)
    if len(subs) < checker.profile.min_subcategories:
        checker.add("GT12", main, f"{checker.name(1)} has {len(subs)} {checker.name(2)}(s); "
                                  f"expected at least {checker.profile.min_subcategories}")
    return subs


def _check_subcategories(checker: _Checker, tree: _Tree, subs: list[Code]) -> int:
    seen: dict[str, Code] = {}
    concepts = 0
    for sub in subs:
        _check_category_coding(checker, sub)
        _check_core_name(checker, tree, sub, 2)
        if len(sub.children) < checker.profile.min_concepts:
            checker.add("GT4", sub, f"{checker.name(2)} has {len(sub.children)} {checker.name(3)}(s); "
                                    f"expected at least {checker.profile.min_concepts}")
        for concept in sub.children:
            concepts += 1
            _check_concept(checker, concept)
            _check_core_name(checker, tree, concept, 3)
            first = seen.setdefault(fold_name(concept.name), concept)
            if first is not concept and checker.index.parents[first.guid] is not sub:
                where = path_label(checker.index.code_path(first))
                checker.add("GT3", concept, f"the {checker.name(3)} {concept.name!r} also sits at {where}")
    return concepts


def _check_concept(checker: _Checker, concept: Code) -> None:
    for child, _ in _descendants(concept):
        checker.add("GT7", child, f"below the {checker.name(3)} level (an extra level)")
    if checker.coded and checker.sources(concept) < checker.min_sources:
        checker.add("GT5", concept, f"{checker.name(3)} is coded in {checker.sources(concept)} source(s); "
                                    f"needs at least {checker.min_sources}")


def _descendants(code: Code) -> Iterable[tuple[Code, int]]:
    stack = [(child, 1) for child in reversed(code.children)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        stack.extend((child, depth + 1) for child in reversed(node.children))


def _check_category_coding(checker: _Checker, code: Code) -> None:
    if checker.coded and checker.refs(code):
        checker.add("GT6", code, f"{checker.refs(code)} coding(s) placed directly on a category "
                                 f"above the {checker.name(3)} level")


def _check_core_name(checker: _Checker, tree: _Tree, code: Code, level: int) -> None:
    if tree.core_name is None:
        return
    repeat = repeats_name(code.name, tree.core_name)
    if repeat == "same":
        checker.add("GT13", code, f"{checker.name(level)} has the core category's name", ERROR)
    elif repeat == "part":
        checker.add("GT13", code, f"{checker.name(level)} {code.name!r} repeats the core category's name "
                                  f"{tree.core_name!r}")


def repeats_name(name: str, core: str) -> str | None:
    """``same`` when ``name`` is the core's name, ``part`` when one holds the other's words.

    Only names of two words or more count as a part (one shared word is not a repetition).

    Args:
        name: a code's name.
        core: the core category's name.

    Returns:
        ``"same"``, ``"part"`` or ``None``.

    Example:
        >>> repeats_name("Privacy Paradox", "Privacy paradox behaviour")
        'part'
    """
    words, core_words = name_words(name), name_words(core)
    if words == core_words:
        return "same"
    if len(words) >= 2 and (_contains(core_words, words) or _contains(words, core_words)):
        return "part"
    return None


def find_core(project: Project, core: str | None = None) -> str | None:
    """The core category's name as :func:`check_structure` finds it.

    Args:
        project: the project or codebook.
        core: a name given by the user, which wins when set.

    Returns:
        The name, or ``None`` when there is no single core category.
    """
    tree = _find_core(project, ProjectIndex(project), core)
    return tree.core_name if not any(rule == "GT1" and code is None for rule, code, _ in tree.problems) \
        else None


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    n = len(shorter)
    return 0 < n < len(longer) and any(longer[i:i + n] == shorter for i in range(len(longer) - n + 1))


def _check_links(checker: _Checker, tree: _Tree) -> None:
    if tree.nested or tree.core_set is not None or not tree.mains:
        return  # nesting or set membership is the link
    if tree.core is None:
        if tree.core_name is not None:
            checker.add("GT2", None, f"the core category {tree.core_name!r} is not a code; its links to "
                                     "the main categories were not checked", INFO)
        return
    linked = _linked_guids(checker.project.links, tree.core.guid)
    described = fold_name(tree.core.description or "")
    for main in tree.mains:
        if main.guid not in linked and fold_name(main.name) not in described:
            checker.add("GT2", main, f"{checker.name(1)} is not linked to the core category "
                                     f"{tree.core_name!r} (no Link, not named in its description)")


def _linked_guids(links: Iterable[Link], core: Guid) -> set[Guid]:
    found: set[Guid] = set()
    for link in links:
        if link.origin == core and link.target is not None:
            found.add(link.target)
        if link.target == core and link.origin is not None:
            found.add(link.origin)
    return found


def _check_counts(checker: _Checker, levels: Levels, wanted: Mapping[str, int]) -> None:
    found = {"core": int(levels.core is not None), "main": levels.main,
             "subcategories": levels.subcategories, "concepts": levels.concepts}
    for key in LEVEL_KEYS:
        if key in wanted and wanted[key] != found[key]:
            checker.add("GT8", None, f"{key}: found {found[key]}, expected {wanted[key]}")
