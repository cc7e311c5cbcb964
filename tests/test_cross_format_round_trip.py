"""Round trips across formats (issue 14): codebook -> project -> codebook, and every sample's
codebook part through .qdc.

Oracle: the input model itself (``read(write(p)) == p``); equality compares content, not the
root element (``is_codebook``) or provenance.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest

import qdx
from qdx.errors import LossyConversionWarning
from qdx.model import Project, iter_codes
from tests.conftest import FIXTURES, refi_sample_files

CODEBOOKS = sorted(FIXTURES.rglob("*.qdc"))


def through(project: Project, fmt: str) -> Project:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LossyConversionWarning)
        qdx.write(project, buf, fmt=fmt)
    return qdx.read(io.BytesIO(buf.getvalue()), fmt=fmt)


@pytest.mark.parametrize("path", CODEBOOKS, ids=lambda p: p.name)
@pytest.mark.parametrize("fmt", ["qdpx", "qde"])
def test_codebook_to_project_to_codebook(path: Path, fmt: str) -> None:
    codebook = qdx.read(path)
    assert codebook.is_codebook and codebook.codes
    as_project = through(codebook, fmt)
    assert not as_project.is_codebook  # it is a Project now...
    assert as_project == codebook  # ...holding the same content
    back = through(as_project, "qdc")
    assert back.is_codebook and back == codebook


def _codebook_part(project: Project) -> tuple[object, ...]:
    codes = tuple((c.guid, c.name, c.color, c.description, c.is_codable, len(a)) for c, a in iter_codes(project.codes))
    sets = tuple((s.guid, s.name, s.member_codes) for s in project.sets if s.member_codes)
    return codes, sets


@pytest.mark.parametrize("path", refi_sample_files(), ids=lambda p: p.parent.name + "/" + p.name)
def test_every_sample_keeps_its_codebook_through_qdc(path: Path) -> None:
    project = qdx.read(path)
    if not project.codes:
        pytest.skip("no codes: a .qdc cannot be written (refused, see test_output_policy)")
    codebook = through(project, "qdc")
    assert _codebook_part(codebook) == _codebook_part(project)
    assert through(codebook, "qdpx") == codebook
