"""Looking up what a filter names (a coder, set, code, case, variable): never an empty answer.

A filter that matches nothing would turn a typo into an all-zero matrix or an empty table that
looks like a finding. Every analysis therefore resolves the names it is given here: a name
that matches nothing raises :class:`~qdx.errors.UnknownNameError`, whose one-line message lists
what exists and suggests close spellings (case-insensitive first: "researcher a" finds
"Researcher A").
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from qdx.errors import PlaceholderCoderError, UnknownNameError
from qdx.model import is_placeholder_user

# A project can have hundreds of codes: the message lists this many, then says how many more.
SHOWN = 12


def suggestions(name: str, known: Iterable[str]) -> list[str]:
    """Known names close to ``name``: same name ignoring case first, then similar spellings."""
    names = list(dict.fromkeys(n for n in known if n))
    folded = name.casefold().strip()
    same = [n for n in names if n.casefold().strip() == folded]
    if same:
        return same
    by_fold: dict[str, list[str]] = {}
    for n in names:
        by_fold.setdefault(n.casefold(), []).append(n)
    close = difflib.get_close_matches(folded, list(by_fold), n=3, cutoff=0.6)
    contains = [f for f in by_fold if folded and (folded in f or f in folded) and f not in close]
    return [n for f in [*close, *contains[:3]] for n in by_fold[f]]


def unknown(kind: str, name: str, known: Iterable[str], *, where: str = "the project") -> UnknownNameError:
    """The error for a ``kind`` (coder, set, code, case, variable) named ``name`` that matches nothing."""
    names = sorted(dict.fromkeys(n for n in known if n), key=str.casefold)
    near = suggestions(name, names)
    hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
    if not names:
        listing = f"{where} has no {kind}s"
    else:
        shown = ", ".join(names[:SHOWN])
        more = f", ... ({len(names)} in all)" if len(names) > SHOWN else ""
        listing = f"{kind}s: {shown}{more}"
    message = f"no {kind} named {name!r} in {where}{hint} ({listing})"
    return UnknownNameError(message, kind=kind, name=name, known=tuple(names), suggestions=tuple(near))


def require(kind: str, name: str, known: Iterable[str], *, where: str = "the project") -> str:
    """``name`` when it is one of ``known`` (exactly); else raise :func:`unknown`'s error.

    Raises:
        UnknownNameError: ``name`` is not among ``known``.
    """
    names = list(known)
    if name in names:
        return name
    raise unknown(kind, name, names, where=where)


def refuse_placeholder(name: str | None, purpose: str) -> None:
    """Refuse a coder who is a placeholder for an unnamed one (``qdx.model.PLACEHOLDER_USER_MARK``).

    NVivo's coded-text export merges several users' references to one passage into
    ``References K-L`` without naming them; qdx keeps each as a coding by "NVivo user i of n
    (not named in the export)". Which reference was whose, and whether "user 1" on one passage
    is "user 1" on another, is unknown: a number computed per placeholder would be made up.

    Raises:
        PlaceholderCoderError: ``name`` is a placeholder.
    """
    if is_placeholder_user(name):
        raise PlaceholderCoderError(
            f"coder {name!r} is a placeholder for a user NVivo's coded-text export does not name"
            f" (a merged 'References K-L' head): {purpose} needs coders who are known"
        )
