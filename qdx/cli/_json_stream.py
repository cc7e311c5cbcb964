"""JSON output in pieces: what ``json.dumps(data, ensure_ascii=False, indent=2, default=str)``
gives, never held as one string, and a long string value never copied whole.

``json.dumps`` of a 50M-character segment held its text four times at once (the escaped
string, the joined document, the control-escaped copy, its UTF-8 bytes): 0.7 GB. Here the
encoder sees a short stand-in for each long string, and the string itself is escaped and
handed on a slice at a time (JSON escapes character by character, so the slices' escapes are
the whole's).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

# Strings longer than this are streamed in slices of this many characters.
SLICE = 1 << 20


def json_pieces(data: Any) -> Iterator[str]:
    """The indented JSON of ``data``, piece by piece (no piece much longer than :data:`SLICE`)."""
    mark = f"\ue000qdx-{uuid.uuid4().hex}-"  # a private-use stand-in no real text holds
    long: list[str] = []
    stand_in = re.compile(re.escape(mark) + r"(\d+)\ue000")
    encoder = json.JSONEncoder(ensure_ascii=False, indent=2, default=str)
    for chunk in encoder.iterencode(_with_stand_ins(data, mark, long)):
        if mark not in chunk:
            yield chunk
            continue
        at = 0
        for found in stand_in.finditer(chunk):
            yield chunk[at : found.start()]
            yield from _escaped(long[int(found[1])])
            at = found.end()
        yield chunk[at:]


def _escaped(text: str) -> Iterator[str]:
    """JSON's escaping of ``text`` (without the quotes the stand-in's quotes already give)."""
    for start in range(0, len(text), SLICE):
        yield json.dumps(text[start : start + SLICE], ensure_ascii=False)[1:-1]


def _with_stand_ins(data: Any, mark: str, long: list[str]) -> Any:
    """``data`` with each string value longer than :data:`SLICE` replaced by a stand-in
    (appended to ``long``); a container holding none is kept as it is."""
    before = len(long)
    if isinstance(data, str):
        if len(data) <= SLICE:
            return data
        long.append(data)
        return f"{mark}{before}\ue000"
    if isinstance(data, dict):
        copy: Any = {key: _with_stand_ins(value, mark, long) for key, value in data.items()}
    elif isinstance(data, list | tuple):
        copy = [_with_stand_ins(value, mark, long) for value in data]
    else:
        return data
    return copy if len(long) > before else data
