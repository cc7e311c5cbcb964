"""The order documents enter a saturation curve in (docs/methods.md §B.6: order matters).

:func:`order_sources` puts a project's sources in a stated order: by name (naturally, so
"Interview 2" comes before "Interview 10"), by creation time, a set's members first, or by a
variable's value.
"""

from __future__ import annotations

import re

from qdx.errors import UsageError
from qdx.model import Guid, Project, Source
from qdx.names import unknown


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key putting "Interview 2" before "Interview 10"."""
    return tuple((0, int(p)) if p.isdigit() else (1, p.casefold()) for p in re.split(r"(\d+)", text) if p)


def source_name(source: Source) -> str:
    return source.name or str(source.guid)


def set_members(project: Project, name: str) -> tuple[Guid, ...]:
    for s in project.sets:
        if s.name == name:
            return s.member_sources
    raise unknown("set", name, [s.name for s in project.sets])


def _variable_values(project: Project, name: str) -> dict[Guid, str]:
    """A source's own value of variable ``name``, else the value of a case it belongs to."""
    wanted = {v.guid for v in project.variables if v.name == name}
    if not wanted:
        raise unknown("variable", name, [v.name for v in project.variables])
    out: dict[Guid, str] = {}
    for case in project.cases:
        value = next((v.value for v in case.variable_values if v.variable in wanted and v.value), None)
        for ref in case.source_refs:
            if value is not None:
                out.setdefault(ref, value)
    for source in project.sources:
        own = next((v.value for v in source.variable_values if v.variable in wanted and v.value), None)
        if own is not None:
            out[source.guid] = own
    return out


def _value_key(values: dict[Guid, str]) -> dict[Guid, tuple[float, str]]:
    """Numeric order when every value is a number, else text order (missing values sort last)."""
    try:
        return {k: (float(v), "") for k, v in values.items()}
    except ValueError:
        return {k: (0.0, v.casefold()) for k, v in values.items()}


def order_sources(project: Project, order: str = "name") -> list[Source]:
    """The project's sources in a stated order (docs/methods.md §B.6: order matters).

    Args:
        project: the project.
        order: ``name`` (natural order), ``created`` (creationDateTime, then name),
            ``set:NAME`` (the set's members first, in its order, then the rest by name) or
            ``variable:NAME`` (the variable's value on the source or its case; numbers
            numerically; missing last).

    Returns:
        The sources, reordered.

    Raises:
        UsageError: an unknown order, set or variable.
    """
    by_name = sorted(project.sources, key=lambda s: _natural(source_name(s)))
    if order == "name":
        return by_name
    if order == "created":
        return sorted(by_name, key=lambda s: (s.creation_datetime is None, s.creation_datetime or ""))
    kind, _, arg = order.partition(":")
    if kind == "set" and arg:
        rank = {g: i for i, g in enumerate(set_members(project, arg))}
        return sorted(by_name, key=lambda s: rank.get(s.guid, len(rank)))
    if kind == "variable" and arg:
        keys = _value_key(_variable_values(project, arg))
        return sorted(by_name, key=lambda s: (s.guid not in keys, keys.get(s.guid, (0.0, ""))))
    raise UsageError(f"unknown order {order!r}; use name, created, set:NAME or variable:NAME")


__all__ = ["order_sources", "set_members", "source_name"]
