"""Arrow tables of plain columns as ``pa.Table.from_pandas`` makes them, without pandas.

``qdx export --to parquet`` wrote each table through a DataFrame (``DataFrame.to_parquet``).
Importing pandas alone costs about a third of reading a large project, so columns whose pandas
dtype is certain are converted to Arrow directly, with the schema and the ``pandas`` schema
metadata pyarrow writes for that frame (``pd.read_parquet`` then restores the same dtypes).

The dtypes are pandas 3's for a column of Python values (``pd.DataFrame`` of lists or of
rows): text (``str`` or a subclass such as ``Guid``, taken as its characters) with or
without missing values is the ``str`` dtype (Arrow ``large_string``),
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

if TYPE_CHECKING:
    import pyarrow as pa

# (Arrow type name, pandas_type, numpy_type) of each kind of column.
_TEXT = ("large_string", "object", "str")
_EMPTY = ("null", "empty", "object")
_INT = ("int64", "int64", "int64")
_NULLABLE_INT = ("int64", "int64", "Int64")
_BOOL = ("bool", "bool", "bool")
# Texts joined and encoded at a time (see _utf8).
_CHUNK = 4096


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


def _kind(values: Sequence[object], nullable_int: bool) -> tuple[tuple[str, str, str], bool] | None:
    """The column's (Arrow type, pandas_type, numpy_type) and whether it has missing values, or
    None when pandas decides otherwise."""
    kinds = set(map(type, values))
    missing = type(None) in kinds
    kinds.discard(type(None))
    if nullable_int:
        return (_NULLABLE_INT, missing) if kinds <= {int} else None
    if not kinds:
        return _EMPTY, missing
    if all(issubclass(kind, str) for kind in kinds):  # a Guid, or any str subclass, is its characters
        return _TEXT, missing
    if missing:
        return None
    if kinds == {bool}:
        return _BOOL, False
    if kinds == {int}:  # beyond int64: _array refuses it
        return _INT, False
    return None


# Conversions made already, by column (list identity) and whether it is a declared nullable
# integer column: the kind, whether values are missing, and the Arrow array.
Converted = dict[tuple[int, bool], tuple[tuple[str, str, str], bool, "pa.Array"]]


def arrow_table(columns: Mapping[str, Sequence[object]], nullable_ints: Collection[str] = (),
                converted: Converted | None = None) -> pa.Table | None:
    """The table ``pa.Table.from_pandas(frame, preserve_index=False)`` gives for the DataFrame of
    ``columns`` (with ``nullable_ints`` as ``Int64``), or None when that frame's dtypes are not
    certain without pandas (see module docstring).

    ``converted``: the columns converted already (the segments and codings tables share five
    columns); the lists must stay alive meanwhile, as their identity is the key.
    """
    import pyarrow as pa

    version = pandas_version()
    if version is None or not version.startswith("3."):
        return None
    done: Converted = converted if converted is not None else {}
    kinds = {}
    for name, values in columns.items():
        key = (id(values), name in nullable_ints)
        if key not in done:
            made = _convert(values, key[1])
            if made is None:
                return None
            done[key] = made
        kinds[name] = done[key]
    meta = {"index_columns": [], "column_indexes": [],
            "columns": [{"name": name, "field_name": name, "pandas_type": kinds[name][0][1],
                         "numpy_type": kinds[name][0][2], "metadata": None} for name in columns],
            "attributes": {}, "creator": {"library": "pyarrow", "version": pa.__version__},
            "pandas_version": version}
    return pa.Table.from_arrays([kinds[name][2] for name in columns], names=list(columns),
                                metadata={b"pandas": json.dumps(meta).encode("utf8")})


def _convert(values: Sequence[object], nullable_int: bool) -> tuple[tuple[str, str, str], bool, pa.Array] | None:
    """The column's kind (see :func:`_kind`), whether values are missing, and its Arrow array."""
    if not nullable_int and len(values):
        try:
            # Joining succeeds only for text (str and its subclasses, e.g. Guid: pandas takes
            # each as its characters, as the join does), so no type pass is needed for text.
            buffers = _utf8(cast("Sequence[str]", values))
        except TypeError:
            pass
        else:
            return None if buffers is None else (_TEXT, False, _large_string(len(values), None, buffers, 0))
    found = _kind(values, nullable_int)
    if found is None:
        return None
    made = _array(values, found[0][0], found[1])
    return None if made is None else (*found, made)


def _large_string(count: int, validity: pa.Buffer | None, buffers: tuple[pa.Buffer, pa.Buffer], nulls: int) -> pa.Array:
    import pyarrow as pa

    return pa.Array.from_buffers(pa.large_string(), count, [validity, *buffers], null_count=nulls)


def _array(values: Sequence[object], kind: str, missing: bool) -> pa.Array | None:
    """The Arrow array of ``values`` (all of ``kind``, or None where ``missing``), from buffers
    made with numpy.

    ``pa.array`` of Python objects imports pandas (to recognise its missing-value markers),
    which is what this module avoids; the buffers are Arrow's layout (columnar format spec):
    a validity bitmap (LSB first), then int64 values or bytes, or for ``large_string`` int64
    offsets into the UTF-8 data. None when a text cannot be encoded (a lone surrogate) or a
    number is beyond int64: the caller leaves it to pandas, which types it as it always did.
    """
    import numpy as np
    import pyarrow as pa

    count = len(values)
    if kind == "null":
        return pa.nulls(count)
    nulls = 0
    validity = None
    if missing:
        present = np.fromiter((v is not None for v in values), dtype=bool, count=count)
        nulls = count - int(np.count_nonzero(present))
        validity = pa.py_buffer(np.packbits(present, bitorder="little"))
    if kind == "large_string":
        text = cast("Sequence[str]", [v if v is not None else "" for v in values] if nulls else values)
        buffers = _utf8(text)
        return None if buffers is None else _large_string(count, validity, buffers, nulls)
    filled = cast("Sequence[int]", [v if v is not None else 0 for v in values] if nulls else values)
    if kind == "bool":
        bits = np.packbits(np.fromiter(filled, dtype=bool, count=count), bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), count, [validity, pa.py_buffer(bits)], null_count=nulls)
    try:
        numbers = np.fromiter(filled, dtype=np.int64, count=count)
    except OverflowError:
        return None
    return pa.Array.from_buffers(pa.int64(), count, [validity, pa.py_buffer(numbers)], null_count=nulls)


def _utf8(text: Sequence[str]) -> tuple[pa.Buffer, pa.Buffer] | None:
    """The offsets and data buffers of a ``large_string`` array of ``text`` (None: a lone
    surrogate, which has no UTF-8).

    The texts are joined with NUL between them and encoded at once, and the offsets are where
    the NULs fall (UTF-8 has a zero byte only for NUL): a few passes in C over one buffer
    instead of one encoding and one length per text. A few thousand texts at a time, so the
    joined copy (four bytes a character once one emoji is in it) stays small and its memory
    is reused. Texts holding NUL themselves are encoded one by one.

    Raises:
        TypeError: a value is not text.
    """
    import numpy as np
    import pyarrow as pa

    count = len(text)
    offsets = np.zeros(count + 1, dtype=np.int64)
    pieces: list[bytes] = []
    size = 0
    try:
        for lo in range(0, count, _CHUNK):
            part = text[lo:lo + _CHUNK]
            n = len(part)
            joined = "\0".join(part)
            if joined.count("\0") == n - 1:
                data = joined.encode("utf-8")
                # text i ends where separator i stands, less the i separators before it
                seps = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0)
                ends = np.append(seps - np.arange(n - 1), len(data) - (n - 1))
                data = data.replace(b"\0", b"")
            else:
                encoded = [v.encode("utf-8") for v in part]
                data = b"".join(encoded)
                ends = np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=n))
            offsets[lo + 1:lo + n + 1] = ends + size
            size += len(data)
            pieces.append(data)
    except UnicodeEncodeError:
        return None
    return pa.py_buffer(offsets), pa.py_buffer(b"".join(pieces))


def row_columns(rows: Sequence[Mapping[str, object]], columns: Sequence[str] | None) -> dict[str, list[object]] | None:
    """The columns ``pd.DataFrame(rows, columns=columns)`` takes from ``rows``, or None when a
    row lacks one of them (pandas fills a gap with NaN, whose dtype the caller leaves to pandas)."""
    names = list(columns) if columns is not None else list(dict.fromkeys(k for row in rows for k in row))
    if any(len(row) != len(names) or any(name not in row for name in names) for row in rows):
        return None
    return {name: [row[name] for row in rows] for name in names}
