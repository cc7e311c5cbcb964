"""Shared test helpers: where ../shared is, and skipping cleanly when it is absent."""

from __future__ import annotations

from pathlib import Path

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
