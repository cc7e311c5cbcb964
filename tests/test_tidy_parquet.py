"""The parquet export's own route (plain columns → Arrow, no pandas) against pandas itself.

qdx/report/arrow_tables.py predicts the Arrow table ``pa.Table.from_pandas`` makes of a
DataFrame of plain columns; the oracle here is pandas and pyarrow doing exactly that. The
whole export (qdx/report/tidy_parquet.py) must write what ``export_tables(frames(p))`` writes,
also for passages of every kind of source, filters, and duplicate coding GUIDs.
"""

from __future__ import annotations

import dataclasses
import enum
import errno
import threading
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qdx.model import (
    AudioSource,
    Code,
    Coding,
    Guid,
    PDFSelection,
    PDFSource,
    Project,
    SyncPoint,
    TextSelection,
    TextSource,
    Transcript,
    TranscriptSelection,
    User,
)
from qdx.report.arrow_tables import arrow_table
from qdx.report.frames import frames
from qdx.report.output import export_tables
from qdx.report.tidy_parquet import export_parquet

TABLES = ("codes", "sources", "cases", "segments", "codings")


class _Spelled(str):
    """A str subclass whose str() is not its characters: pandas writes its characters."""

    def __str__(self) -> str:
        return "other"


class _Label(enum.StrEnum):
    FIRST = "first label"


CERTAIN: dict[str, list[object]] = {
    "text": ["a", "b", "c"],
    "text_missing": ["a", None, "c"],
    "wide_text": ["naïve", "朋友圈 😂", "e\u0301\u200d"],  # 2-, 3-, 4-byte UTF-8 and a combining mark
    "none": [None, None, None],
    "ints": [1, -(2**63), 2**63 - 1],
    "bools": [True, False, True],
    "subclassed": [_Spelled("a"), Guid("{AB}"), _Label.FIRST],
    "subclassed_missing": [_Spelled("a"), None, _Label.FIRST],
    "nul_inside": ["a\0b", "", "c"],  # NUL in a text: each encoded on its own
}


def _pandas(columns: dict[str, list[object]], ints: tuple[str, ...] = ()) -> pa.Table:
    data: dict[str, object] = dict(columns)
    for col in ints:
        data[col] = pd.array(columns[col], dtype=pd.Int64Dtype())
    return pa.Table.from_pandas(pd.DataFrame(data), preserve_index=False)


def test_plain_columns_become_the_table_pandas_makes() -> None:
    columns = {**CERTAIN, "positions": [3, None, 0]}
    got = arrow_table(columns, ("positions",))
    assert got is not None
    assert got.equals(_pandas(columns, ("positions",)), check_metadata=True)


def test_long_columns_encoded_piece_by_piece_equal_pandas() -> None:
    # Text is encoded a few thousand values at a time: values on both sides of each piece's
    # border, a piece holding a NUL (encoded one by one) between pieces that do not, emoji,
    # and a column whose last value is missing (text up to there, then the typed route).
    size = 10_001
    columns: dict[str, list[object]] = {
        "text": [f"{i} na\u00efve \U0001f600" if i % 4096 else f"{i}\0nul" for i in range(size)],
        "ascii": [f"row {i}" for i in range(size)],
        "late_gap": [*(f"v{i}" for i in range(size - 1)), None],
    }
    got = arrow_table(columns)
    assert got is not None
    assert got.equals(_pandas(columns), check_metadata=True)


def test_guids_are_written_as_their_spelling() -> None:
    spelled = ["{ABC-1}", "abc-2", None]
    got = arrow_table({"guid": [Guid(v) if v else None for v in spelled]})
    assert got is not None
    assert got.equals(_pandas({"guid": list(spelled)}), check_metadata=True)


def test_an_empty_table_keeps_its_columns_as_pandas_does() -> None:
    # No rows: the columns of ``pd.DataFrame([], columns=...)`` (object: Arrow null), as the
    # tables of an empty project have always been written.
    got = arrow_table({"text": [], "name": []})
    assert got is not None
    frame = pd.DataFrame([], columns=["text", "name"])
    assert got.equals(pa.Table.from_pandas(frame, preserve_index=False), check_metadata=True)


@pytest.mark.parametrize("values", [
    [1.5, 2.0],            # floats
    [1, None],             # a missing number: pandas makes it float64
    [True, None],          # a missing boolean: object
    [1, "a"],              # mixed kinds
    [1, True],             # bool is not int to pandas
    [2**63, 1],            # beyond int64
    ["ok", "\ud800"],      # a lone surrogate cannot be UTF-8
])
def test_a_column_pandas_would_type_otherwise_is_left_to_pandas(values: list[object]) -> None:
    assert arrow_table({"x": values}) is None


def _mixed() -> Project:
    """Text (stored out of order, one range outside its text), transcript, PDF regions (one in
    the PDF's text, one not), a coding of a whole source, two codings on one selection, and a
    coding GUID used twice by different users."""

    def g(n: int) -> Guid:
        return Guid(f"00000000-0000-4000-8000-{n:012d}")

    users = (User(guid=g(2), name="ann"), User(guid=g(3), name="bo"))
    code = Code(guid=g(1), name="c", children=(Code(guid=g(4), name="d"),))

    def coded(n: int, user: int = 0, code_guid: Guid | None = None) -> tuple[Coding, ...]:
        return (Coding(guid=g(500 + n), code=code_guid or g(4), creating_user=users[user].guid,
                       creation_datetime=f"2024-01-0{1 + n % 9}T00:00:00Z"),)

    transcript = Transcript(
        guid=g(12), text="Interviewer: hello.\nAnna: I never post.\n",
        sync_points=(SyncPoint(guid=g(10), time_stamp=0, position=20),
                     SyncPoint(guid=g(11), time_stamp=900, position=39)),
        selections=(TranscriptSelection(guid=g(13), from_sync_point=g(10), to_sync_point=g(11), codings=coded(1)),),
    )
    region = PDFSelection(guid=g(20), page=1, first_x=0, first_y=0, second_x=5, second_y=5, codings=coded(2, 1),
                          representation=TextSource(guid=g(21), text="The region says this."))
    lone = PDFSelection(guid=g(22), page=2, first_x=0, first_y=0, second_x=5, second_y=5, codings=coded(3),
                        representation=TextSource(guid=g(23), text="Not in the whole text."))
    doc = TextSource(
        guid=g(30), name="t", text="alpha don't 1,000 naïve 朋友",
        selections=(TextSelection(guid=g(31), start=6, end=17, codings=coded(4) + coded(6, 1, g(1))),
                    TextSelection(guid=g(32), start=0, end=5, codings=coded(5, 1)),
                    TextSelection(guid=g(33), start=20, end=99, codings=coded(7)),
                    TextSelection(guid=g(34), start=18, end=26, codings=coded(4, 1))),  # GUID of 504 again
        codings=coded(8),
    )
    return Project(users=users, codes=(code,), sources=(
        doc, AudioSource(guid=g(40), name="a", transcripts=(transcript,)),
        PDFSource(guid=g(41), name="p", selections=(lone, region),
                  representation=TextSource(guid=g(42), text="Page one. The region says this. The end."))))


@pytest.mark.parametrize("coder", [None, "ann", "bo"])
def test_the_export_writes_what_the_dataframes_write(tmp_path: Path, coder: str | None) -> None:
    project = _mixed()
    _, rows = export_parquet(project, tmp_path / "fast", coder=coder)
    export_tables(frames(project, coder=coder), tmp_path / "frames", to="parquet")
    for name in TABLES:
        fast = pq.read_table(tmp_path / "fast" / f"{name}.parquet")
        assert fast.equals(pq.read_table(tmp_path / "frames" / f"{name}.parquet"), check_metadata=True), name
        assert rows[name] == fast.num_rows
    assert rows["segments"] > 0


def test_a_variable_with_gaps_goes_through_pandas_and_still_matches(tmp_path: Path) -> None:
    from qdx.model import ValueKind, Variable, VariableType, VariableValue

    project = _mixed()
    score = Variable(guid=Guid("00000000-0000-4000-8000-000000000900"), name="score", type=VariableType.FLOAT)
    valued = dataclasses.replace(project.sources[0], variable_values=(
        VariableValue(variable=score.guid, kind=ValueKind.FLOAT, value="2.5"),))
    project = dataclasses.replace(project, variables=(score,), sources=(valued, *project.sources[1:]))
    export_parquet(project, tmp_path / "fast")
    export_tables(frames(project), tmp_path / "frames", to="parquet")
    fast = pq.read_table(tmp_path / "fast" / "sources.parquet")
    assert fast.equals(pq.read_table(tmp_path / "frames" / "sources.parquet"), check_metadata=True)
    assert fast.schema.field("score").type == pa.float64()


def _written(tmp_path: Path) -> Path:
    import qdx

    path = tmp_path / "mixed.qdpx"
    qdx.write(_mixed(), path)
    return path


@pytest.mark.parametrize("existing", [False, True])
def test_a_table_failing_on_the_helper_thread_is_one_line_and_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool) -> None:
    # The large tables are encoded to Parquet on a helper thread while the next tables are
    # built; a failure there (the disk full) must still end the command with its one line and
    # exit 1, and leave the folder as it was: not created, or its old file untouched.
    from click.testing import CliRunner

    from qdx.cli import main

    path = _written(tmp_path)
    out = tmp_path / "tables"
    if existing:
        out.mkdir()
        (out / "segments.parquet").write_bytes(b"old")
    real = pq.write_table
    threads: list[str] = []

    def full(table: pa.Table, where: object, **options: object) -> None:
        if "text" in table.column_names:  # the segments table
            threads.append(threading.current_thread().name)
            raise OSError(errno.ENOSPC, "No space left on device")
        real(table, where, **options)

    monkeypatch.setattr(pq, "write_table", full)
    result = CliRunner().invoke(main, ["export", str(path), str(out), "--to", "parquet"])
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and "No space left on device" in result.output, result.output
    assert threads and threads[0] != threading.main_thread().name  # it did fail on the helper thread
    assert sorted(p.name for p in tmp_path.iterdir()) == (["mixed.qdpx", "tables"] if existing else ["mixed.qdpx"])
    if existing:
        assert [(p.name, p.read_bytes()) for p in out.iterdir()] == [("segments.parquet", b"old")]


def test_an_error_while_the_helper_thread_encodes_leaves_nothing(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # The small tables are built while the large ones are encoded: an error there must wait
    # for the helper thread (nothing written after the command ended) and write no file.
    import qdx.report.tidy_columns as tidy

    def broken(*args: object) -> object:
        raise MemoryError

    monkeypatch.setattr(tidy, "case_rows", broken)
    before = threading.active_count()
    with pytest.raises(MemoryError):
        export_parquet(_mixed(), tmp_path / "tables")
    assert threading.active_count() == before
    assert list(tmp_path.iterdir()) == []
