"""Arrow tables of plain columns as ``pa.Table.from_pandas`` makes them, without pandas.

``qdx export --to parquet`` wrote each table through a DataFrame (``DataFrame.to_parquet``).
Importing pandas alone costs about a third of reading a large project, so columns whose pandas
dtype is certain are converted to Arrow directly, with the schema and the ``pandas`` schema
metadata pyarrow writes for that frame (``pd.read_parquet`` then restores the same dtypes).

The dtypes are pandas 3's for a column of Python values (``pd.DataFrame`` of lists or of
rows): text with or without missing values is the ``str`` dtype (Arrow ``large_string``),
only missing values ``object`` (Arrow ``null``; also a column of no rows, as
``pd.DataFrame([], columns=...)`` and the export before this module typed it), integers without missing values
``int64``, booleans without missing values ``bool``; a declared nullable integer column is
``Int64``. Any other column (floats, mixed kinds, missing numbers, other objects), or another
pandas version, returns None: the caller goes through pandas then, so a dtype is never
guessed. tests/test_export_parquet.py compares the files with those pandas writes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, cast

from qdx.errors import UsageError
from qdx.model import Guid

if TYPE_CHECKING:
    import pyarrow as pa

# (Arrow type name, pandas_type, numpy_type) of each kind of column.
_TEXT = ("large_string", "object", "str")
_EMPTY = ("null", "empty", "object")
_INT = ("int64", "int64", "int64")
_NULLABLE_INT = ("int64", "int64", "Int64")
_BOOL = ("bool", "bool", "bool")
_INT64 = (-(2**63), 2**63 - 1)


def require_parquet() -> None:
    """Parquet needs pyarrow, an optional extra (``qdx[parquet]``): say so in one line.

    Raises:
        UsageError: pyarrow cannot be imported.
    """
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            "writing parquet needs pyarrow, which is not installed: pip install 'qdx[parquet]'"
            " (or write csv instead)"
        ) from exc


@functools.cache
def pandas_version() -> str | None:
    """The installed pandas version, read without importing pandas (None: none installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pandas")
    except PackageNotFoundError:
        return None


def _kind(values: Sequence[object], nullable_int: bool) -> tuple[str, str, str] | None:
    """The column's (Arrow type, pandas_type, numpy_type), or None when pandas decides otherwise."""
    kinds = set(map(type, values))
    missing = type(None) in kinds
    kinds.discard(type(None))
    if nullable_int:
        return _NULLABLE_INT if kinds <= {int} else None
    if not kinds:
        return _EMPTY
    if kinds <= {str, Guid}:  # a Guid is its spelling (a str that compares case-blind)
        return _TEXT
    if missing:
        return None
    if kinds == {bool}:
        return _BOOL
    numbers = cast("Sequence[int]", values)
    if kinds == {int} and _INT64[0] <= min(numbers) and max(numbers) <= _INT64[1]:
        return _INT
    return None


def arrow_table(columns: Mapping[str, Sequence[object]], nullable_ints: Collection[str] = (),
                converted: dict[tuple[int, str], pa.Array] | None = None) -> pa.Table | None:
    """The table ``pa.Table.from_pandas(frame, preserve_index=False)`` gives for the DataFrame of
    ``columns`` (with ``nullable_ints`` as ``Int64``), or None when that frame's dtypes are not
    certain without pandas (see module docstring).

    ``converted``: Arrow arrays made already, by list identity and type (the segments and
    codings tables share five columns); the lists must stay alive meanwhile.
    """
    import pyarrow as pa

    version = pandas_version()
    if version is None or not version.startswith("3."):
        return None
    kinds = {}
    for name, values in columns.items():
        kind = _kind(values, name in nullable_ints)
        if kind is None:
            return None
        kinds[name] = kind
    done = converted if converted is not None else {}
    arrays = []
    for name, values in columns.items():
        key = (id(values), kinds[name][0])
        if key not in done:
            made = _array(values, kinds[name][0])
            if made is None:
                return None
            done[key] = made
        arrays.append(done[key])
    meta = {"index_columns": [], "column_indexes": [],
            "columns": [{"name": name, "field_name": name, "pandas_type": kinds[name][1],
                         "numpy_type": kinds[name][2], "metadata": None} for name in columns],
            "attributes": {}, "creator": {"library": "pyarrow", "version": pa.__version__},
            "pandas_version": version}
    return pa.Table.from_arrays(arrays, names=list(columns), metadata={b"pandas": json.dumps(meta).encode("utf8")})


def _array(values: Sequence[object], kind: str) -> pa.Array | None:
    """The Arrow array of ``values`` (all of ``kind``, or None), from buffers made with numpy.

    ``pa.array`` of Python objects imports pandas (to recognise its missing-value markers),
    which is what this module avoids; the buffers are Arrow's layout (columnar format spec):
    a validity bitmap (LSB first), then int64 values or bytes, or for ``large_string`` int64
    offsets into the UTF-8 data. None when a text cannot be encoded (a lone surrogate): the
    caller leaves it to pandas, which fails as it always did.
    """
    import numpy as np
    import pyarrow as pa

    count = len(values)
    if kind == "null":
        return pa.nulls(count)
    nulls = values.count(None)  # in C; the bitmap only for a column with missing values
    validity = None
    if nulls:
        present = np.array([v is not None for v in values], dtype=bool)
        validity = pa.py_buffer(np.packbits(present, bitorder="little"))
    if kind == "large_string":
        text = cast("Sequence[str]", [v if v is not None else "" for v in values] if nulls else values)
        try:
            if all(map(str.isascii, text)):  # one byte per character
                data, sizes = "".join(text).encode("ascii"), map(len, text)
            else:
                encoded = [v.encode("utf-8") for v in text]
                data, sizes = b"".join(encoded), map(len, encoded)
        except UnicodeEncodeError:
            return None
        offsets = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(np.fromiter(sizes, dtype=np.int64, count=count), out=offsets[1:])
        return pa.Array.from_buffers(pa.large_string(), count, [validity, pa.py_buffer(offsets), pa.py_buffer(data)],
                                     null_count=nulls)
    filled = cast("Sequence[int]", [v if v is not None else 0 for v in values] if nulls else values)
    if kind == "bool":
        bits = np.packbits(np.fromiter(filled, dtype=bool, count=count), bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), count, [validity, pa.py_buffer(bits)], null_count=nulls)
    numbers = np.fromiter(filled, dtype=np.int64, count=count)
    return pa.Array.from_buffers(pa.int64(), count, [validity, pa.py_buffer(numbers)], null_count=nulls)


def row_columns(rows: Sequence[Mapping[str, object]], columns: Sequence[str] | None) -> dict[str, list[object]] | None:
    """The columns ``pd.DataFrame(rows, columns=columns)`` takes from ``rows``, or None when a
    row lacks one of them (pandas fills a gap with NaN, whose dtype the caller leaves to pandas)."""
    names = list(columns) if columns is not None else list(dict.fromkeys(k for row in rows for k in row))
    if any(len(row) != len(names) or any(name not in row for name in names) for row in rows):
        return None
    return {name: [row[name] for row in rows] for name in names}
