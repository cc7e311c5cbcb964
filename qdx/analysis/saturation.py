"""Saturation: the code-discovery curve, the held-out test and two published stopping rules.

Definitions are docs/methods.md §B:

* **Curve** (§B.6): documents in a stated order; a code is *new* in the first document where it
  has at least one coded reference (a Coding whose CodeRef points to it). Upper levels of the
  code tree roll child references up to their ancestors; the concept level is the leaves.
* **Held-out test** (§B.5, the bundled study's 15 + 5 design): passes when the held-out
  documents introduce no new code and no new category (an ancestor of a new code that the
  training documents never reached).
* **Guest, Namey & Chen 2020** (§B.2): with a base of the first ``base`` documents, the first
  run of ``run`` further documents whose new codes are at most ``threshold`` of the base's
  codes gives the saturation point "N+r" (N documents before the run).
* **Francis et al. 2010** (§B.4): after an initial sample, stop once ``stop`` consecutive
  documents bring nothing new (the "10+3" rule).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from qdx.analysis._order import order_sources, set_members, source_name
from qdx.errors import NoDataError, UsageError
from qdx.model import Project, ProjectIndex, Source, guid_key, iter_selections

CATEGORY_LEVELS = ("core", "main category", "subcategory")
CONCEPT = "concept"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class LevelCount:
    new: int
    cumulative: int


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One document of the curve; ``new``/``cumulative`` count directly coded codes."""

    document: str
    new: int
    cumulative: int
    percent: float
    new_codes: tuple[str, ...]
    levels: Mapping[str, LevelCount]
    held_out: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "document": self.document,
            "new": self.new,
            "cumulative": self.cumulative,
            "percent": self.percent,
            "new_codes": list(self.new_codes),
            "held_out": self.held_out,
            "levels": {k: {"new": v.new, "cumulative": v.cumulative} for k, v in self.levels.items()},
        }


@dataclass(frozen=True, slots=True)
class NewCode:
    """A code the held-out documents introduced, with its path from the root."""

    name: str
    path: tuple[str, ...]
    documents: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "path": list(self.path), "documents": list(self.documents)}


@dataclass(frozen=True, slots=True)
class HoldoutTest:
    """docs/methods.md §B.5. ``uncovered_categories``: main categories the held-out part never reached."""

    documents: tuple[str, ...]
    new_codes: tuple[NewCode, ...]
    new_categories: tuple[NewCode, ...]
    uncovered_categories: tuple[NewCode, ...] = ()

    @property
    def saturated(self) -> bool:
        return not self.new_codes and not self.new_categories

    def as_dict(self) -> dict[str, object]:
        return {
            "documents": list(self.documents),
            "new_codes": [c.as_dict() for c in self.new_codes],
            "new_categories": [c.as_dict() for c in self.new_categories],
            "saturated": self.saturated,
            "uncovered_categories": [c.as_dict() for c in self.uncovered_categories],
        }


@dataclass(frozen=True, slots=True)
class GuestRun:
    """One run tried: documents ``first``..``last`` (1-based), their new codes and the ratio."""

    first: int
    last: int
    new: int
    ratio: float


@dataclass(frozen=True, slots=True)
class Guest2020:
    """Guest, Namey & Chen 2020 (docs/methods.md §B.2); ``point`` is "N+r" or "not reached"."""

    base: int
    run: int
    threshold: float
    base_codes: int
    runs: tuple[GuestRun, ...]
    point: str

    @property
    def reached(self) -> bool:
        return self.point != "not reached"

    def as_dict(self) -> dict[str, object]:
        return {
            "base": self.base,
            "run": self.run,
            "threshold": self.threshold,
            "base_codes": self.base_codes,
            "point": self.point,
            "runs": [{"first": r.first, "last": r.last, "new": r.new, "ratio": r.ratio} for r in self.runs],
        }


@dataclass(frozen=True, slots=True)
class Francis2010:
    """Francis et al. 2010 (docs/methods.md §B.4); ``point``: the 1-based document where the rule stops."""

    initial: int
    stop: int
    point: int | None

    def as_dict(self) -> dict[str, object]:
        return {"initial": self.initial, "stop": self.stop, "point": self.point}


@dataclass(frozen=True, slots=True)
class SaturationResult:
    """Everything :func:`saturation` computed; ``as_dict`` is the ``qdx saturation --json`` document."""

    order: str
    levels: tuple[str, ...]
    total_codes: int
    curve: tuple[CurvePoint, ...]
    holdout: HoldoutTest | None
    guest2020: Guest2020
    francis: Francis2010

    @property
    def failed(self) -> bool:
        """True when a held-out test was asked for and it found something new."""
        return self.holdout is not None and not self.holdout.saturated

    def as_dict(self) -> dict[str, object]:
        return {
            "order": self.order,
            "levels": list(self.levels),
            "total_codes": self.total_codes,
            "curve": [p.as_dict() for p in self.curve],
            "holdout": self.holdout.as_dict() if self.holdout is not None else None,
            "guest2020": self.guest2020.as_dict(),
            "francis2010": self.francis.as_dict(),
        }


# --------------------------------------------------------------------------- stopping rules


def guest2020(new: Sequence[int], *, base: int = 4, run: int = 2, threshold: float = 0.05) -> Guest2020:
    """Guest, Namey & Chen 2020's saturation point over new-codes-per-document counts.

    Runs slide one document at a time, starting right after the base; a run qualifies when
    (new codes in the run) / (codes in the base) ≤ ``threshold`` (docs/methods.md §B.2, oracle S2).

    Args:
        new: new codes per document, in order.
        base: documents in the base set.
        run: documents per run.
        threshold: new-information threshold (0.05 = 5%; 0 = no new information).

    Returns:
        The runs tried up to the first qualifying one and the point "N+r" (or "not reached").

    Raises:
        UsageError: ``base`` or ``run`` below 1, or a negative threshold.

    Example:
        >>> guest2020([20, 9, 5, 3, 2, 3, 1, 0, 1, 0, 0, 0]).point
        '6+2'
    """
    if base < 1 or run < 1 or threshold < 0:
        raise UsageError("Guest 2020 needs base >= 1, run >= 1 and threshold >= 0")
    base_codes = sum(new[:base])
    runs: list[GuestRun] = []
    if base_codes == 0:
        return Guest2020(base=base, run=run, threshold=threshold, base_codes=0, runs=(), point="not reached")
    for start in range(base, len(new) - run + 1):
        found = sum(new[start : start + run])
        runs.append(GuestRun(first=start + 1, last=start + run, new=found, ratio=found / base_codes))
        # A tiny tolerance so that 2/40 counts as "≤ 5%" despite binary floating point.
        if found / base_codes <= threshold + 1e-12:
            return Guest2020(base, run, threshold, base_codes, tuple(runs), f"{start}+{run}")
    return Guest2020(base, run, threshold, base_codes, tuple(runs), "not reached")


def francis2010(new: Sequence[int], *, initial: int = 10, stop: int = 3) -> Francis2010:
    """Francis et al. 2010's stopping rule: after ``initial`` documents, ``stop`` in a row with nothing new.

    A new code restarts the count (docs/methods.md §B.4, oracle S3).

    Example:
        >>> francis2010([5] * 10 + [0, 0, 0]).point
        13
    """
    if initial < 0 or stop < 1:
        raise UsageError("the Francis rule needs initial >= 0 and stop >= 1")
    quiet = 0
    for number in range(initial + 1, len(new) + 1):
        quiet = quiet + 1 if new[number - 1] == 0 else 0
        if quiet == stop:
            return Francis2010(initial=initial, stop=stop, point=number)
    return Francis2010(initial=initial, stop=stop, point=None)


# --------------------------------------------------------------------------- the code tree


@dataclass(frozen=True, slots=True)
class _Tree:
    """Per code (by canonical GUID key): path, ancestors and level name (concept = leaf).

    Plain-string keys: the curve does set arithmetic over every document's codes, and hashing
    a :class:`~qdx.model.Guid` folds its case in Python on every call (most of the time it took).
    """

    level: dict[str, str]
    levels: tuple[str, ...]
    parents: dict[str, tuple[str, ...]]  # ancestors, nearest first
    paths: dict[str, tuple[str, ...]]
    rank: dict[str, int]  # pre-order position
    spelled: dict[str, str] = field(default_factory=dict)  # codes the tree lacks: as first written

    @staticmethod
    def of(project: Project) -> _Tree:
        index = ProjectIndex(project)
        # One root = a core category at depth 0; several roots = main categories (the same
        # reading as the GT structure checks, docs/methods.md §C.2).
        shift = 0 if len(project.codes) == 1 else 1
        level: dict[str, str] = {}
        parents: dict[str, tuple[str, ...]] = {}
        paths: dict[str, tuple[str, ...]] = {}
        for guid, code in index.codes.items():
            key = guid_key(guid)
            i = index.depth[guid] + shift
            named = CATEGORY_LEVELS[i] if i < len(CATEGORY_LEVELS) else f"level {index.depth[guid]}"
            level[key] = CONCEPT if not code.children else named
            parents[key] = tuple(guid_key(parent.guid) for parent in index.tree.ancestors(guid))
            paths[key] = index.code_path(guid)
        present = set(level.values())
        ladder = [CONCEPT, *reversed(CATEGORY_LEVELS)]
        extra = sorted(present - set(ladder), key=lambda n: -int(n.split()[-1]))
        ordered = [n for n in ladder if n in present]
        ordered[1:1] = extra  # deeper unnamed category levels sit between concepts and subcategories
        return _Tree(level=level, levels=tuple(ordered), parents=parents, paths=paths,
                     rank={key: i for i, key in enumerate(level)})

    def ancestors(self, key: str) -> tuple[str, ...]:
        return self.parents.get(key, ())

    def new_code(self, key: str, documents: Sequence[str] = ()) -> NewCode:
        path = self.paths.get(key) or (self.spelled.get(key, key),)
        return NewCode(name=path[-1], path=path, documents=tuple(documents))


def _references(source: Source) -> set[str]:
    """Codes (canonical keys) with at least one coded reference in ``source`` (every selection
    kind, whole-source)."""
    found = {guid_key(c.code) for sel in iter_selections(source) for c in sel.codings}
    found.update(guid_key(c.code) for c in source.codings)
    return found


def _spellings(tree: _Tree, sources: Sequence[Source], keys: set[str]) -> None:
    """How codings spell the codes the tree lacks (shown as their name), first spelling kept."""
    missing = keys - tree.level.keys()
    for source in sources if missing else ():
        codings = [c for sel in iter_selections(source) for c in sel.codings] + list(source.codings)
        for coding in codings:
            key = guid_key(coding.code)
            if key in missing and key not in tree.spelled:
                tree.spelled[key] = str(coding.code)


def _rolled(tree: _Tree, own: set[str]) -> set[str]:
    out = set(own)
    for key in own:
        out.update(tree.ancestors(key))
    return out


# --------------------------------------------------------------------------- curve, held-out test


def _curve(tree: _Tree, docs: Sequence[tuple[str, set[str]]], held_out: set[str]) -> list[CurvePoint]:
    seen: set[str] = set()
    seen_level: dict[str, set[str]] = {name: set() for name in tree.levels}
    total = len(set().union(*(own for _, own in docs))) if docs else 0
    points = []
    for name, own in docs:
        fresh = own - seen
        seen |= fresh
        levels: dict[str, LevelCount] = {}
        rolled = _rolled(tree, own)
        for level in tree.levels:
            pool = own if level == CONCEPT else rolled
            members = {g for g in pool if tree.level.get(g, CONCEPT) == level}
            new_here = members - seen_level[level]
            seen_level[level] |= new_here
            levels[level] = LevelCount(new=len(new_here), cumulative=len(seen_level[level]))
        names = sorted(tree.new_code(g).name for g in fresh)
        points.append(
            CurvePoint(
                document=name,
                new=len(fresh),
                cumulative=len(seen),
                percent=100.0 * len(seen) / total if total else 100.0,
                new_codes=tuple(names),
                levels=levels,
                held_out=name in held_out,
            )
        )
    return points


def _holdout_test(
    tree: _Tree, train: Sequence[tuple[str, set[str]]], test: Sequence[tuple[str, set[str]]]
) -> HoldoutTest:
    """docs/methods.md §B.5: new codes only in the held-out part, and their categories new there too."""
    train_own: set[str] = set().union(*(own for _, own in train)) if train else set()
    train_rolled = _rolled(tree, train_own)
    where: dict[str, list[str]] = {}
    for name, own in test:
        for guid in own - train_own:
            where.setdefault(guid, []).append(name)
    new_cats: dict[str, list[str]] = {}
    for guid, names in where.items():
        for parent in tree.ancestors(guid):
            if parent not in train_rolled:
                docs = new_cats.setdefault(parent, [])
                docs.extend(n for n in names if n not in docs)
    test_rolled = _rolled(tree, set().union(*(own for _, own in test)) if test else set())
    main = [g for g, lvl in tree.level.items() if lvl == "main category"]
    return HoldoutTest(
        documents=tuple(name for name, _ in test),
        new_codes=tuple(tree.new_code(g, where[g]) for g in _tree_order(tree, where)),
        new_categories=tuple(tree.new_code(g, new_cats[g]) for g in _tree_order(tree, new_cats)),
        uncovered_categories=tuple(tree.new_code(g) for g in _tree_order(tree, main) if g not in test_rolled),
    )


def _tree_order(tree: _Tree, keys: Mapping[str, object] | Sequence[str]) -> list[str]:
    rank = tree.rank
    return sorted(keys, key=lambda k: (rank.get(k, len(rank)), tree.spelled.get(k, k)))


def _split(
    project: Project, ordered: list[Source], holdout_set: str | None, holdout: int | None
) -> tuple[list[Source], list[Source]]:
    """Training and held-out documents, each in the stated order."""
    if holdout_set is not None and holdout is not None:
        raise UsageError("give either a held-out set or a number of held-out documents, not both")
    if holdout_set is not None:
        members = set(set_members(project, holdout_set))
        test = [s for s in ordered if s.guid in members]
        if not test:
            raise UsageError(f"set {holdout_set!r} holds no sources")
        return [s for s in ordered if s.guid not in members], test
    if holdout is not None:
        if len(ordered) < 2:
            raise UsageError(f"the held-out test needs at least 2 documents, the project has {len(ordered)}")
        if not 0 < holdout < len(ordered):
            raise UsageError(f"--holdout must be between 1 and {len(ordered) - 1}, got {holdout}")
        return ordered[:-holdout], ordered[-holdout:]
    return ordered, []


def saturation(
    project: Project,
    *,
    order: str = "name",
    holdout_set: str | None = None,
    holdout: int | None = None,
    base: int = 4,
    run: int = 2,
    threshold: float = 0.05,
    initial: int = 10,
    stop: int = 3,
) -> SaturationResult:
    """The code-discovery curve, the held-out test and Guest 2020 / Francis 2010 stopping rules.

    Args:
        project: the project.
        order: document order (see :func:`order_sources`); held-out documents go last.
        holdout_set: the name of a set whose sources are held out (the study's "Saturation sample").
        holdout: hold out the last N documents instead.
        base: Guest 2020 base size.
        run: Guest 2020 run length.
        threshold: Guest 2020 new-information threshold (fraction).
        initial: Francis 2010 initial analysis sample.
        stop: Francis 2010 stopping criterion (documents in a row with nothing new).

    Returns:
        A :class:`SaturationResult`; ``result.failed`` is True when the held-out test found
        something new.

    Raises:
        UsageError: unknown order/set/variable, a bad held-out size or bad rule parameters.
        NoDataError: no source holds a coding (a codebook, or a project not coded yet).

    Example:
        >>> r = saturation(qdx.read("study.qdpx"), holdout_set="Saturation sample")  # doctest: +SKIP
        >>> r.holdout.saturated, r.guest2020.point                                      # doctest: +SKIP
    """
    tree = _Tree.of(project)
    train, test = _split(project, order_sources(project, order), holdout_set, holdout)
    train_refs = [(source_name(s), _references(s)) for s in train]
    test_refs = [(source_name(s), _references(s)) for s in test]
    if not any(refs for _, refs in train_refs + test_refs):
        # No coding anywhere: a flat curve would read as "saturated" or "not reached", a
        # verdict about data that does not exist.
        raise NoDataError(
            f"no saturation to compute: none of the {len(train_refs) + len(test_refs)} source(s) holds a coding"
        )
    _spellings(tree, train + test, set().union(*(refs for _, refs in train_refs + test_refs)))
    curve = _curve(tree, train_refs + test_refs, {name for name, _ in test_refs})
    new = [p.new for p in curve]
    return SaturationResult(
        order=order,
        levels=tree.levels,
        total_codes=curve[-1].cumulative if curve else 0,
        curve=tuple(curve),
        holdout=_holdout_test(tree, train_refs, test_refs) if test else None,
        guest2020=guest2020(new, base=base, run=run, threshold=threshold),
        francis=francis2010(new, initial=initial, stop=stop),
    )


__all__ = [
    "CATEGORY_LEVELS",
    "CONCEPT",
    "CurvePoint",
    "Francis2010",
    "Guest2020",
    "GuestRun",
    "HoldoutTest",
    "LevelCount",
    "NewCode",
    "SaturationResult",
    "francis2010",
    "guest2020",
    "order_sources",
    "saturation",
]
