"""Fuzzing the readers: mutated real files end in a Project or a QdxError, never anything else.

Seeds are the bundled study (always) and the vendor samples under ../shared (when present).
The mutations (tests/_fuzz_mutate.py) are bit flips, truncation, byte-range deletion and
duplication on the stored bytes, and element deletion, duplication, moving, deep nesting,
attribute and text corruption on the XML (inside the zip, re-zipped, and on bare .qde/.qdc).

CI settings are deterministic and bounded (``derandomize=True``, no example database, a few
hundred examples in ~20 s); ``scripts/fuzz.py`` runs the same mutations for tens of thousands.
The regression tests at the end pin each crash the long runs found.
"""

from __future__ import annotations

import importlib.util
import io
import struct
import sys
import tempfile
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qdx
from qdx.errors import QdxError, ReadError
from tests.conftest import STUDY, refi_sample_files


def _load_mutations() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_fuzz_mutate", Path(__file__).parent / "_fuzz_mutate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("_fuzz_mutate", module)  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


fm = _load_mutations()

# Small and medium seeds keep CI fast; the 1-2 MB NVivo samples are left to scripts/fuzz.py.
CI_SEED_LIMIT = 200_000
SEEDS = [
    fm.Seed(p.name, p.read_bytes())
    for p in [*refi_sample_files(), *sorted(STUDY.glob("*.qdpx")), *sorted(STUDY.glob("*.qdc"))]
    if p.stat().st_size <= CI_SEED_LIMIT
]
ZIP_SEEDS = [s for s in SEEDS if s.is_zip]

CI = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

u32 = st.integers(min_value=0, max_value=2**32 - 1)


def ops_of(kinds: tuple[str, ...]) -> st.SearchStrategy[list[tuple[str, int, int, int]]]:
    return st.lists(st.tuples(st.sampled_from(kinds), u32, u32, u32), min_size=1, max_size=3)


def assert_project_or_qdx_error(seed: fm.Seed, data: bytes, *, deep: bool = False) -> None:
    with tempfile.TemporaryDirectory() as folder:
        outcome = fm.check(data, seed.name, folder, deep=deep)
    assert outcome == "project" or outcome.startswith("error:")


def test_seeds_are_read_unmutated() -> None:
    """Without mutation every seed is a project (else the fuzz tests prove nothing)."""
    assert len(SEEDS) >= 3
    for seed in SEEDS:
        with tempfile.TemporaryDirectory() as folder:
            assert fm.check(seed.data, seed.name, folder, deep=True) == "project", seed.name


@CI
@given(seed=st.sampled_from(ZIP_SEEDS), ops=ops_of(fm.BYTE_KINDS))
def test_zip_bytes_mutations(seed: fm.Seed, ops: list[tuple[str, int, int, int]]) -> None:
    """Bit flips, truncation, deleted or repeated byte ranges anywhere in a .qdpx."""
    assert_project_or_qdx_error(seed, fm.apply(seed, ops))


@CI
@given(seed=st.sampled_from(SEEDS), ops=ops_of(fm.XML_KINDS + fm.XML_BYTE_KINDS))
def test_xml_mutations(seed: fm.Seed, ops: list[tuple[str, int, int, int]]) -> None:
    """Deleted, duplicated, misplaced, deeply nested elements and corrupt attributes, then the
    user's next steps (summary, segments, write and re-read) on whatever was read."""
    assert_project_or_qdx_error(seed, fm.apply(seed, ops), deep=True)


@CI
@given(seed=st.sampled_from(ZIP_SEEDS), ops=ops_of(fm.ZIP_KINDS + fm.XML_KINDS))
def test_zip_member_mutations(seed: fm.Seed, ops: list[tuple[str, int, int, int]]) -> None:
    """Members deleted, duplicated, renamed (zip slip, second .qde) or with damaged bytes."""
    assert_project_or_qdx_error(seed, fm.apply(seed, ops), deep=True)


def test_mutations_do_change_the_input() -> None:
    """A mutation engine that returned its seed would make every test above pass vacuously."""
    seed = next(s for s in SEEDS if s.name == "project.qdpx")
    for kind in fm.ALL_KINDS:
        assert fm.apply(seed, [(kind, 12345, 678, 9)]) != seed.data, kind


# --------------------------------------------------------------------------- regressions


def _zip_one(data: bytes, name: str = "project.qde") -> bytearray:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return bytearray(out.getvalue())


PROJECT = b'<Project name="x" xmlns="urn:QDA-XML:project:1.0"><Users/></Project>' * 1


def test_regression_corrupt_deflate_stream_is_a_read_error() -> None:
    """fuzz.py crash 1: zipfile let zlib.error escape SafeZip.read (not a QdxError)."""
    raw = _zip_one(PROJECT)
    name_len, extra_len = struct.unpack("<HH", raw[26:30])
    raw[30 + name_len + extra_len] = 0x07  # deflate block type 11: reserved, "invalid block type"
    with pytest.raises(ReadError, match=r"project\.qde: zip entry cannot be read"):
        qdx.read(io.BytesIO(bytes(raw)), fmt="qdpx")


@pytest.mark.parametrize("method", [12, 14])  # bzip2, LZMA: decompressors with their own errors
def test_regression_wrong_compression_method_is_a_read_error(method: int) -> None:
    raw = _zip_one(PROJECT)
    central = raw.find(b"PK\x01\x02")
    raw[8:10] = raw[central + 10 : central + 12] = struct.pack("<H", method)
    with pytest.raises(QdxError, match="zip entry cannot be read"):
        qdx.read(io.BytesIO(bytes(raw)), fmt="qdpx")
