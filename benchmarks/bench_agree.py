"""Benchmark ``qdx.agree`` on two 100,000-selection projects (the issue's budget: under 10 s).

Standalone and deterministic: both projects are generated in memory from a fixed seed (no
files). Coder B is coder A with shifted boundaries, misses, other codes and extra passages,
like the bundled study's second coder. Prints the time of each unit and overlap setting.

    python benchmarks/bench_agree.py [--selections 100000] [--sources 50]
"""

from __future__ import annotations

import argparse
import gc
import random
import time
import uuid

from qdx.analysis.agreement import agree
from qdx.model import Code, Coding, Guid, Project, TextSelection, TextSource, User

SEED = 20240601


def _guid(rng: random.Random) -> Guid:
    return Guid(str(uuid.UUID(int=rng.getrandbits(128), version=4)))


def _text(rng: random.Random, chars: int) -> str:
    words = ["privacy", "moments", "friends", "post", "share", "group", "photo", "like", "comment", "visible"]
    out, size, n = [], 0, 0
    while size < chars:
        n += 1
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(5, 14))).capitalize() + "."
        if n % 6 == 0:
            sentence += "\n"
        out.append(sentence)
        size += len(sentence) + 1
    return " ".join(out)[:chars]


def _spans_b(
    rng: random.Random, spans: list[tuple[int, int, int, int]], n_codes: int, size: int
) -> list[tuple[int, int, int, int]]:
    out = []
    for doc, code, start, end in spans:
        roll = rng.random()
        if roll < 0.10:
            continue
        if roll < 0.17:
            code = rng.randrange(n_codes)
        s = max(0, start + rng.randint(-15, 15))
        e = min(size, max(s + 1, end + rng.randint(-15, 15)))
        out.append((doc, code, s, e))
    for _ in range(len(spans) // 10):
        out.append(spans[rng.randrange(len(spans))])
    return out


def _project(
    rng: random.Random,
    name: str,
    user: User,
    texts: list[TextSource],
    codes: tuple[Code, ...],
    spans: list[tuple[int, int, int, int]],
) -> Project:
    by_doc: dict[int, list[TextSelection]] = {}
    for doc, code, start, end in spans:
        coding = Coding(guid=_guid(rng), code=codes[code].guid, creating_user=user.guid)
        by_doc.setdefault(doc, []).append(TextSelection(guid=_guid(rng), start=start, end=end, codings=(coding,)))
    sources = tuple(
        TextSource(guid=t.guid, name=t.name, text=t.text, selections=tuple(by_doc.get(i, ())))
        for i, t in enumerate(texts)
    )
    return Project(name=name, users=(user,), codes=codes, sources=sources)


def generate(selections: int, n_sources: int, n_codes: int = 40, chars: int = 100_000) -> tuple[Project, Project]:
    """Two coders' projects over the same sources and codebook (deterministic)."""
    rng = random.Random(SEED)
    codes = tuple(Code(guid=_guid(rng), name=f"code {i:02d}") for i in range(n_codes))
    texts = [TextSource(guid=_guid(rng), name=f"Interview {i:03d}", text=_text(rng, chars)) for i in range(n_sources)]
    spans_a = []
    for _ in range(selections):
        start = rng.randrange(chars - 500)
        spans_a.append((rng.randrange(n_sources), rng.randrange(n_codes), start, start + rng.randint(20, 400)))
    spans_b = _spans_b(rng, spans_a, n_codes, chars)[:selections]
    a = _project(rng, "A", User(guid=_guid(rng), name="Researcher A"), texts, codes, spans_a)
    b = _project(rng, "B", User(guid=_guid(rng), name="Researcher B"), texts, codes, spans_b)
    return a, b


def baseline_counts(a: Project, b: Project) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    """The obvious way: one boolean mask per coder, code and source (numpy slices, no sweep).

    Used as the timing baseline and as an independent check of qdx's character counts.
    """
    import numpy as np

    def masks(project: Project) -> dict[tuple[str, str], np.ndarray]:
        names = {c.guid: c.name for c in project.codes}
        out: dict[tuple[str, str], np.ndarray] = {}
        for source in project.sources:
            assert isinstance(source, TextSource) and source.text is not None and source.name is not None
            for sel in source.selections:
                for coding in sel.codings:
                    key = (names[coding.code], source.name)
                    mask = out.get(key)
                    if mask is None:
                        mask = out[key] = np.zeros(len(source.text), dtype=bool)
                    mask[sel.start : sel.end] = True
        return out

    ma, mb = masks(a), masks(b)
    counts = {}
    for key in ma.keys() | mb.keys():
        x = ma.get(key)
        y = mb.get(key)
        size = (x if x is not None else y).size  # type: ignore[union-attr]
        x = x if x is not None else np.zeros(size, dtype=bool)
        y = y if y is not None else np.zeros(size, dtype=bool)
        counts[key] = (int((x & y).sum()), int((x & ~y).sum()), int((~x & y).sum()), int((~x & ~y).sum()))
    return counts


def _check_against_baseline(a: Project, b: Project) -> None:
    gc.collect()  # start each timing from the same heap state
    t0 = time.perf_counter()
    expected = baseline_counts(a, b)
    base = time.perf_counter() - t0
    gc.collect()
    t0 = time.perf_counter()
    result = agree(a, b, passages=False)
    ours = time.perf_counter() - t0
    got = {
        (r.code, r.source): (r.table.both, r.table.a_only, r.table.b_only, r.table.neither)
        for r in result.per_code_source
    }
    verdict = "identical" if got == expected else "DIFFERENT"
    print(
        f"baseline (per-character masks, counts only): {base:.2f} s; qdx agree (counts, kappas, alpha, segments): "
        f"{ours:.2f} s; ratio {ours / base:.2f}; per code x source counts {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--selections", type=int, default=100_000)
    parser.add_argument("--sources", type=int, default=50)
    args = parser.parse_args()
    t0 = time.perf_counter()
    a, b = generate(args.selections, args.sources)
    print(
        f"generated 2 x {args.selections:,} selections over {args.sources} sources in {time.perf_counter() - t0:.1f} s"
    )
    runs = (
        {"unit": "char"},
        {"unit": "char", "passages": False},
        {"unit": "sentence"},
        {"unit": "paragraph"},
        {"unit": "char", "all_pairs": True},
    )
    _check_against_baseline(a, b)
    for kwargs in runs:
        gc.collect()
        t0 = time.perf_counter()
        result = agree(a, b, **kwargs)  # type: ignore[arg-type]
        took = time.perf_counter() - t0
        o = result.overall
        print(
            f"agree {kwargs}: {took:6.2f} s  rows {len(result.per_code_source):,}  "
            f"kappa pooled {o.kappa_pooled:.3f}  alpha {o.alpha:.3f}  segments {o.segments:,}  "
            f"disagreements {len(result.disagreements):,}  {'OK' if took < 10 else 'OVER the 10 s budget'}"
        )


if __name__ == "__main__":
    main()
