"""The tidy tables of one project written to Parquet (``qdx export PATH DIR --to parquet``).

The files hold what :func:`qdx.report.output.export_tables` writes for :func:`qdx.frames`
(``DataFrame.to_parquet``): the same values, Arrow types and pandas metadata (so
``pd.read_parquet`` gives back the same dtypes, e.g. nullable ``Int64`` positions). They are
built another way, because at 100,000 codings the DataFrame route took three times as long
as reading the file: the tables come as plain columns from one pass over the model
(qdx/report/tidy_columns.py) and become Arrow arrays directly (qdx/report/arrow_tables.py),
without importing pandas. A table whose pandas dtypes that module cannot be sure of (e.g. a
variable with missing numbers) still goes through its DataFrame, as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from qdx.collector import collector_paused
from qdx.model import Guid
from qdx.report.arrow_tables import Converted, arrow_table, require_parquet, row_columns
from qdx.report.tidy_columns import SEGMENT_INTS, passage_columns
from qdx.safety import atomic_folder

# The files, in the order they are written and listed.
TABLES = ("codes", "sources", "cases", "segments", "codings")

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from qdx.model import Project


def _frame_parquet(frame: pd.DataFrame) -> Callable[[BinaryIO], None]:
    from qdx.report.output import arrow_ready

    return lambda stream: arrow_ready(frame).to_parquet(stream, index=False)


def _table_parquet(table: pa.Table) -> Callable[[BinaryIO], None]:
    def write(stream: BinaryIO) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        # DataFrame.to_parquet's defaults (snappy), so the file is what the frame would write.
        # The encoder's scratch memory from the C allocator: pyarrow's default pool (mimalloc)
        # spent 0.15-0.2 s of system time setting up its arenas for the first large tables,
        # more than encoding them; the bytes written do not depend on the allocator.
        pq.write_table(table, stream, compression="snappy", memory_pool=pa.system_memory_pool())

    return write


def _columns_frame(columns: Mapping[str, Sequence[object]], nullable_ints: Sequence[str]) -> pd.DataFrame:
    """The DataFrame frames.py makes of these columns (segments_frame, codings_frame)."""
    import pandas as pd

    # GUIDs as plain text, as frames.py spells them (str(guid)).
    data: dict[str, object] = {name: [str(v) if type(v) is Guid else v for v in values]
                               for name, values in columns.items()}
    for col in nullable_ints:
        data[col] = pd.array(cast("list[int | None]", columns[col]), dtype=pd.Int64Dtype())
    return pd.DataFrame(data, columns=list(columns))


def _rows_frame(rows: list[dict[str, object]], columns: list[str] | None) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


def export_parquet(project: Project, folder: str | os.PathLike[str], *, set_name: str | None = None,
                   coder: str | None = None) -> tuple[list[Path], dict[str, int]]:
    """Write codes, sources, cases, segments and codings of ``project`` (its codings in
    ``set_name`` by ``coder``, as :func:`qdx.frames`) to ``folder/<table>.parquet``.

    All five files or none (:func:`qdx.safety.atomic_folder`).

    Returns:
        The files written, and the rows of each table.

    Raises:
        UsageError: pyarrow is not installed. UnknownNameError: no set or coder of that name.
        WriteError: a file cannot be written.
    """
    require_parquet()
    with collector_paused():
        return _export(project, folder, set_name, coder)


def _export(project: Project, folder: str | os.PathLike[str], set_name: str | None, coder: str | None
            ) -> tuple[list[Path], dict[str, int]]:
    # One helper thread encodes each large table to Parquet (work in C that releases the
    # interpreter lock) while this thread builds the next: the codings table first, which
    # needs no word counts, then segments, then the small tables. An encoding's error
    # surfaces when the folder is written (atomic_folder then removes everything, as for an
    # error of its own); any other error waits for the thread, and nothing is written.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdx-parquet") as pool:
        passages = passage_columns(project, set_name=set_name, coder=coder)
        converted: Converted = {}  # the lists stay alive until written: ids are not reused
        producers: dict[str, Callable[[BinaryIO], None]] = {}
        rows: dict[str, int] = {}
        for name, data, ints in (("codings", passages.codings, ()), ("segments", passages.segments(), SEGMENT_INTS)):
            table = arrow_table(data, ints, converted)
            producers[f"{name}.parquet"] = (_encoded(pool.submit(_parquet_bytes, table)) if table is not None
                                            else _frame_parquet(_columns_frame(data, ints)))
            rows[name] = len(next(iter(data.values())))
        for name, (records, names) in zip(("codes", "sources", "cases"), passages.small_tables(), strict=True):
            columns = row_columns(records, names)
            small = arrow_table(columns) if columns is not None else None
            producers[f"{name}.parquet"] = (_table_parquet(small) if small is not None
                                            else _frame_parquet(_rows_frame(records, names)))
            rows[name] = len(records)
        return (atomic_folder(folder, {f"{name}.parquet": producers[f"{name}.parquet"] for name in TABLES}),
                {name: rows[name] for name in TABLES})


def _parquet_bytes(table: pa.Table) -> pa.Buffer:
    """The Parquet file of ``table`` in memory (what :func:`_table_parquet` writes)."""
    import pyarrow as pa

    sink = pa.BufferOutputStream(pa.system_memory_pool())  # see _table_parquet
    _table_parquet(table)(cast(BinaryIO, sink))
    return sink.getvalue()


def _encoded(future: Future[pa.Buffer]) -> Callable[[BinaryIO], None]:
    def write(stream: BinaryIO) -> None:
        stream.write(memoryview(future.result()))

    return write
