"""Do the paths issue 15 found quadratic now scale linearly? Times at 1x, 2x and 4x the size.

    python benchmarks/bench_scaling.py              # ~1 minute on a 2-core machine
    python benchmarks/bench_scaling.py --scale 0.5  # smaller sizes, for a quick look

Four workloads, generated in memory (deterministic), each timed as the median of
``--repeat`` runs:

* ``nvivo-block``: one NVivo coded-text export holding one source block of N references,
  read with ``qdx.read`` (no ``--sources``: the passages rebuild the text). Was 109 s at 40k.
* ``codebook-diff``: ``qdx.diff`` of two N-code codebooks, 1 % of the codes renamed.
  Was 135 s at 100k.
* ``unknown-children``: ``qdx.read`` of a ``.qde`` whose one selection has N unknown child
  elements (each an Issue). Was > 30 s at 4 MB (~400k children).
* ``codebook-merge3``: ``qdx.merge3`` of an N-code codebook (categories of 99 concepts) with
  1/7 of the concepts renamed on one side and 1/5 redescribed on the other. Was 62 s at 50k
  (the pairing's quadratic membership test, fixed with ``codebook-diff``).

Prints one line per size and the ratio of each time to the previous size's: linear time
doubles (~2.0) when the size doubles, quadratic time quadruples (~4.0). Exits 1 when a
doubling costs more than 3x (the scaling is not linear).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import qdx
from qdx.model import Code, Guid, Project
from qdx.ops.diff import diff
from qdx.ops.merge3 import merge3

NS = "urn:QDA-XML:project:1.0"
USER = "44444444-4444-4444-4444-444444444444"
CODE = "11111111-1111-1111-1111-111111111111"
MAX_DOUBLING = 3.0


def nvivo_block(n: int) -> bytes:
    refs = "".join(
        f"Reference {i} - 0.01% Coverage\n\nparticipant {i} said the clinic was far from home\n\n"
        for i in range(1, n + 1)
    )
    return f"<Files\\\\Interview> - § {n} references coded [100.00% Coverage]\n\n{refs}".encode()


def unknown_children(n: int) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="{NS}" name="kids">'
        f'<Users><User guid="{USER}" name="u"/></Users>'
        f'<CodeBook><Codes><Code guid="{CODE}" name="c" isCodable="true"/></Codes></CodeBook>'
        f'<Sources><TextSource guid="22222222-2222-2222-2222-222222222222" name="doc">'
        f"<PlainTextContent>text body</PlainTextContent>"
        f'<PlainTextSelection guid="33333333-3333-3333-3333-333333333333" startPosition="0" endPosition="4">'
        + "<Unknown/>" * n
        + f'<Coding guid="55555555-5555-5555-5555-555555555555" creatingUser="{USER}">'
        f'<CodeRef targetGUID="{CODE}"/></Coding></PlainTextSelection></TextSource></Sources></Project>'
    ).encode()


def codebook(n: int, renamed: bool) -> Project:
    codes = tuple(
        Code(
            guid=Guid(str(uuid.UUID(int=i + 1, version=4))),
            name=f"code {i}" + (" (renamed)" if renamed and i % 100 == 0 else ""),
        )
        for i in range(n)
    )
    return Project(name="codebook", codes=codes, is_codebook=True)


def _guid(number: int) -> Guid:
    return Guid(str(uuid.UUID(int=number, version=4)))


def categories(n: int, renamed: bool = False, redescribed: bool = False) -> Project:
    """About ``n`` codes: categories of 99 concepts; every 7th concept renamed, every 5th redescribed."""
    mains = []
    for c in range(max(1, n // 100)):
        concepts = []
        for k in range(99):
            i = c * 99 + k + 1
            name = f"concept {c}.{k}" + (" (renamed)" if renamed and i % 7 == 0 else "")
            description = "a new definition" if redescribed and i % 5 == 0 else None
            concepts.append(Code(guid=_guid(10**9 + i), name=name, description=description))
        mains.append(Code(guid=_guid(c + 1), name=f"category {c}", children=tuple(concepts)))
    return Project(name="categories", codes=tuple(mains), is_codebook=True)


def _read_file(folder: Path, name: str, data: bytes) -> Callable[[], object]:
    path = folder / name
    path.write_bytes(data)
    return lambda: qdx.read(path)


def workloads(folder: Path) -> dict[str, tuple[int, Callable[[int], Callable[[], object]]]]:
    """name -> (base size, size -> the timed call)."""

    def diff_of(n: int) -> Callable[[], object]:
        a, b = codebook(n, False), codebook(n, True)
        return lambda: diff(a, b)

    def merge3_of(n: int) -> Callable[[], object]:
        base, ours, theirs = categories(n), categories(n, renamed=True), categories(n, redescribed=True)
        return lambda: merge3(base, ours, theirs)

    return {
        "nvivo-block": (10_000, lambda n: _read_file(folder, f"Access-{n}.txt", nvivo_block(n))),
        "codebook-diff": (25_000, diff_of),
        "unknown-children": (50_000, lambda n: _read_file(folder, f"kids-{n}.qde", unknown_children(n))),
        "codebook-merge3": (12_500, merge3_of),
    }


def median_seconds(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every base size")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (the median is kept)")
    args = parser.parse_args(argv)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name, (base, make) in workloads(Path(tmp)).items():
            previous = None
            for factor in (1, 2, 4):
                size = max(1, int(base * args.scale)) * factor
                seconds = median_seconds(make(size), args.repeat)
                ratio = "" if previous is None else f"  x{seconds / previous:.2f} for x2 size"
                if previous is not None:
                    worst = max(worst, seconds / previous)
                print(f"{name:17} {factor}x  n={size:>7,}  {seconds:7.3f} s{ratio}", flush=True)
                previous = seconds
    verdict = "linear" if worst <= MAX_DOUBLING else "NOT linear"
    print(f"worst doubling: x{worst:.2f} ({verdict}; linear ~2, quadratic ~4)")
    return 0 if worst <= MAX_DOUBLING else 1


if __name__ == "__main__":
    sys.exit(main())
