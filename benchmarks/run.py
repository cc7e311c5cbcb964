"""Measure qdx against a baseline in the same run and print ratios (medians of repeats).

    python benchmarks/make_project.py --selections 1000 10000 100000
    python benchmarks/run.py --sizes 1000 10000 100000 --repeat 3 [--write-results]

Every measurement runs in a fresh subprocess so peak memory (ru_maxrss) is that operation's
alone; the memory figure is the peak RSS minus the RSS after imports. Baselines:

* read      ``qdx.read(.qde)``       vs ``lxml.etree.parse`` (time and tree memory), iterparse memory
* write     ``qdx.write(.qdpx)``     vs ``lxml.etree.tostring`` of the parsed tree + zipping it
* validate  parse + XSD + integrity  vs ``lxml.etree.parse`` + libxml2 XSD validation
* segments, diff, merge, agree, matrix: absolute seconds and the ratio to qdx's read time
* start-up  ``qdx --help``           vs ``python -c "import lxml.etree"``
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
XSD = HERE.parent.parent / "shared" / "refi" / "schema" / "Project-mrt2019.xsd"

# Each worker snippet gets `path` (the .qde) and `qdpx`; it sets `result` to keep objects alive.
SETUP = {
    "lxml-parse": "from lxml import etree",
    "lxml-iterparse": "from lxml import etree",
    "qdx-read": "import qdx, qdx.api, qdx.formats.refi",
    "lxml-tostring": "from lxml import etree; import zipfile, io; tree = etree.parse(path)",
    "qdx-write": "import qdx, tempfile, os; p = qdx.read(path); out = tempfile.mktemp(suffix='.qdpx')",
    "lxml-xsd": "from lxml import etree; schema = etree.XMLSchema(etree.parse(XSD))",
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
    "lxml-xsd": "ok = schema.validate(etree.parse(path))",
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
import json, resource, sys, time
path, qdpx, XSD = sys.argv[1], sys.argv[2], sys.argv[3]
{helpers}
{setup}
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
{op}
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "mem_mb": (peak - base) / 1024}}))
"""


def measure(op: str, qde: Path, repeat: int) -> tuple[float, float] | None:
    """Median seconds and median peak-memory MB of ``op``; None when it is unavailable."""
    code = WORKER.format(helpers=HELPERS, setup=SETUP[op], op=OPS[op])
    times, mems = [], []
    for _ in range(repeat):
        qdpx = qde.with_suffix(".qdpx")
        proc = subprocess.run(
            [sys.executable, "-c", code, str(qde), str(qdpx), str(XSD)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            print(f"  {op}: unavailable ({last})", file=sys.stderr)
            return None
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        times.append(data["seconds"])
        mems.append(data["mem_mb"])
    return statistics.median(times), statistics.median(mems)


def startup(repeat: int) -> tuple[float, float]:
    def run(cmd: list[str]) -> float:
        samples = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True)
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples)

    qdx_bin = str(Path(sys.executable).with_name("qdx"))
    return run([qdx_bin, "--help"]), run([sys.executable, "-c", "import lxml.etree"])


def _row(name: str, ours: tuple[float, float] | None, base: tuple[float, float] | None) -> str:
    if ours is None:
        return f"| {name} | n/a | | | | |"
    ratio = f"{ours[0] / base[0]:.2f}×" if base else ""
    btime = f"{base[0]:.3f}" if base else ""
    return (
        f"| {name} | {ours[0]:.3f} | {btime} | {ratio} | {ours[1]:.0f} | {base[1]:.0f} |"
        if base
        else (f"| {name} | {ours[0]:.3f} | | | {ours[1]:.0f} | |")
    )


def bench_size(n: int, repeat: int) -> list[str]:
    qde = DATA / f"bench-{n}.qde"
    if not qde.exists():
        raise SystemExit(f"{qde} missing: run benchmarks/make_project.py --selections {n}")
    print(f"size {n}: {qde.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
    m = {op: measure(op, qde, repeat) for op in OPS}
    lines = [
        f"\n### {n:,} selections ({qde.stat().st_size / 1e6:.1f} MB project.qde)\n",
        "| operation | qdx s | baseline s | ratio | qdx MB | baseline MB |",
        "|---|---|---|---|---|---|",
    ]
    lines.append(_row("read vs lxml.etree.parse", m["qdx-read"], m["lxml-parse"]))
    if m["qdx-read"] and m["lxml-iterparse"]:
        lines.append(
            f"| read memory vs iterparse | | | | {m['qdx-read'][1]:.0f} | {m['lxml-iterparse'][1]:.0f} |"
        )
    if m["qdx-read"] and m["lxml-parse"]:
        lines.append(
            f"| read memory / lxml tree memory | | | {m['qdx-read'][1] / max(m['lxml-parse'][1], 1):.2f}× | | |"
        )
    lines.append(_row("write vs tostring + zip", m["qdx-write"], m["lxml-tostring"]))
    xsd_base = None
    if m["lxml-parse"] and m["lxml-xsd"]:
        xsd_base = (m["lxml-xsd"][0], m["lxml-xsd"][1])
    lines.append(_row("validate vs parse + libxml2 XSD", m["qdx-validate"], xsd_base))
    read = m["qdx-read"]
    for op in ("qdx-segments", "qdx-diff", "qdx-merge", "qdx-agree", "qdx-matrix"):
        res = m[op]
        if res is None:
            lines.append(f"| {op[4:]} | n/a | | | | |")
        elif read:
            lines.append(
                f"| {op[4:]} (ratio to read) | {res[0]:.3f} | {read[0]:.3f} "
                f"| {res[0] / read[0]:.2f}× | {res[1]:.0f} | |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description="qdx benchmarks (ratios against baselines)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write-results", action="store_true", help="write benchmarks/RESULTS.md")
    args = parser.parse_args()
    lines = [
        "# qdx benchmark results",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {_cpus()} cores, Linux {platform.release()}; medians of {args.repeat} runs.",
        "Memory: peak RSS of the operation minus RSS after imports, in a fresh process.",
    ]
    for n in args.sizes:
        lines.extend(bench_size(n, args.repeat))
    ours, base = startup(max(args.repeat, 5))
    lines += [
        "\n### Start-up\n",
        "| command | seconds | baseline | ratio |",
        "|---|---|---|---|",
        f"| `qdx --help` vs `python -c 'import lxml.etree'` | {ours:.3f} | {base:.3f} | {ours / base:.2f}× |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write_results:
        (HERE / "RESULTS.md").write_text(text, encoding="utf-8")


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
