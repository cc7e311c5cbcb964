"""Shared test helpers: where ../shared is, and skipping cleanly when it is absent."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
STUDY = FIXTURES / "wechat-moments"
SHARED = ROOT.parent / "shared"
REFI_SAMPLES = SHARED / "refi" / "samples"
REFI_SCHEMA = SHARED / "refi" / "schema"
NVIVO_SAMPLES = SHARED / "nvivo"


def need_shared(path: Path) -> Path:
    """Return ``path`` or skip the test when ../shared (a developer-only folder) is absent."""
    if not path.exists():
        pytest.skip(f"{path} not available (../shared is only on developer machines)")
    return path


def refi_sample_files() -> list[Path]:
    """Every .qdpx/.qde under ../shared/refi/samples and ../shared/nvivo (empty if absent)."""
    found: list[Path] = []
    for folder in (REFI_SAMPLES, NVIVO_SAMPLES):
        if folder.exists():
            found.extend(sorted(p for p in folder.rglob("*") if p.suffix.lower() in {".qdpx", ".qde"}))
    return found


def load_module(path: Path, name: str) -> ModuleType:
    """Import a script that is not part of a package (fixture generators, test helpers).

    Tests run with --import-mode=importlib, so sibling files are not importable by name. The
    module is registered in sys.modules (dataclasses look their module up while being built)
    and loaded once per name.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
