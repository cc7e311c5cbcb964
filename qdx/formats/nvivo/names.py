"""NVivo hierarchical names (docs/nvivo-exports.md §0.2).

NVivo writes ``Files\\\\Round 1\\\\Interview 07`` and ``Codes\\\\Barriers\\Cost``: two
backslashes separate folders (and the last folder from the item), one backslash separates a
parent item from its child. Old help pages print single backslashes between folders, so a
single ``\\`` right after a known top-level folder name is accepted as a folder separator too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Top-level folders of NVivo 9-15 (docs/nvivo-exports.md §0.1): a tolerant reader treats a single "\"
# after one of these as a folder separator.
TOP_FOLDERS = frozenset(
    {"files", "internals", "externals", "memos", "codes", "nodes", "cases", "sets", "queries", "results"}
)

# Characters NVivo cannot keep in exported file names; it writes "~" instead (docs/nvivo-exports.md §b.2).
_UNSAFE_FILE_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


@dataclass(frozen=True, slots=True)
class HName:
    """A parsed hierarchical name: ``folders`` then the item path (parent items first)."""

    folders: tuple[str, ...]
    item: tuple[str, ...]

    @property
    def name(self) -> str:
        """The item's own name (the last element of the item path)."""
        return self.item[-1] if self.item else ""

    @property
    def folder_path(self) -> str:
        """The folders joined the way NVivo writes them (``Files\\\\Round 1``)."""
        return "\\\\".join(self.folders)

    def render(self) -> str:
        """The hierarchical name in NVivo's spelling."""
        item = "\\".join(self.item)
        return "\\\\".join((*self.folders, item)) if self.folders else item


def parse_hname(text: str) -> HName:
    """Split an NVivo hierarchical name into folders and item path (docs/nvivo-exports.md §0.2).

    Args:
        text: e.g. ``Cases\\\\People\\\\Staff\\Nurse A``.

    Returns:
        ``HName(folders=("Cases", "People"), item=("Staff", "Nurse A"))``.

    Example:
        >>> parse_hname(r"Codes\\\\Barriers\\Cost\\Hidden fees").item
        ('Barriers', 'Cost', 'Hidden fees')
    """
    text = text.strip()
    parts = text.split("\\\\")
    if len(parts) == 1:
        return _parse_single(text)
    folders = tuple(p for p in parts[:-1])
    item = tuple(parts[-1].split("\\"))
    return HName(folders=folders, item=item)


def _parse_single(text: str) -> HName:
    """No double backslash: ``Internals\\Interviews\\Ana`` (old help spelling) or ``A\\B``."""
    pieces = text.split("\\")
    if len(pieces) > 1 and pieces[0].lower() in TOP_FOLDERS:
        # Old single-backslash spelling: everything but the last piece is a folder.
        return HName(folders=tuple(pieces[:-1]), item=(pieces[-1],))
    return HName(folders=(), item=tuple(pieces))


def safe_file_name(name: str) -> str:
    """A file name NVivo would write for an item called ``name`` (unsafe characters → ``~``)."""
    cleaned = _UNSAFE_FILE_CHARS.sub("~", name).strip().rstrip(".")
    return cleaned or "unnamed"
