"""Long fuzz run of the readers, outside CI: ``python scripts/fuzz.py --examples 20000``.

Mutates the real samples (../shared/refi/samples, ../shared/nvivo, when present) and the
bundled study (fixtures/wechat-moments) with the operations of ``tests/_fuzz_mutate.py``
(bit flips, truncation, element deletion/duplication/nesting, attribute corruption, zip
member changes; the output-side shapes: repeated GUIDs, huge numbers, formula and
control-character names, dangling references; and the reading shapes of issue 15: bzip2/LZMA
members, central-directory records aliasing one entry, every source reading one member, a
DOCTYPE past 64 KB, UTF-32/UTF-7 documents, and with ``--text`` NVivo heads naming huge ranges,
codes thousands of levels deep, a block repeated thousands of times) and checks that every
input ends in a Project or a QdxError (with ``--outputs``, also through every analysis and
spreadsheet writer). An example
that runs longer than ``--timeout`` seconds is a hang. Crashing inputs are saved to
``--out`` (one file per distinct crash site) with the op list that made them.

Prints: examples run, outcomes, distinct crashes, hangs, slowest example, total time.
Exit status 1 when anything crashed or hung.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import _fuzz_mutate as fm  # noqa: E402


class Hang(Exception):
    """Raised by the alarm when one example runs past the timeout."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang


REFI = {".qdpx", ".qde", ".qdc"}
OFFICE = {".docx", ".xlsx"}


def seeds(office: bool, text: bool = False) -> list[fm.Seed]:
    """Every real sample and the bundled study's files (and NVivo Office / coded-text exports
    if asked; text seeds over 300 kB are left out, byte mutations of them are slow to read)."""
    shared = ROOT.parent / "shared"
    wanted = REFI | (OFFICE if office else set()) | ({".txt"} if text else set())
    paths: list[Path] = []
    for folder in (shared / "refi" / "samples", shared / "nvivo"):
        if folder.exists():
            paths += sorted(p for p in folder.rglob("*") if p.suffix.lower() in wanted)
    study = ROOT / "fixtures" / "wechat-moments"
    paths += sorted(p for p in study.iterdir() if p.suffix in REFI)
    if office:
        paths += sorted((ROOT / "fixtures" / "nvivo").rglob("*.docx"))
    if text:
        paths += sorted((ROOT / "fixtures" / "nvivo" / "export").glob("*.txt"))
        paths = [p for p in paths if p.suffix != ".txt" or p.stat().st_size < 300_000]
    return [fm.Seed(p.name, p.read_bytes()) for p in paths]


def crash_key(exc: BaseException) -> str:
    """Where a crash happened: exception type and the innermost qdx frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/qdx/" in f.filename] or frames
    last = ours[-1]
    return f"{type(exc).__name__} at {last.filename.rpartition('/qdx/')[2] or last.filename}:{last.lineno}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same inputs)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before an example is a hang")
    parser.add_argument("--deep", action="store_true", help="also summarise, segment and re-write each project")
    parser.add_argument("--outputs", action="store_true",
                        help="also run every analysis and spreadsheet writer on each project and check its CSV"
                             " cells (slow: use with the output-side shapes, --kinds output)")
    parser.add_argument("--kinds", choices=("all", "output"), default="all",
                        help="'output': only the output-side shapes (repeated GUIDs, huge numbers, formula and"
                             " control-character names, dangling references)")
    parser.add_argument("--office", action="store_true", help="also mutate NVivo .docx/.xlsx exports")
    parser.add_argument("--text", action="store_true", help="also mutate NVivo coded-text .txt exports")
    parser.add_argument("--minutes", type=float, default=None, help="stop after this long")
    parser.add_argument("--out", type=Path, default=Path("fuzz-crashes"), help="folder for crashing inputs")
    args = parser.parse_args(argv)

    pool = seeds(args.office, args.text)
    rng = random.Random(args.seed)
    outcomes: Counter[str] = Counter()
    crashes: dict[str, int] = {}
    hangs = 0
    slowest = (0.0, "")
    signal.signal(signal.SIGALRM, _alarm)
    started = time.perf_counter()
    run = 0
    with tempfile.TemporaryDirectory() as folder:
        for run in range(1, args.examples + 1):
            if args.minutes is not None and time.perf_counter() - started > args.minutes * 60:
                run -= 1
                break
            seed = rng.choice(pool)
            ops = fm.random_ops(rng, seed, only=fm.OUTPUT_KINDS if args.kinds == "output" else None)
            data = fm.apply(seed, ops)
            t0 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, args.timeout)
            try:
                outcomes[fm.check(data, seed.name, folder, deep=args.deep, outputs=args.outputs)] += 1
            except Hang:
                hangs += 1
                _save(args.out, f"hang-{run}", seed, ops, data, "hang")
            except Exception as exc:  # the point of fuzzing: anything that is not a QdxError
                key = crash_key(exc)
                if key not in crashes:
                    _save(args.out, f"crash-{len(crashes) + 1}", seed, ops, data, f"{key}: {exc}")
                    print(f"crash: {key}: {str(exc)[:200]} (seed {seed.name})", file=sys.stderr)
                crashes[key] = crashes.get(key, 0) + 1
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            took = time.perf_counter() - t0
            if took > slowest[0]:
                slowest = (took, f"{seed.name} {ops}")
            if run % 1000 == 0:
                print(f"{run} examples, {time.perf_counter() - started:.0f} s, crashes {sum(crashes.values())}",
                      file=sys.stderr)
    total = time.perf_counter() - started
    report = {
        "examples": run,
        "seeds": len(pool),
        "deep": args.deep,
        "outputs": args.outputs,
        "kinds": args.kinds,
        "office": args.office,
        "text": args.text,
        "outcomes": dict(outcomes.most_common()),
        "crashes": sum(crashes.values()),
        "distinct_crashes": crashes,
        "hangs": hangs,
        "slowest_seconds": round(slowest[0], 3),
        "slowest_example": slowest[1],
        "seconds": round(total, 1),
        "examples_per_second": round(run / total, 1) if total else None,
    }
    print(json.dumps(report, indent=2))
    return 1 if crashes or hangs else 0


def _save(folder: Path, stem: str, seed: fm.Seed, ops: list[fm.Op], data: bytes, why: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(seed.name).suffix
    (folder / f"{stem}{suffix}").write_bytes(data)
    (folder / f"{stem}.json").write_text(json.dumps({"seed": seed.name, "ops": ops, "why": why}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
