"""The one schema of a qdx Parquet dataset: its tables, their columns and types (docs/dataset.md).

Every partition has every table with exactly these columns and types, whatever its project
holds, so engines read all partitions as one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_VERSION = 1
MANIFEST = "_qdx_dataset.json"
STAGING = ".qdx-staging"
LOCK = ".qdx-lock"
PARTITION_KEY = "project"


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a dataset table: its name, Parquet type and meaning."""

    name: str
    type: str  # "string", "int64", "float64" or "bool"
    meaning: str


def _cols(*spec: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*item) for item in spec)


_LEVELS = (
    ("core", "string", "the core category on the code's path (null when the tree has none)"),
    ("main_category", "string", "the main category on the code's path (null when not that deep)"),
    ("subcategory", "string", "the subcategory on the code's path (null when not that deep)"),
    ("concept", "string", "the concept on the code's path (null when not that deep)"),
)

# The one schema of the dataset: every partition has every table with exactly these columns and
# types, whatever its project holds (variables are rows of `variables`, not columns), so engines
# read all partitions as one table. Changing it means bumping SCHEMA_VERSION and docs/dataset.md.
TABLES: dict[str, tuple[Column, ...]] = {
    "projects": _cols(
        ("name", "string", "the project's own name (REFI Project/@name)"),
        ("input", "string", "the file or folder it was read from, as an absolute path"),
        ("format", "string", "the format qdx read (qdpx, qde, nvivo-..., as `qdx info`)"),
        ("origin", "string", "the producing software (Project/@origin)"),
        ("position_unit", "string", "the text-position unit qdx detected"),
        ("content_hash", "string", "SHA-256 of the input's bytes (what an incremental export compares)"),
        ("schema_version", "int64", "the version of this schema"),
        ("qdx_version", "string", "the qdx version that wrote the partition"),
    ),
    "codes": _cols(
        ("guid", "string", "the code's GUID"),
        ("name", "string", "the code's name"),
        ("path", "string", "names from the root down, joined by ' > '"),
        ("depth", "int64", "0 for a top-level code"),
        ("level", "string", "the code's level: core, main_category, subcategory, concept or level_N"),
        ("parent", "string", "the parent code's GUID (null for a top-level code)"),
        ("is_codable", "bool", "Code/@isCodable"),
        ("color", "string", "Code/@color (#rrggbb) or null"),
        ("description", "string", "the code's definition (Description) or null"),
        *_LEVELS,
        ("references", "int64", "codings of this code"),
        ("references_total", "int64", "codings of this code and its descendants"),
        ("sources", "int64", "sources with a coding of this code"),
        ("sources_total", "int64", "sources with a coding of this code or a descendant"),
    ),
    "sources": _cols(
        ("guid", "string", "the source's GUID"),
        ("name", "string", "the source's name"),
        ("kind", "string", "text, pdf, picture, audio or video"),
        ("characters", "int64", "length of its text in code points (0 without text)"),
        ("words", "int64", "words of its text"),
        ("selections", "int64", "selections in it"),
        ("codings", "int64", "codings in it"),
        ("creation_datetime", "string", "creationDateTime as written (ISO 8601) or null"),
    ),
    "cases": _cols(
        ("guid", "string", "the case's GUID"),
        ("name", "string", "the case's name"),
        ("description", "string", "the case's description or null"),
        ("sources", "int64", "sources linked to the case"),
        ("source_names", "string", "their names, joined by '; '"),
    ),
    "segments": _cols(
        ("source", "string", "the source's name"),
        ("source_guid", "string", "the source's GUID"),
        ("selection", "string", "the selection's GUID (null for a coding of a whole source)"),
        ("start", "int64", "first code point of the passage (REFI §10.2: code points, 0-based)"),
        ("end", "int64", "code point after the passage (end exclusive)"),
        ("characters", "int64", "end - start (null when the text is not available)"),
        ("words", "int64", "words of the passage"),
        ("labels", "string", "the passage's A-i-j labels, space-separated"),
        ("label_first", "string", "its first label"),
        ("label_last", "string", "its last label"),
        ("code", "string", "the code's name"),
        ("code_guid", "string", "the code's GUID"),
        ("code_path", "string", "the code's path, joined by ' > '"),
        *_LEVELS,
        ("coder", "string", "the coding user's name (or GUID)"),
        ("coding_guid", "string", "the coding's GUID"),
        ("cases", "string", "cases of the coding's source, joined by '; '"),
        ("text", "string", "the passage's exact text (null for non-text selections)"),
    ),
    "codings": _cols(
        ("coding_guid", "string", "the coding's GUID"),
        ("code_guid", "string", "the code's GUID"),
        ("source_guid", "string", "the source's GUID"),
        ("selection_guid", "string", "the selection's GUID (null for a coding of a whole source)"),
        ("user_guid", "string", "the coding user's GUID or null"),
        ("coder", "string", "the coding user's name (or GUID)"),
        ("creation_datetime", "string", "creationDateTime as written (ISO 8601) or null"),
    ),
    "variables": _cols(
        ("owner", "string", "source or case"),
        ("owner_guid", "string", "the source's or case's GUID"),
        ("owner_name", "string", "the source's or case's name"),
        ("variable", "string", "the variable's name (its GUID when undeclared)"),
        ("variable_guid", "string", "the variable's GUID"),
        ("type", "string", "the declared type: Text, Boolean, Integer, Float, Date, DateTime (null when undeclared)"),
        ("value", "string", "the value as written"),
        ("value_number", "float64",
         "the value as a number for Integer and Float variables (null otherwise or unparsable)"),
        ("value_boolean", "bool", "the value for Boolean variables (null otherwise or unparsable)"),
    ),
}


def arrow_schema(table: str) -> pa.Schema:
    """The pyarrow schema of a dataset table (:data:`TABLES`)."""
    import pyarrow as pa

    types = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}
    return pa.schema([pa.field(c.name, types[c.type]) for c in TABLES[table]])
