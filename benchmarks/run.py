"""Measure qdx against a baseline in the same run and print ratios (medians of repeats).

    python benchmarks/make_project.py --selections 1000 10000 100000 1000000
    python benchmarks/run.py --sizes 1000 10000 100000 --read-only 1000000 --repeat 3 [--write-results]

Every measurement runs in a fresh subprocess so peak memory (ru_maxrss) is that operation's
alone; the memory figure is the peak RSS minus the RSS after imports (and after the setup
line, e.g. reading the project an operation works on). Wall and CPU seconds are both
recorded: on a loaded machine CPU time is the steadier figure, so the ratios use the median
wall time and the table shows the CPU medians beside them. Baselines are measured in the same
run, interleaved with qdx's operations, so machine load hits both alike:

* read      ``qdx.read(.qde)``       vs ``lxml.etree.parse`` (time and tree memory), iterparse memory
* write     ``qdx.write(.qdpx)``     vs ``lxml.etree.tostring`` of the parsed tree + zipping it
* validate  parse + XSD + integrity  vs ``lxml.etree.parse`` + libxml2 XSD validation
* segments, diff, merge, agree, matrix: absolute seconds and the ratio to qdx's read time
* start-up  ``qdx --help``           vs ``python -c "import lxml.etree"``
* ``--read-only`` sizes: only read vs ``lxml.etree.parse``, and the ratio to the largest
  full size (the scaling check of issue 9)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
XSD = HERE.parent.parent / "shared" / "refi" / "schema" / "Project-mrt2019.xsd"
PYCACHE = "/tmp/qdx-bench-pycache"

# Each worker snippet gets `path` (the .qde) and `qdpx`; it sets `result` to keep objects alive.
SETUP = {
    "lxml-parse": "from lxml import etree",
    "lxml-iterparse": "from lxml import etree",
    "qdx-read": "import qdx, qdx.api, qdx.formats.refi",
    "lxml-tostring": "from lxml import etree; import zipfile, io; tree = etree.parse(path)",
    "qdx-write": "import qdx, tempfile, os; p = qdx.read(path); out = tempfile.mktemp(suffix='.qdpx')",
    "lxml-xsd": "from lxml import etree",
    "qdx-validate": "import qdx; from qdx.validation import validate_file",
    "qdx-segments": "import qdx; p = qdx.read(path)",
    "qdx-diff": "import qdx, dataclasses; p = qdx.read(path); q = _modified(p)",
    "qdx-merge": "import qdx, dataclasses; p = qdx.read(path); q = _modified(p)",
    "qdx-agree": "import qdx; p = qdx.read(path); q = _modified(p)",
    "qdx-matrix": "import qdx; p = qdx.read(path)",
}
OPS = {
    "lxml-parse": "result = etree.parse(path)",
    "lxml-iterparse": "n = 0\nfor _, el in etree.iterparse(path):\n    n += 1\n    el.clear()",
    "qdx-read": "result = qdx.read(path)",
    "lxml-tostring": (
        "data = etree.tostring(tree, xml_declaration=True, encoding='utf-8')\n"
        "buf = io.BytesIO()\n"
        "with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z: z.writestr('project.qde', data)"
    ),
    "qdx-write": "qdx.write(p, out); os.unlink(out)",
    # Schema compiled inside the timed part, as qdx's validate_file must do too.
    "lxml-xsd": "schema = etree.XMLSchema(etree.parse(XSD))\nok = schema.validate(etree.parse(path))",
    "qdx-validate": "result = validate_file(path)",
    "qdx-segments": "result = qdx.segments(p)",
    "qdx-diff": "result = qdx.diff(p, q)",
    "qdx-merge": "result = qdx.merge(p, q, policy='keep-both')",
    "qdx-agree": "result = qdx.agree(p, q)",
    "qdx-matrix": "result = qdx.matrix(p, rows='codes', cols='sources', value='references')",
}
HELPERS = '''
import dataclasses
def _modified(p):
    """A copy whose every tenth selection is one character shorter (a second coder)."""
    sources = []
    for s in p.sources:
        sels = tuple(dataclasses.replace(x, end=max(x.start, x.end - 1)) if i % 10 == 0 else x
                     for i, x in enumerate(getattr(s, "selections", ())))
        sources.append(dataclasses.replace(s, selections=sels))
    return dataclasses.replace(p, sources=tuple(sources))
'''
WORKER = """
import gc, json, resource, sys, time
path, qdpx, XSD = sys.argv[1], sys.argv[2], sys.argv[3]
{helpers}
{setup}
gc.collect()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.perf_counter(), time.process_time()
{op}
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "cpu": cpu, "mem_mb": (peak - base) / 1024}}))
"""


class Result(NamedTuple):
    """Medians over the repeats of one operation."""

    seconds: float
    cpu: float
    mem_mb: float


def bench_env(bytecode_cache: bool = True) -> dict[str, str]:
    """The environment of every measured process.

    Installed packages run from cached bytecode; a sandbox that sets PYTHONDONTWRITEBYTECODE
    would make every process recompile qdx's modules, which no user pays. The cache goes to
    /tmp (PYTHONPYCACHEPREFIX), never into the working tree.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if bytecode_cache:
        env["PYTHONPYCACHEPREFIX"] = PYCACHE
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="qdx-bench-nocache-")
    return env


def run_once(op: str, qde: Path) -> Result | None:
    """One fresh-process measurement of ``op`` on ``qde``; None when it fails."""
    code = WORKER.format(helpers=HELPERS, setup=SETUP[op], op=OPS[op])
    qdpx = qde.with_suffix(".qdpx")
    proc = subprocess.run(
        [sys.executable, "-c", code, str(qde), str(qdpx), str(XSD)], capture_output=True, text=True, env=bench_env()
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        print(f"  {op}: unavailable ({last})", file=sys.stderr)
        return None
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return Result(data["seconds"], data["cpu"], data["mem_mb"])


def measure_all(ops: list[str], qde: Path, repeat: int) -> dict[str, Result | None]:
    """Medians per operation; the repeats are interleaved (op1 op2 ... op1 op2 ...) so a
    burst of load from elsewhere hits qdx and its baselines alike."""
    samples: dict[str, list[Result]] = {op: [] for op in ops}
    failed: set[str] = set()
    for _ in range(repeat):
        for op in ops:
            if op in failed:
                continue
            found = run_once(op, qde)
            if found is None:
                failed.add(op)
            else:
                samples[op].append(found)
    return {op: None if op in failed else _median(samples[op]) for op in ops}


def _median(results: list[Result]) -> Result:
    return Result(
        statistics.median(r.seconds for r in results),
        statistics.median(r.cpu for r in results),
        statistics.median(r.mem_mb for r in results),
    )


def startup(repeat: int, bytecode_cache: bool = True) -> tuple[float, float]:
    """Median wall seconds of ``qdx --help`` and of ``python -c "import lxml.etree"``."""
    qdx_bin = str(Path(sys.executable).with_name("qdx"))
    commands = {"qdx": [qdx_bin, "--help"], "lxml": [sys.executable, "-c", "import lxml.etree"]}
    samples: dict[str, list[float]] = {"qdx": [], "lxml": []}
    env = bench_env(bytecode_cache)
    for cmd in commands.values():  # warm-up: fills the bytecode cache when there is one
        subprocess.run(cmd, capture_output=True, check=True, env=env)
    for _ in range(repeat):
        for name, cmd in commands.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, env=env)
            samples[name].append(time.perf_counter() - t0)
    return statistics.median(samples["qdx"]), statistics.median(samples["lxml"])


HEADER = [
    "| operation | qdx s | qdx CPU s | baseline s | baseline CPU s | ratio (wall) | ratio (CPU) "
    "| qdx MB | baseline MB |",
    "|---|---|---|---|---|---|---|---|---|",
]


def _row(name: str, ours: Result | None, base: Result | None, base_mem: bool = True) -> str:
    if ours is None:
        return f"| {name} | n/a | | | | | | | |"
    if base is None:
        return f"| {name} | {ours.seconds:.3f} | {ours.cpu:.3f} | | | | | {ours.mem_mb:.0f} | |"
    bmem = f"{base.mem_mb:.0f}" if base_mem else ""
    return (
        f"| {name} | {ours.seconds:.3f} | {ours.cpu:.3f} | {base.seconds:.3f} | {base.cpu:.3f} "
        f"| {ours.seconds / base.seconds:.2f}× | {ours.cpu / max(base.cpu, 1e-9):.2f}× "
        f"| {ours.mem_mb:.0f} | {bmem} |"
    )


def _memory_row(read: Result, parse: Result) -> str:
    share = read.mem_mb / max(parse.mem_mb, 1)
    return f"| read peak memory / lxml tree memory | | | | | {share:.2f}× | | {read.mem_mb:.0f} | {parse.mem_mb:.0f} |"


def _title(n: int, qde: Path, note: str = "") -> list[str]:
    return [f"\n### {n:,} selections ({qde.stat().st_size / 1e6:.1f} MB project.qde){note}\n", *HEADER]


def _data(n: int) -> Path:
    qde = DATA / f"bench-{n}.qde"
    if not qde.exists():
        raise SystemExit(f"{qde} missing: run benchmarks/make_project.py --selections {n}")
    print(f"size {n}: {qde.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
    return qde


def bench_size(n: int, repeat: int) -> tuple[list[str], Result | None, Result | None]:
    """Every operation at size ``n``: the table lines, qdx's read and lxml's parse results."""
    qde = _data(n)
    m = measure_all(list(OPS), qde, repeat)
    read, parse = m["qdx-read"], m["lxml-parse"]
    lines = _title(n, qde)
    lines.append(_row("read vs `lxml.etree.parse`", read, parse))
    if read and parse:
        lines.append(_memory_row(read, parse))
    lines.append(_row("read vs lxml iterparse (clearing)", read, m["lxml-iterparse"]))
    lines.append(_row("write .qdpx vs `tostring` + zip", m["qdx-write"], m["lxml-tostring"]))
    lines.append(_row("validate_file vs parse + libxml2 XSD", m["qdx-validate"], m["lxml-xsd"]))
    for op in ("qdx-segments", "qdx-diff", "qdx-merge", "qdx-agree", "qdx-matrix"):
        lines.append(_row(f"{op[4:]} (baseline: qdx read)", m[op], read, base_mem=False))
    return lines, read, parse


def bench_read_only(n: int, repeat: int, reference: tuple[int, Result | None, Result | None] | None) -> list[str]:
    """Read alone at size ``n`` (too big for every operation), and its scaling."""
    qde = _data(n)
    m = measure_all(["lxml-parse", "qdx-read"], qde, repeat)
    read, parse = m["qdx-read"], m["lxml-parse"]
    lines = _title(n, qde, ", read only")
    lines.append(_row("read vs `lxml.etree.parse`", read, parse))
    if read and parse:
        lines.append(_memory_row(read, parse))
    if reference is not None:
        size, ref, ref_parse = reference
        # The scaling check: how much longer than at the smaller size, for qdx and for lxml.
        lines.append(_row(f"qdx read vs qdx read of {size:,} selections", read, ref, base_mem=False))
        lines.append(_row(f"lxml parse vs lxml parse of {size:,} selections", parse, ref_parse, base_mem=False))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description="qdx benchmarks (ratios against baselines)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--read-only", type=int, nargs="*", default=[], help="sizes measured for read alone")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write-results", action="store_true", help="write benchmarks/RESULTS.md")
    args = parser.parse_args()
    lines = [
        "# qdx benchmark results",
        "",
        f"Machine: {_machine()}; medians of {args.repeat} runs, each in a fresh process,",
        "qdx and baselines interleaved. Produced by `python benchmarks/run.py"
        f" --sizes {' '.join(map(str, args.sizes))}"
        + (f" --read-only {' '.join(map(str, args.read_only))}" if args.read_only else "")
        + f" --repeat {args.repeat}`.",
        "Memory: peak RSS of the operation minus RSS after imports and setup, in a fresh process.",
        "Processes run with a bytecode cache (PYTHONPYCACHEPREFIX in /tmp), as an installed package does.",
        "Ratios: qdx / baseline (wall-clock medians, and CPU-time medians).",
    ]
    warm = min(args.sizes)
    print(f"warming the bytecode cache on {warm} selections", file=sys.stderr)
    warm_qde = _data(warm)
    for op in OPS:  # the first process to import a module compiles it; no one is timed doing so
        run_once(op, warm_qde)
    reference: tuple[int, Result | None, Result | None] | None = None
    for n in args.sizes:
        table, read, parse = bench_size(n, args.repeat)
        lines.extend(table)
        reference = (n, read, parse)
    for n in args.read_only:
        lines.extend(bench_read_only(n, args.repeat, reference))
    ours, base = startup(max(args.repeat, 5))
    cold, cold_base = startup(max(args.repeat, 5), bytecode_cache=False)
    lines += [
        "\n### Start-up\n",
        "| command | seconds | baseline | ratio |",
        "|---|---|---|---|",
        f"| `qdx --help` vs `python -c 'import lxml.etree'` | {ours:.3f} | {base:.3f} | {ours / base:.2f}× |",
        f"| the same without a bytecode cache (every module compiled) | {cold:.3f} | {cold_base:.3f} "
        f"| {cold / cold_base:.2f}× |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write_results:
        (HERE / "RESULTS.md").write_text(text, encoding="utf-8")


def _machine() -> str:
    from lxml import etree

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), cpu)
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count() or 1} cores, Linux {platform.release()}, "
        f"{platform.python_implementation()} {platform.python_version()}, lxml {etree.__version__} "
        f"(libxml2 {'.'.join(map(str, etree.LIBXML_VERSION))}); load average {load:.1f} at start"
    )


if __name__ == "__main__":
    main()
