"""``qdx codebook PATH -o codebook.docx|.md|.html``: the codebook appendix of a project."""

from __future__ import annotations

import click

from qdx.cli._common import (
    archive_limits,
    echo,
    emit_json,
    handle_errors,
    json_option,
    load,
)
from qdx.safety import Limits


@click.command()
@click.argument("path", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The document to write: .docx (Word), .md or .html.")
@json_option
@archive_limits
@handle_errors
def codebook(path: str, output: str, as_json: bool, limits: Limits) -> None:
    """Write PATH's codebook appendix: the code tree (core, main categories, subcategories,
    concepts), each code's definition split into MacQueen's parts where the description labels
    them, its counts, one example quote per code without subcodes, its colour and its memos.

    The .docx has Word headings, a table of contents and its own styles, and reads back with
    `qdx info`/`qdx convert` as an NVivo codebook. With --json prints {"output", "codes",
    "quotes"}.
    """
    from qdx.cli._common import refuse_overwriting_input
    from qdx.report.codebook_data import codebook_data
    from qdx.report.codebook_doc import CODEBOOK_SUFFIXES, codebook_bytes, write_bytes
    from qdx.report.output import require_suffix

    suffix = require_suffix(output, CODEBOOK_SUFFIXES, "a codebook")
    refuse_overwriting_input(output, path)
    book = codebook_data(load(path, limits=limits))
    data = codebook_bytes(book, suffix)
    write_bytes(output, data)
    quotes = sum(1 for e in book.entries if e.example is not None)
    if as_json:
        emit_json({"output": output, "codes": len(book.entries), "quotes": quotes})
        return
    echo(f"wrote {output}: {len(book.entries)} codes, {quotes} example quotes")
