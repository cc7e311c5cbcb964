"""The grounded-theory structure check's rules and a study's expectations (its profile).

:data:`RULES` names every rule of :mod:`qdx.validation.structure` with its default severity;
:func:`load_profile` reads a study's TOML profile (level names, expected counts, thresholds,
rules to skip) and :func:`parse_expect` the ``--expect`` option's counts.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field

from qdx.errors import Severity, UsageError

ERROR, WARNING = Severity.ERROR, Severity.WARNING

# Stable rule codes (ids follow docs/methods.md §C.2 where the rule is there; GT12-GT13 are new).
RULES: dict[str, tuple[str, Severity]] = {
    "GT1": ("core-category", ERROR),
    "GT2": ("core-link", WARNING),
    "GT3": ("duplicate-concept", WARNING),
    "GT4": ("thin-subcategory", WARNING),
    "GT5": ("ungrounded-concept", ERROR),
    "GT6": ("coding-on-category", WARNING),
    "GT7": ("level-mismatch", ERROR),
    "GT8": ("count-mismatch", ERROR),
    "GT12": ("thin-main-category", ERROR),
    "GT13": ("repeats-core-name", WARNING),
}

LEVEL_KEYS = ("core", "main", "subcategories", "concepts")
_EXPECT_ALIASES = {
    "core": "core",
    "main": "main",
    "mains": "main",
    "main_categories": "main",
    "subcategories": "subcategories",
    "subcategory": "subcategories",
    "subs": "subcategories",
    "concepts": "concepts",
    "concept": "concepts",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """A study's expectations (usually from a TOML file, see :func:`load_profile`)."""

    level_names: tuple[str, str, str, str] = ("core category", "main category", "subcategory", "concept")
    expect: Mapping[str, int] = field(default_factory=dict)
    skip: frozenset[str] = frozenset()
    core: str | None = None
    min_sources: int = 1
    min_subcategories: int = 2
    min_concepts: int = 2


def load_profile(text: str | bytes) -> Profile:
    """Parse a TOML profile.

    Keys (all optional): ``core``, ``levels`` (four names, core first), ``skip`` (rule codes),
    ``min_sources``, ``min_subcategories``, ``min_concepts`` and an ``[expect]`` table with
    ``main``, ``subcategories``, ``concepts``.

    Raises:
        UsageError: the TOML is malformed or a value has the wrong type.
    """
    raw = text.decode("utf-8") if isinstance(text, bytes) else text
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"bad profile: {exc}") from exc
    unknown = set(data) - {"core", "levels", "skip", "expect", "min_sources", "min_subcategories",
                           "min_concepts"}
    if unknown:
        raise UsageError(f"bad profile: unknown keys {', '.join(sorted(unknown))}")
    levels = data.get("levels", list(Profile().level_names))
    if not (isinstance(levels, list) and len(levels) == 4 and all(isinstance(x, str) for x in levels)):
        raise UsageError("bad profile: levels must be a list of four names (core first)")
    skip = frozenset(str(s).strip().upper() for s in _list(data, "skip"))
    if skip - RULES.keys():
        raise UsageError(f"bad profile: unknown rule(s) in skip: {', '.join(sorted(skip - RULES.keys()))}")
    return Profile(
        level_names=(levels[0], levels[1], levels[2], levels[3]),
        expect=normalise_expect(_table(data, "expect")),
        skip=skip,
        core=_opt_str(data, "core"),
        min_sources=_int(data, "min_sources", 1),
        min_subcategories=_int(data, "min_subcategories", 2),
        min_concepts=_int(data, "min_concepts", 2),
    )


def _table(data: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise UsageError(f"bad profile: {key} must be a table")
    return value


def _list(data: Mapping[str, object], key: str) -> list[object]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise UsageError(f"bad profile: {key} must be a list")
    return value


def _opt_str(data: Mapping[str, object], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise UsageError(f"bad profile: {key} must be a string")
    return value


def _int(data: Mapping[str, object], key: str, default: int) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise UsageError(f"bad profile: {key} must be a non-negative integer")
    return value


def normalise_expect(expect: Mapping[str, object]) -> dict[str, int]:
    """Map expectation keys (``main``/``mains``, ``concept``/``concepts``, ...) to LEVEL_KEYS.

    Raises:
        UsageError: an unknown key or a value that is not a non-negative integer.
    """
    out: dict[str, int] = {}
    for key, value in expect.items():
        canonical = _EXPECT_ALIASES.get(key.strip().lower())
        if canonical is None:
            raise UsageError(f"unknown level {key!r} in expectations; use {', '.join(LEVEL_KEYS)}")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise UsageError(f"expected count for {key!r} must be a non-negative integer")
        out[canonical] = value
    return out


def parse_expect(text: str) -> dict[str, int]:
    """Parse ``concepts=40,subcategories=20,main=4``.

    Raises:
        UsageError: the text is not ``key=integer`` pairs separated by commas.
    """
    pairs: dict[str, object] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not value.strip().isdigit():
            raise UsageError(f"bad --expect item {part!r}; write e.g. concepts=40,main=4")
        pairs[key] = int(value)
    return normalise_expect(pairs)
