"""Partition names of a qdx Parquet dataset: one safe, stable folder name per project.

A partition is ``folder/project=<name>``; the name must be a valid folder name on every file
system and a value every engine reads as text (docs/dataset.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

# Bytes of UTF-8, not characters: a folder name is limited to 255 bytes on most file systems, and
# "project=" plus a name plus "-" and 8 hex digits must fit with room to spare (40 CJK characters).
MAX_NAME_BYTES = 120

_DOTS = re.compile(r"\.{2,}")
_SCALAR_WORDS = {"true", "false", "null", "nan", "inf", "infinity", "none"}


def safe_name(stem: str) -> str:
    """A partition value for a project called ``stem``: letters, digits, ``-``, ``_`` and ``.``
    only (no path separator, no ``..``, no ``=`` or ``%`` that Hive paths give a meaning), at most
    MAX_NAME_BYTES bytes of UTF-8, and never a value DuckDB or Spark would read as a number, date or boolean
    (``2019`` becomes ``project-2019``), so the ``project`` column is text in every engine.
    """
    name = unicodedata.normalize("NFC", stem)
    name = "".join(ch if (ch.isalnum() or ch in "-_.") and ch.isprintable() else "_" for ch in name)
    name = _fit(_DOTS.sub("_", name).strip("._-"), MAX_NAME_BYTES).rstrip("._-")
    if not any(ch.isalpha() for ch in name) or name.casefold() in _SCALAR_WORDS or _is_number(name):
        name = f"project-{name}" if name else "project"
    return name


def _fit(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 form has at most ``limit`` bytes."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _digest(text: str, n: int = 8) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def partition_names(inputs: Sequence[str], known: Mapping[str, str]) -> dict[str, str]:
    """A partition value for each input (an absolute path), stable across runs.

    An input already in the dataset (``known``: input → partition) keeps its name. A new input
    gets :func:`safe_name` of its file name; when that is taken, or shared by several new inputs
    (``a/project.qdpx`` and ``b/project.qdpx``; compared case-insensitively, as macOS and Windows
    file systems do), it gets the name plus ``-`` and 8 hex digits of its path's SHA-256.
    """
    names: dict[str, str] = {}
    taken: set[str] = set()
    for path in sorted(inputs):
        old = known.get(path)
        if old is not None and old == safe_name(old) and old.casefold() not in taken:
            names[path] = old
            taken.add(old.casefold())
    fresh = [p for p in sorted(inputs) if p not in names]
    bases = {p: safe_name(_stem(p)) for p in fresh}
    shared: dict[str, int] = {}
    for base in bases.values():
        shared[base.casefold()] = shared.get(base.casefold(), 0) + 1
    for path in fresh:
        base = bases[path]
        name = base
        if shared[base.casefold()] > 1 or base.casefold() in taken:
            name = f"{_fit(base, MAX_NAME_BYTES - 9)}-{_digest(path)}"
        while name.casefold() in taken:  # a hash clash with an existing name: hash again, deterministically
            name = f"{_fit(base, MAX_NAME_BYTES - 9)}-{_digest(name + path)}"
        names[path] = name
        taken.add(name.casefold())
    return names


def _stem(path: str) -> str:
    p = Path(path)
    return p.stem if p.suffix.lower() in (".qdpx", ".qde", ".qdc") else p.name
