"""The tidy tables of one project written to Parquet (``qdx export PATH DIR --to parquet``).

The files hold what :func:`qdx.report.output.export_tables` writes for :func:`qdx.frames`
(``DataFrame.to_parquet``): the same values, Arrow types and pandas metadata (so
``pd.read_parquet`` gives back the same dtypes, e.g. nullable ``Int64`` positions). The two
passage tables (segments and codings: one row per coding, the bulk of a large project) are
built differently: their plain column lists become Arrow arrays directly, without a DataFrame
in between, which converted every string once into pandas and again into Arrow. Their schema
is the one pandas gives the table, taken from a one-row frame of the same columns (each
column's first non-null value), so a column's type is decided by the same rule as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from qdx.analysis._words import WordIndex
from qdx.report.frames import (
    CODINGS_COLUMNS,
    cases_frame,
    codes_frame,
    codings_columns,
    segment_columns,
    segments_frame,
    sources_frame,
)
from qdx.report.output import arrow_ready, require_parquet
from qdx.safety import atomic_folder

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from qdx.analysis._codings import Corpus


def arrow_from_columns(columns: Mapping[str, Sequence[object]],
                       frame_of: Callable[[dict[str, list[object]]], pd.DataFrame],
                       converted: dict[tuple[int, str], pa.Array] | None = None) -> pa.Table:
    """The Arrow table ``pa.Table.from_pandas(frame_of(columns))`` would give, without the frame.

    ``frame_of`` makes the DataFrame of a table from its column lists; it is called on one row
    (each column's first non-null value, or null) to learn the dtypes pandas infers, and so the
    Arrow schema and pandas metadata of the whole table. ``converted``: arrays made already,
    by list identity and type (the codings table shares five lists with the segments table).
    """
    import pyarrow as pa

    sample = {name: [next((v for v in values if v is not None), None)] for name, values in columns.items()}
    schema = pa.Schema.from_pandas(frame_of(sample).iloc[:0], preserve_index=False)
    rows = len(next(iter(columns.values()), ()))
    done = converted if converted is not None else {}
    arrays = []
    for field in schema:
        values = columns[field.name]
        key = (id(values), str(field.type))
        if key not in done:
            done[key] = pa.nulls(rows) if field.type == pa.null() else pa.array(values, type=field.type)
        arrays.append(done[key])
    return pa.Table.from_arrays(arrays, schema=schema)


def _frame_parquet(frame: pd.DataFrame) -> Callable[[BinaryIO], None]:
    return lambda stream: arrow_ready(frame).to_parquet(stream, index=False)


def _table_parquet(table: pa.Table) -> Callable[[BinaryIO], None]:
    def write(stream: BinaryIO) -> None:
        import pyarrow.parquet as pq

        # DataFrame.to_parquet's defaults (snappy), so the file is what the frame would write.
        pq.write_table(table, stream, compression="snappy")

    return write


def export_parquet(corpus: Corpus, folder: str | os.PathLike[str]) -> tuple[list[Path], dict[str, int]]:
    """Write codes, sources, cases, segments and codings of ``corpus`` to ``folder/<table>.parquet``.

    All five files or none (:func:`qdx.safety.atomic_folder`).

    Returns:
        The files written, and the rows of each table.

    Raises:
        UsageError: pyarrow is not installed. WriteError: a file cannot be written.
    """
    import pandas as pd

    require_parquet()
    words = WordIndex(corpus.texts)
    passages = segment_columns(corpus, words)
    codings = codings_columns(corpus, passages)
    small = {"codes": codes_frame(corpus), "sources": sources_frame(corpus, words), "cases": cases_frame(corpus)}
    converted: dict[tuple[int, str], pa.Array] = {}  # the lists stay alive: ids are not reused
    segments = arrow_from_columns(passages, lambda cols: segments_frame(corpus, cols), converted)
    codings_table = arrow_from_columns(codings, lambda cols: pd.DataFrame(cols, columns=list(CODINGS_COLUMNS)),
                                       converted)
    producers = {f"{name}.parquet": _frame_parquet(frame) for name, frame in small.items()}
    producers["segments.parquet"] = _table_parquet(segments)
    producers["codings.parquet"] = _table_parquet(codings_table)
    rows = {**{name: len(frame) for name, frame in small.items()},
            "segments": segments.num_rows, "codings": codings_table.num_rows}
    return atomic_folder(folder, producers), rows
