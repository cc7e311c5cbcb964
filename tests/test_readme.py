"""The README's library example runs as printed and prints what its comments promise."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_library_example_runs(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Library\n\n```python\n(.*?)```", readme, re.S)
    assert block is not None, "README lost its library example"
    code = block.group(1).replace('"fixtures/', f'"{ROOT.as_posix()}/fixtures/')
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp_path)  # the example writes merged.qdpx and for-nvivo.qdpx into the cwd
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    printed = out.getvalue().splitlines()
    assert printed[0] == "codepoint 20"
    assert printed[-1] == "True 8+2"
    assert printed[-2].startswith("0.725")
    assert (tmp_path / "merged.qdpx").exists() and (tmp_path / "for-nvivo.qdpx").exists()
