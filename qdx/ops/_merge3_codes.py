"""The code tree of a three-way merge (:func:`qdx.ops.merge3.merge3`), merged per code and
field; a move is an edit of the ``parent`` field.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from qdx.model import Code, iter_codes
from qdx.ops._merge3_run import Merge3
from qdx.ops._merge3_values import MISSING, merge_set, norm, union_order

_CODE_FIELDS = ("name", "description", "color", "is_codable", "parent")


class CodeTree3:
    """The code tree merged per code and field (the parent is a field: a move is an edit)."""

    def __init__(self, run: Merge3) -> None:
        self.run = run
        self.sides = [self._flat(p.codes) for p in (run.base, run.ours, run.theirs)]
        self.orders = [[c.guid.key for c, _ in iter_codes(p.codes)] for p in (run.base, run.ours, run.theirs)]

    @staticmethod
    def _flat(codes: tuple[Code, ...]) -> dict[str, tuple[Code, str | None]]:
        return {c.guid.key: (c, a[-1].guid.key if a else None) for c, a in iter_codes(codes)}

    def _facts(self, side: int, key: str) -> dict[str, object] | None:
        hit = self.sides[side].get(key)
        if hit is None:
            return None
        code, parent = hit
        facts: dict[str, object] = {f: getattr(code, f) for f in _CODE_FIELDS[:-1]}
        facts["parent"] = parent
        facts["notes"] = tuple(sorted(g.key for g in code.note_refs))
        return {k: norm(k, v) for k, v in facts.items()}

    def build(self) -> tuple[Code, ...]:
        run = self.run
        keys = union_order(self.orders[1], self.orders[2], self.orders[0], key=lambda k: k)
        nodes: dict[str, Code] = {}
        parent: dict[str, str | None] = {}
        deleted: dict[str, tuple[Code, str | None]] = {}
        for key in keys:
            fb, fo, ft = (self._facts(i, key) for i in range(3))
            hit = next(self.sides[i][key] for i in (1, 2, 0) if key in self.sides[i])
            if not run.exists("codes", fb, fo, ft, hit[0]):
                deleted[key] = hit
                continue
            nodes[key], parent[key] = self._merge(key)
        # A code deleted on one side but used by a merged coding or kept child stays (listed).
        wanted = sorted({k for k in run.coded if k in deleted} | {p for p in parent.values() if p in deleted})
        while wanted:
            key = wanted.pop()
            if key in nodes or key not in deleted:
                continue
            code, up = deleted.pop(key)
            ours, theirs = ("deleted" if key not in self.sides[i] else "in use" for i in (1, 2))
            run.conflict("deleted-in-use", "codes", code, None, "present", ours, theirs, resolution="kept")
            nodes[key], parent[key] = replace(code, children=()), up
            if up is not None and up not in nodes:
                wanted.append(up)
        self._break_cycles(parent)
        kids: dict[str | None, list[str]] = {}
        for key in self._child_order(keys, parent):
            up = parent[key]
            kids.setdefault(up if up in nodes else None, []).append(key)

        def make(key: str) -> Code:
            node = nodes[key]
            children = tuple(make(k) for k in kids.get(key, ()))
            return node if children == node.children else replace(node, children=children)

        return tuple(make(k) for k in kids.get(None, ()))

    def _merge(self, key: str) -> tuple[Code, str | None]:
        """The code's fields merged three-way (children come later), and its merged parent."""
        hits = [self.sides[i].get(key) for i in range(3)]
        template = next(h[0] for h in (hits[1], hits[2], hits[0]) if h is not None)
        changes: dict[str, Any] = {}
        parent: str | None = None
        raw = [(h[0], h[1]) if h is not None else None for h in hits]
        for name in _CODE_FIELDS:
            vals = [MISSING if r is None else (r[1] if name == "parent" else getattr(r[0], name)) for r in raw]
            vo = vals[1] if vals[1] is not MISSING else vals[2]
            vt = vals[2] if vals[2] is not MISSING else vals[1]
            show = self._paths if name == "parent" else None
            value = self.run.pick("codes", template, name, vals[0], vo, vt, show)
            if name == "parent":
                parent = value
            elif value != getattr(template, name):
                changes[name] = value
        notes = [() if r is None else r[0].note_refs for r in raw]
        refs = merge_set(*notes)
        if refs != template.note_refs:
            changes["note_refs"] = refs
        return replace(template, **changes, children=()), parent

    def _break_cycles(self, parent: dict[str, str | None]) -> None:
        """Moves on both sides that together make a code its own ancestor: every moved code on
        the cycle goes back to its base parent (whichever side is "ours"), listed as a conflict."""
        changed = True
        while changed:
            changed = False
            for key in sorted(parent):
                cycle = self._cycle(parent, key)
                if cycle:
                    for member in sorted(cycle):
                        self._revert(parent, member)
                    changed = True
                    break

    @staticmethod
    def _cycle(parent: dict[str, str | None], key: str) -> list[str]:
        path = [key]
        walk = parent[key]
        while walk is not None and walk in parent:
            if walk == key:
                return path
            if walk in path:
                return []  # a cycle above this code; found from one of its members
            path.append(walk)
            walk = parent[walk]
        return []

    def _revert(self, parent: dict[str, str | None], key: str) -> None:
        base = self.sides[0].get(key)
        before = base[1] if base is not None else None
        if parent[key] == before and base is not None:
            return
        code = next(self.sides[i][key][0] for i in (1, 2, 0) if key in self.sides[i])
        paths = self._paths(before, self._up(1, key), self._up(2, key))
        self.run.conflict("moved", "codes", code, "parent", *paths)
        parent[key] = before if before in parent else None

    def _child_order(self, keys: list[str], parent: dict[str, str | None]) -> list[str]:
        """Siblings in ours' order unless ours kept the base's order and theirs changed it."""
        result = [k for k in keys if k in parent]
        groups: dict[str | None, list[str]] = {}
        for k in result:
            groups.setdefault(parent[k], []).append(k)
        below: list[dict[str | None, list[str]]] = [{}, {}, {}]  # each side's children, in order
        for i, order in enumerate(self.orders):
            for k in order:
                below[i].setdefault(self._up(i, k), []).append(k)
        rank: dict[str, tuple[int, int]] = {}
        for up, members in groups.items():
            mset = set(members)
            lists = [[k for k in side.get(up, ()) if k in mset] for side in below]
            primary = lists[2] if lists[1] == lists[0] else lists[1]
            ordered = union_order(primary, lists[1], lists[2], members, key=lambda k: k)
            for i, k in enumerate(ordered):
                rank[k] = (0, i)
        return sorted(result, key=lambda k: rank[k])

    def _paths(self, base: object, ours: object, theirs: object) -> tuple[list[str], list[str], list[str]]:
        """Each side's parent as that side names it (for reports; [] is the top level)."""
        return self._path(base, 0), self._path(ours, 1), self._path(theirs, 2)

    def _path(self, key: object, side: int) -> list[str]:
        names: list[str] = []
        seen: set[object] = set()
        order = (side, *(i for i in (0, 1, 2) if i != side))
        while isinstance(key, str) and key not in seen:
            seen.add(key)
            hit = next((self.sides[i][key] for i in order if key in self.sides[i]), None)
            if hit is None:
                break
            names.append(hit[0].name)
            key = hit[1]
        return names[::-1]

    def _up(self, side: int, key: str) -> str | None:
        hit = self.sides[side].get(key)
        return hit[1] if hit is not None else None
