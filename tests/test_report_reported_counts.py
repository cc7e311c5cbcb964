"""`qdx report` on a codebook export agrees with `qdx audit` on how often codes were applied
(issue 14): both use the counts the export reports; neither invents zeros.

Oracle: the Codebook.docx table itself, read with python-docx (References/Files columns).
"""

from __future__ import annotations

from pathlib import Path

import docx
import openpyxl

import qdx
from qdx.report.excel import write_report_file
from qdx.validation.audit import audit
from tests.conftest import NVIVO_SAMPLES, need_shared


def test_report_shows_the_reported_counts_the_audit_uses(tmp_path: Path) -> None:
    path = need_shared(NVIVO_SAMPLES / "JamMack_value-alignment-survey" / "Codebook.docx")
    table = docx.Document(str(path)).tables[0]
    header = [c.text.strip() for c in table.rows[0].cells]
    name_col, refs_col, files_col = header.index("Name"), header.index("References"), header.index("Files")
    expected = {}
    for row in table.rows[1:]:
        cells = [c.text.strip() for c in row.cells]
        expected.setdefault(cells[name_col], (int(cells[refs_col]), int(cells[files_col])))
    out = tmp_path / "r.xlsx"
    write_report_file(qdx.read(path), out)
    sheet = openpyxl.load_workbook(out)["Codebook"]
    rows = list(sheet.iter_rows(values_only=True))
    head = list(rows[0])
    level_cols = head.index("level")
    refs, files = head.index("references"), head.index("sources")
    seen = 0
    for row in rows[1:]:
        name = next(v for v in row[:level_cols] if v)
        if name in expected:
            assert (row[refs], row[files]) == expected[name], name
            seen += 1
    assert seen >= 500
    # The audit counts the same: a code it calls applied once has 1 reference in the report.
    once = {f.code_path.split("/")[-1] for f in audit(qdx.read(path)) if f.rule == "CB2"}
    assert once and all(expected[name][0] == 1 for name in once if name in expected)
    matrix = openpyxl.load_workbook(out)["Matrix"]
    assert "no coding data" in str(matrix["A2"].value)
