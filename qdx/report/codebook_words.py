"""The sentences every format of the codebook appendix shares (Word, Markdown, HTML).

Heading levels, count lines ("N references in M sources", n/a when nothing was coded), where an
example quote comes from, and memo titles: one wording, so the three documents say the same.
"""

from __future__ import annotations

from qdx.report.codebook_data import CodebookEntry, Quote


def heading_level(entry: CodebookEntry) -> int:
    """Word heading level of a code: sections are Heading 1, the tree starts at Heading 2."""
    return min(entry.depth + 2, 9)


def counted(references: int | None, sources: int | None) -> str:
    """"N references in M sources", saying n/a for what could not be counted."""
    if references is None:
        return "counts n/a (no coding data)"
    return f"{references} references" + (f" in {sources} sources" if sources is not None else "")


def counts_line(entry: CodebookEntry) -> str:
    own = counted(entry.references, entry.sources)
    if entry.children and entry.references is not None:
        return (f"{entry.level_label}; own codings: {own}; with its {entry.children} subcodes: "
                f"{counted(entry.references_total, entry.sources_total)}")
    return f"{entry.level_label}; {own}"


def quote_source(quote: Quote) -> str:
    where = f", characters {quote.start}–{quote.end}" if quote.start is not None and quote.end is not None else ""
    coder = f"; coded by {quote.coder}" if quote.coder else ""
    return f"{quote.source}{where}{coder}"


def memo_title(name: str) -> tuple[str, str]:
    """(label, rest) for a memo heading: no "Memo: Memo: ..." when the name already says it."""
    head, sep, rest = name.partition(":")
    return (head.strip(), rest.strip()) if sep and head.strip().lower() == "memo" else ("Memo", name)

