"""Benchmark: a 2,000-concept × 200-source coding matrix from 100,000 coded selections.

    python benchmarks/bench_matrix.py [--selections 100000] [--codes 2000] [--sources 200] [--report]

Builds the project in memory (deterministic: fixed seed), then times each stage: preparing
the codings table, counting the matrix (references, and coverage which merges ranges), and
writing it to ``.xlsx`` with the heat map (the target for the whole run is < 15 s). With
``--report`` it also times the full report workbook.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from qdx.analysis._codings import build_corpus
from qdx.analysis.matrix import matrix_from
from qdx.model import Code, Coding, Guid, Project, TextSelection, TextSource, User
from qdx.report.output import write_matrix

WORDS = "privacy moments post friends share photo family trust risk control 朋友圈 隐私 分组".split()


def _guid(rng: random.Random) -> Guid:
    import uuid

    return Guid(str(uuid.UUID(int=rng.getrandbits(128), version=4)))


def _tree(rng: random.Random, n_concepts: int) -> tuple[Code, list[Code]]:
    concepts = [Code(guid=_guid(rng), name=f"concept {i + 1:04d}") for i in range(n_concepts)]
    per_sub = 40
    subs = [Code(guid=_guid(rng), name=f"sub {i + 1:03d}", is_codable=False,
                 children=tuple(concepts[i * per_sub:(i + 1) * per_sub]))
            for i in range((n_concepts + per_sub - 1) // per_sub)]
    per_main = max(1, len(subs) // 5)
    mains = [Code(guid=_guid(rng), name=f"main {i + 1}", is_codable=False,
                  children=tuple(subs[i * per_main:(i + 1) * per_main]))
             for i in range((len(subs) + per_main - 1) // per_main)]
    return Code(guid=_guid(rng), name="core", is_codable=False, children=tuple(mains)), concepts


def _source(rng: random.Random, i: int, n_sel: int, concepts: list[Code], user: User) -> TextSource:
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12))) for _ in range(n_sel)]
    text = "\n".join(f"A-{i + 1}-{j + 1} {line}" for j, line in enumerate(lines))
    sels = []
    pos = 0
    for j, line in enumerate(lines):
        start = pos + len(f"A-{i + 1}-{j + 1} ")
        end = start + len(line)
        sels.append(TextSelection(guid=_guid(rng), start=start, end=min(end + rng.randint(0, 30), len(text)),
                                  creating_user=user.guid,
                                  codings=(Coding(guid=_guid(rng), code=rng.choice(concepts).guid,
                                                  creating_user=user.guid),)))
        pos = end + 1
    return TextSource(guid=_guid(rng), name=f"Interview {i + 1:03d}", text=text, selections=tuple(sels))


def make_project(selections: int, codes: int, sources: int, seed: int = 8) -> Project:
    """A deterministic project: ``codes`` concepts (core → main → sub → concept), ``sources``
    transcripts, ``selections`` coded sentences spread evenly."""
    rng = random.Random(seed)
    core, concepts = _tree(rng, codes)
    user = User(guid=_guid(rng), name="coder")
    per = selections // sources
    docs = tuple(_source(rng, i, per + (1 if i < selections % sources else 0), concepts, user)
                 for i in range(sources))
    return Project(name="bench", users=(user,), codes=(core,), sources=docs)


def _timed(label: str, results: dict[str, float], func):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    value = func()
    results[label] = time.perf_counter() - t0
    print(f"{label:<34} {results[label]:7.2f} s", flush=True)
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--selections", type=int, default=100_000)
    parser.add_argument("--codes", type=int, default=2_000)
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--report", action="store_true", help="also time the full report workbook")
    args = parser.parse_args()
    times: dict[str, float] = {}
    project = _timed("generate project (not counted)", {}, lambda: make_project(args.selections, args.codes,
                                                                                args.sources))
    corpus = _timed("prepare codings table", times, lambda: build_corpus(project))
    refs = _timed("matrix: references", times,
                  lambda: matrix_from(corpus, rows="codes", cols="sources", level="concepts"))
    _timed("matrix: coverage (range union)", times,
           lambda: matrix_from(corpus, rows="codes", cols="sources", level="concepts", value="coverage"))
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "matrix.xlsx"
        _timed(f"write {refs.shape[0]}×{refs.shape[1]} xlsx", times, lambda: write_matrix(refs, out))
        size = out.stat().st_size
        if args.report:
            from qdx.report.excel import write_report_file

            _timed("full report workbook (extra)", {}, lambda: write_report_file(project, Path(folder) / "r.xlsx"))
    total = times["prepare codings table"] + times["matrix: references"] + times[next(k for k in times
                                                                                     if k.startswith("write"))]
    assert int(refs.to_numpy().sum()) == args.selections
    print(f"matrix {refs.shape[0]} codes × {refs.shape[1]} sources, {args.selections} codings, "
          f"xlsx {size / 1e6:.1f} MB")
    print(f"TOTAL prepare + count + write xlsx: {total:.2f} s (target < 15 s) -> {'OK' if total < 15 else 'SLOW'}")
    return 0 if total < 15 else 1


if __name__ == "__main__":
    sys.exit(main())
