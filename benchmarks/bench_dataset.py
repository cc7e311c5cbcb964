"""Time ``qdx export CORPUS DIR`` on a generated corpus, then again on the unchanged corpus.

    python benchmarks/bench_dataset.py                   # 200 projects, one worker per core
    python benchmarks/bench_dataset.py --projects 40 --jobs 2

Generates ``--projects`` REFI-QDA projects with benchmarks/make_project.py (deterministic, one
seed each), in four sizes taken in turn (50 selections in 5 sources up to 3,000 in 40; every
project has make_project's 1,920-code tree), into a temporary folder. Then runs the command
line three times in fresh processes, as a user would:

1. the first export (every project read and written, by worker processes);
2. the same command on the unchanged corpus (every project must be reported unchanged);
3. after one project is regenerated with another seed (exactly that one must be exported).

Prints the times and the ratio of run 2 to run 1, which must be under 10 % (issue 19), and the
CPU seconds of each worker process of run 1, sampled from /proc (Linux), which shows the work
shared between them.
Exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from make_project import generate

SIZES = ((50, 5), (300, 10), (1000, 20), (3000, 40))  # (selections, sources)
LIMIT_RATIO = 0.10


def make_corpus(folder: Path, count: int) -> list[Path]:
    """``count`` projects ``study-NNN.qdpx`` in ``folder``, sizes taken from SIZES in turn."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for i in range(count):
        made.append(make_one(folder, i, seed=i + 1))
    return made


def make_one(folder: Path, i: int, *, seed: int) -> Path:
    selections, sources = SIZES[i % len(SIZES)]
    with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
        _, qdpx = generate(selections, Path(scratch), sources=sources, seed=seed)
        target = folder / f"study-{i:03d}.qdpx"
        os.replace(qdpx, target)
    return target


@dataclass
class Run:
    wall: float
    cpu: dict[int, float]  # CPU seconds of each process under qdx (sampled from /proc; empty elsewhere)
    data: dict[str, Any]

    def workers(self, busy: float = 0.5) -> list[float]:
        """CPU seconds of the processes that did real work (the pool's workers), largest first."""
        return sorted((c for c in self.cpu.values() if c >= busy), reverse=True)


def run_export(corpus: Path, out: Path, jobs: int | None) -> Run:
    """One ``qdx export ... --json`` in a fresh process, watching its worker processes."""
    cmd = [sys.executable, "-m", "qdx", "export", str(corpus), str(out), "--json"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr)
        cpu: dict[int, float] = {}
        while proc.poll() is None:
            for pid in _descendants(proc.pid):
                cpu[pid] = max(cpu.get(pid, 0.0), _cpu_seconds(pid))
            time.sleep(0.2)
        wall = time.perf_counter() - start
        stdout.seek(0)
        stderr.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"qdx export failed ({proc.returncode}): {stderr.read().decode().strip()}")
        data = json.loads(stdout.read())
    return Run(wall, cpu, data)


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the workers are children of a fork server, not of qdx)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        try:
            kids = [int(kid) for listing in Path(f"/proc/{todo.pop()}/task").glob("*/children")
                    for kid in listing.read_text().split()]
        except (OSError, ValueError):
            continue
        found += kids
        todo += kids
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    parser.add_argument("--keep", type=Path, default=None, help="build in this folder and keep it")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="qdx-bench-dataset-"))
    corpus, out = base / "corpus", base / "dataset"
    shutil.rmtree(out, ignore_errors=True)
    try:
        start = time.perf_counter()
        files = make_corpus(corpus, args.projects)
        size = sum(f.stat().st_size for f in files)
        print(f"corpus: {len(files)} projects, {size / 1e6:.1f} MB, generated in {time.perf_counter() - start:.1f} s")
        first = run_export(corpus, out, args.jobs)
        ok = first.data["exported"] == len(files)
        busy = first.workers()
        print(f"first export:    {first.wall:7.2f} s  ({first.data['exported']} exported by {len(busy)} worker"
              f" processes, CPU s each: {', '.join(f'{c:.1f}' for c in busy)})")
        again = run_export(corpus, out, args.jobs)
        ok &= again.data["unchanged"] == len(files) and again.data["exported"] == 0
        print(f"unchanged again: {again.wall:7.2f} s  ({again.data['unchanged']} unchanged, "
              f"{again.data['exported']} exported; worker processes: {len(again.workers())})")
        make_one(corpus, 0, seed=10_000)
        changed = run_export(corpus, out, args.jobs)
        ok &= changed.data["exported"] == 1 and changed.data["unchanged"] == len(files) - 1
        print(f"one changed:     {changed.wall:7.2f} s  ({changed.data['exported']} exported, "
              f"{changed.data['unchanged']} unchanged)")
        ratio = again.wall / first.wall
        print(f"ratio unchanged / first: {ratio:.1%} (limit {LIMIT_RATIO:.0%})")
        ok &= ratio < LIMIT_RATIO
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
