"""Time qdx.diff and qdx.merge on a large project and a modified copy of it.

    python benchmarks/bench_diff_merge.py                      # 100,000 selections in memory
    python benchmarks/bench_diff_merge.py --selections 20000
    python benchmarks/bench_diff_merge.py --file some.qdpx     # also: ratio to qdx.read time

The project is generated in memory, deterministically (fixed seed), so the run needs no
files: a three-level codebook, text sources of ~40 lines, one coding per selection by one of
two coders. The modified copy renames and recolours a few codes, widens 1 % of the
selections, drops 1 %, adds 1 % by a third coder and edits one source's text. Diff must take
under 10 s at 100,000 selections (issue 6); the script exits 1 when it does not.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

from qdx.model import Code, Coding, Guid, Project, TextSelection, TextSource, User
from qdx.ops.diff import diff
from qdx.ops.merge import merge

LIMIT_SECONDS = 10.0
WORDS = "privacy moments post friends share photo family trust risk control visible group".split()


def _guid(rng: random.Random) -> Guid:
    return Guid(str(uuid.UUID(int=rng.getrandbits(128), version=4)))


def _codebook(rng: random.Random) -> tuple[tuple[Code, ...], list[Guid]]:
    mains = []
    leaves: list[Guid] = []
    for m in range(6):
        subs = []
        for s in range(5):
            concepts = tuple(Code(guid=_guid(rng), name=f"Concept {m}.{s}.{c}") for c in range(6))
            leaves.extend(c.guid for c in concepts)
            subs.append(Code(guid=_guid(rng), name=f"Sub {m}.{s}", children=concepts))
        mains.append(Code(guid=_guid(rng), name=f"Main {m}", is_codable=False, children=tuple(subs)))
    return tuple(mains), leaves


def _text(rng: random.Random) -> str:
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))) for _ in range(40)]
    return "\n".join(lines) + "\n"


def make_project(n_selections: int, seed: int = 6) -> Project:
    """A deterministic project with ``n_selections`` coded text selections."""
    rng = random.Random(seed)
    users = (User(guid=_guid(rng), name="Researcher A"), User(guid=_guid(rng), name="Researcher B"))
    codes, leaves = _codebook(rng)
    per_source = 200
    sources = []
    for i in range((n_selections + per_source - 1) // per_source):
        text = _text(rng)
        sels = []
        for _ in range(min(per_source, n_selections - i * per_source)):
            start = rng.randrange(len(text) - 40)
            end = start + rng.randint(5, 40)
            user = rng.choice(users).guid
            coding = Coding(guid=_guid(rng), code=rng.choice(leaves), creating_user=user)
            sels.append(TextSelection(guid=_guid(rng), start=start, end=end, creating_user=user, codings=(coding,)))
        sources.append(TextSource(guid=_guid(rng), name=f"Interview {i + 1}", text=text, selections=tuple(sels)))
    return Project(name="bench", users=users, codes=codes, sources=tuple(sources))


def modify(project: Project, seed: int = 7) -> Project:
    """A copy with a few codebook edits and ~3 % of the codings changed."""
    rng = random.Random(seed)
    third = User(guid=_guid(rng), name="Researcher C")
    main = project.codes[0]
    sub = replace(main.children[0], name="Renamed sub", color="#FF0000")
    codes = (replace(main, children=(sub, *main.children[1:])), *project.codes[1:])
    sources = []
    for k, source in enumerate(project.sources):
        assert isinstance(source, TextSource) and source.text is not None
        sels = []
        for sel in source.selections:
            roll = rng.random()
            if roll < 0.01:
                continue  # removed
            if roll < 0.02:
                sel = replace(sel, end=sel.end + 3)  # boundary changed
            sels.append(sel)
            if roll > 0.99:
                coding = Coding(guid=_guid(rng), code=sel.codings[0].code, creating_user=third.guid)
                sels.append(replace(sel, guid=_guid(rng), creating_user=third.guid, codings=(coding,)))
        text = source.text + "An added line.\n" if k == 0 else source.text
        sources.append(replace(source, text=text, selections=tuple(sels)))
    return replace(project, users=(*project.users, third), codes=codes, sources=tuple(sources))


def _timed(label: str, func: object) -> tuple[float, object]:
    """Run ``func``; print wall and CPU seconds (CPU shows the cost on a shared, busy machine)."""
    start, cpu = time.perf_counter(), time.process_time()
    value = func()  # type: ignore[operator]
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:8.2f} s wall {time.process_time() - cpu:8.2f} s cpu")
    return seconds, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--selections", type=int, default=100_000)
    parser.add_argument("--file", type=Path, help="a project to read, diff and merge with a modified copy")
    args = parser.parse_args()
    read_seconds = None
    if args.file is not None:
        import qdx

        read_seconds, project = _timed(f"read {args.file.name}", lambda: qdx.read(args.file))
    else:
        _, project = _timed(f"generate {args.selections} selections", lambda: make_project(args.selections))
    assert isinstance(project, Project)
    _, other = _timed("modify copy", lambda: modify(project))
    assert isinstance(other, Project)
    diff_seconds, result = _timed("diff(project, modified)", lambda: diff(project, other))
    print(f"  {len(result):,} changes")  # type: ignore[arg-type]
    _timed("diff(project, project)", lambda: diff(project, project))
    merge_seconds, _ = _timed("merge(project, modified)", lambda: merge(project, other, policy="ours"))
    _timed("merge(project, project)", lambda: merge(project, project))
    if read_seconds:
        for label, seconds in (("diff", diff_seconds), ("merge", merge_seconds)):
            print(f"{label} / read ratio: {seconds / read_seconds:.2f}")
    ok = diff_seconds < LIMIT_SECONDS
    print(f"diff under {LIMIT_SECONDS:.0f} s: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
