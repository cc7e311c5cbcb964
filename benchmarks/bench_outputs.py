"""Benchmark: writing outputs, as ratios to reading the same file (``qdx info``), in one run.

    python benchmarks/bench_outputs.py [--selections 100000] [--repeat 3] [--study]

Generates the project with ``make_project.py`` (deterministic) unless it exists, then runs
each command as its own process, interleaved round by round so machine load hits every
command alike, and reports medians:

* ``qdx report`` ≤ 8×, ``qdx segments -o .xlsx`` ≤ 3×, ``qdx export --to parquet`` ≤ 2× the
  time of ``qdx info`` on the same file (the targets), and the report's peak memory
  (< 600 MB);
* with ``--study``: the bundled study's report (< 3 s).

Peak memory is the child's maximum resident set size (``resource.getrusage``). Each line also
gives the CPU time (user + system) and its ratio to ``qdx info``'s, which hardly moves when
other work shares the machine, and each round's wall-clock ratio (round by round).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STUDY = ROOT / "fixtures" / "wechat-moments" / "project.qdpx"
TARGETS = {"report": 8.0, "segments .xlsx": 3.0, "export parquet": 2.0}


def _run(args: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one ``python -m qdx`` child process.

    CPU time is what the child itself spent, so it hardly moves when other work shares the
    machine; wall-clock time is what a user waits, and is the target's measure.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "qdx", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"qdx {' '.join(args)} failed: {done.stderr.strip()}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def _project(selections: int, folder: Path) -> Path:
    path = folder / f"bench-{selections}.qdpx"
    if not path.exists():
        subprocess.run([sys.executable, str(HERE / "make_project.py"), "--selections", str(selections),
                        "--out", str(folder)], check=True, capture_output=True)
    return path


def measure(project: Path, repeat: int, out: Path) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds of each command per round; the rounds interleave the commands."""
    commands = {
        "info": ["info", str(project)],
        "report": ["report", str(project), "-o", str(out / "report.xlsx")],
        "segments .xlsx": ["segments", str(project), "-o", str(out / "segments.xlsx")],
        "export parquet": ["export", str(project), str(out / "tables"), "--to", "parquet"],
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, args in commands.items():
            if name == "export parquet":
                shutil.rmtree(out / "tables", ignore_errors=True)  # a fresh folder each round
            times[name].append(_run(args))
    return times


def report_memory(project: Path, out: Path) -> float:
    """Peak MB of ``qdx report`` measured alone (its own child, so the maximum is its own)."""
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=False, capture_output=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "qdx", "report", str(project), "-o",
                           str(out / "memory.xlsx")], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return int(done.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--selections", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--study", action="store_true", help="also time the bundled study's report")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    project = _project(args.selections, args.data)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        times = measure(project, args.repeat, out)
        info = statistics.median(t[0] for t in times["info"])
        info_cpu = statistics.median(t[1] for t in times["info"])
        print(f"{project.name}: medians of {args.repeat} interleaved runs; qdx info {info:.2f} s "
              f"({info_cpu:.2f} s CPU); load average {os.getloadavg()[0]:.1f}")
        for name, target in TARGETS.items():
            median = statistics.median(t[0] for t in times[name])
            cpu = statistics.median(t[1] for t in times[name])
            ratio = median / info
            ratios = ", ".join(f"{t[0] / i[0]:.2f}" for t, i in zip(times[name], times["info"], strict=True))
            print(f"  {name:<15} {median:6.2f} s  {ratio:5.2f}× info  (target ≤ {target:g}×) "
                  f"{'ok' if ratio <= target else 'OVER'};  CPU {cpu:6.2f} s  {cpu / info_cpu:5.2f}× info's CPU;"
                  f"  per round {ratios}")
        peak = report_memory(project, out)
        print(f"  report peak memory {peak:.0f} MB (target < 600 MB) {'ok' if peak < 600 else 'OVER'}")
        if args.study:
            study = [_run(["report", str(STUDY), "-o", str(out / "study.xlsx")])[0] for _ in range(args.repeat)]
            median = statistics.median(study)
            print(f"  study report    {median:6.2f} s  (target < 3 s) {'ok' if median < 3 else 'OVER'}")


if __name__ == "__main__":
    main()
