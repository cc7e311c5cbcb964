"""The same read measured with qdx and with other Python REFI-QDA readers, side by side.

    python benchmarks/make_project.py --selections 1000 100000
    python benchmarks/peers.py --sizes 1000 100000 --repeat 3 [--write-results]

Each peer lives in its own virtual environment under ``/tmp/qdx-peers/<name>``, made on first
use with ``python -m venv`` and ``pip install <name>`` from PyPI; a peer that cannot be
installed is reported as unavailable, not silently dropped. pyqdpx needs Python >= 3.12 (its
source uses PEP 701 f-strings), so its environment is made with the first python3.12+ found.

Every measurement runs in a fresh process (wall seconds, CPU seconds, peak RSS minus the RSS
after imports) and also reports what the reader saw - sources and text selections - so a reader
that skips data cannot look fast. Runs are interleaved (qdx, peer, ..., qdx, peer, ...) so load
from elsewhere hits all alike. ``--write-results`` replaces the "Other readers" section of
benchmarks/RESULTS.md (written by run.py) with this table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
VENVS = Path("/tmp/qdx-peers")
SECTION = "## Other readers"

WORKER = """
import gc, json, resource, sys, tempfile, time
qdpx = sys.argv[1]
{setup}
gc.collect()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.perf_counter(), time.process_time()
{op}
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
{count}
print(json.dumps({{"seconds": seconds, "cpu": cpu, "mem_mb": (peak - base) / 1024,
                  "sources": sources, "selections": selections, "version": version}}))
"""


@dataclass(frozen=True)
class Peer:
    """A reader: its PyPI name (None: runs in this interpreter) and the worker's code."""

    name: str
    package: str | None
    setup: str
    op: str
    count: str
    min_python: tuple[int, int] = (3, 8)


PEERS = (
    Peer(
        "qdx",
        None,
        "import qdx; version = __import__('importlib.metadata').metadata.version('qdx')",
        "result = qdx.read(qdpx)",
        "sources = len(result.sources)\n"
        "selections = sum(len(getattr(s, 'selections', ())) for s in result.sources)",
    ),
    Peer(
        "lxml.etree.fromstring (project.qde from the zip, no model)",
        None,
        "import zipfile; from lxml import etree; version = '.'.join(map(str, etree.LXML_VERSION))",
        "with zipfile.ZipFile(qdpx) as z: result = etree.fromstring(z.read('project.qde'))",
        "sources = len(result.findall('{*}Sources/{*}TextSource'))\n"
        "selections = len(result.findall('{*}Sources/{*}TextSource/{*}PlainTextSelection'))",
    ),
    Peer(
        "pyqdpx",
        "pyqdpx",
        "from pyqdpx import QDPX; version = __import__('importlib.metadata').metadata.version('pyqdpx')",
        "result = QDPX(qdpx).get_project()",
        "sources = len(result.sources)\n"
        "selections = sum(len(s.coded_selections) for s in result.sources.values())",
        min_python=(3, 12),
    ),
    Peer(
        "pyrefiqda",
        "pyrefiqda",
        "from pyrefiqda.refiproject import RefiProject\n"
        "version = __import__('importlib.metadata').metadata.version('pyrefiqda')\n"
        "out = tempfile.mkdtemp()",
        # Its load() unzips the archive to a folder, then parses the XML into pydantic models.
        "result = RefiProject.load(qdpx, extract_dir=out)",
        "texts = result.sources.text_source if result.sources else []\n"
        "sources = len(texts)\n"
        "selections = sum(len(s.plain_text_selection) for s in texts)",
    ),
)


@dataclass(frozen=True)
class Sample:
    seconds: float
    cpu: float
    mem_mb: float
    sources: int
    selections: int
    version: str


def _python_for(peer: Peer) -> str | None:
    """This Python if it is new enough, else the first python3.N (N >= needed) that runs."""
    if sys.version_info[:2] >= peer.min_python:
        return sys.executable
    major, least = peer.min_python
    for minor in range(least, 20):
        names = [shutil.which(f"python{major}.{minor}")]
        pattern = f".pyenv/versions/{major}.{minor}.*/bin/python{major}.{minor}"
        names += sorted(str(p) for p in Path.home().glob(pattern))
        for name in names:
            if name and subprocess.run([name, "--version"], capture_output=True).returncode == 0:
                return name
    return None


def interpreter(peer: Peer) -> str | None:
    """The Python that runs ``peer``: this one, or its own venv (made on first use)."""
    if peer.package is None:
        return sys.executable
    venv = VENVS / peer.package
    python = venv / "bin" / "python"
    if python.exists():
        return str(python)
    base = _python_for(peer)
    if base is None:
        print(f"  {peer.name}: no Python >= {'.'.join(map(str, peer.min_python))} to install it", file=sys.stderr)
        return None
    print(f"  installing {peer.package} into {venv} ...", file=sys.stderr)
    steps = [[base, "-m", "venv", str(venv)], [str(python), "-m", "pip", "install", "-q", peer.package]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["?"])[-1]
            print(f"  {peer.name}: cannot be installed ({last})", file=sys.stderr)
            shutil.rmtree(venv, ignore_errors=True)
            return None
    return str(python)


def _env() -> dict[str, str]:
    """Every reader runs from cached bytecode, as installed packages do (cache kept in /tmp)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    env["PYTHONPYCACHEPREFIX"] = "/tmp/qdx-bench-pycache"
    return env


def run_once(peer: Peer, python: str, qdpx: Path, timeout: float) -> Sample | str:
    """One fresh-process read; a string says why it failed."""
    code = WORKER.format(setup=peer.setup, op=peer.op, count=peer.count)
    try:
        proc = subprocess.run(
            [python, "-c", code, str(qdpx)], capture_output=True, text=True, timeout=timeout, env=_env()
        )
    except subprocess.TimeoutExpired:
        return f"did not finish in {timeout:.0f} s"
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["?"])[-1]
    return Sample(**json.loads(proc.stdout.strip().splitlines()[-1]))


def bench(n: int, repeat: int, timeout: float) -> list[str]:
    """The table for the ``bench-N.qdpx`` project."""
    qdpx = DATA / f"bench-{n}.qdpx"
    if not qdpx.exists():
        raise SystemExit(f"{qdpx} missing: run benchmarks/make_project.py --selections {n}")
    pythons = {peer.name: interpreter(peer) for peer in PEERS}
    samples: dict[str, list[Sample]] = {peer.name: [] for peer in PEERS}
    failed: dict[str, str] = {p.name: "not installable" for p in PEERS if pythons[p.name] is None}
    for round_ in range(repeat + 1):  # round 0 warms the bytecode caches and is not counted
        for peer in PEERS:
            python = pythons[peer.name]
            if python is None or peer.name in failed:
                continue
            print(f"  {n}: {peer.name}", file=sys.stderr)
            got = run_once(peer, python, qdpx, timeout)
            if isinstance(got, str):
                failed[peer.name] = got
            elif round_:
                samples[peer.name].append(got)
    return _table(n, qdpx, samples, failed)


def _table(n: int, qdpx: Path, samples: dict[str, list[Sample]], failed: dict[str, str]) -> list[str]:
    lines = [
        f"\n### {n:,} selections ({qdpx.stat().st_size / 1e6:.1f} MB .qdpx)\n",
        "| reader | version | s | CPU s | peak MB | time / qdx | sources | text selections |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ours = statistics.median(s.seconds for s in samples["qdx"]) if samples["qdx"] else None
    for peer in PEERS:
        got = samples[peer.name]
        if not got:
            lines.append(f"| {peer.name} | | n/a: {failed.get(peer.name, '?')} | | | | | |")
            continue
        wall = statistics.median(s.seconds for s in got)
        cpu = statistics.median(s.cpu for s in got)
        mem = statistics.median(s.mem_mb for s in got)
        ratio = f"{wall / ours:.2f}×" if ours else ""
        last = got[-1]
        lines.append(
            f"| {peer.name} | {last.version} | {wall:.3f} | {cpu:.3f} | {mem:.0f} | {ratio} "
            f"| {last.sources:,} | {last.selections:,} |"
        )
    return lines


def _write(lines: list[str], repeat: int) -> None:
    results = HERE / "RESULTS.md"
    old = results.read_text(encoding="utf-8") if results.exists() else "# qdx benchmark results\n"
    kept = old.split(f"\n{SECTION}\n")[0].rstrip("\n")
    intro = (
        f"\n\n{SECTION}\n\nThe same `.qdpx` read by each reader in a fresh process (`benchmarks/peers.py`, "
        f"medians of {repeat}); peers run in their own virtual environments. Counts show what each reader saw."
    )
    results.write_text(kept + intro + "\n" + "\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description="qdx read vs other Python REFI-QDA readers")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a run is given up")
    parser.add_argument("--write-results", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    lines: list[str] = []
    for n in args.sizes:
        lines.extend(bench(n, args.repeat, args.timeout))
    print("\n".join(lines))
    if args.write_results:
        _write(lines, args.repeat)


if __name__ == "__main__":
    main()
