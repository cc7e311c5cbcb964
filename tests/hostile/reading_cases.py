"""Hostile inputs for the reading side of issue 15 (round two), added to the corpus by
make_corpus.build().

Every generator is small and quick: what makes a case hostile is how much it would expand
(bzip2/LZMA members, overlapping zip entries, a member read for thousands of sources, shared
strings in many cells, "References 1-1000000000"), how deep it nests, or what kind of file
it is (a FIFO, a device behind a symlink), never its size on disk.
"""

from __future__ import annotations

import bz2
import io
import lzma
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
USER = "44444444-4444-4444-4444-444444444444"
CODE = "11111111-1111-1111-1111-111111111111"

Add = Callable[[str, str, str, str], None]


def _guid(kind: int, n: int) -> str:
    return f"{kind:08x}-0000-4000-8000-{n:012x}"


def project_with_sources(paths: list[str]) -> bytes:
    """A project whose text sources read ``paths`` (one coded selection each)."""
    sources = "".join(
        f'<TextSource guid="{_guid(2, i)}" name="s{i}" plainTextPath="{p}">'
        f'<PlainTextSelection guid="{_guid(3, i)}" startPosition="0" endPosition="1">'
        f'<Coding guid="{_guid(5, i)}" creatingUser="{USER}"><CodeRef targetGUID="{CODE}"/></Coding>'
        f"</PlainTextSelection></TextSource>"
        for i, p in enumerate(paths)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="{NS}" name="hostile">'
        f'<Users><User guid="{USER}" name="u"/></Users>'
        f'<CodeBook><Codes><Code guid="{CODE}" name="c" isCodable="true"/></Codes></CodeBook>'
        f"<Sources>{sources}</Sources></Project>"
    ).encode()


def zipped(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


# --------------------------------------------------------------------------- defect 2


def method_bomb(method: int) -> bytes:
    """A .qdpx whose source member is 32 MiB of zeros in bzip2 or LZMA (a few KB stored):
    zipfile inflates those in one call per chunk, before any limit could look."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("project.qde", project_with_sources(["internal://a.txt"]), zipfile.ZIP_DEFLATED)
        zf.writestr("sources/a.txt", b"\0" * (32 << 20), method)
    return buf.getvalue()


# --------------------------------------------------------------------------- defect 3


def _local_header(name: bytes, crc: int, packed: int, size: int) -> bytes:
    return struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, packed, size, len(name), 0) + name


def _central(name: bytes, crc: int, packed: int, size: int, offset: int) -> bytes:
    return (
        struct.pack(
            "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, packed, size, len(name), 0, 0, 0, 0, 0,
            offset,
        )
        + name
    )


def fifield(first: dict[str, bytes], names: list[str], kernel_size: int = 1_000_000) -> bytes:
    """Fifield's overlapping-entry zip bomb ("A better zip bomb", 2019), after ``first``.

    Every entry's compressed data is a chain of stored deflate blocks quoting the local
    headers of the entries after it, then one shared deflate stream (the kernel): N entries
    inflate to ~N x ``kernel_size`` bytes from one kernel. Each entry alone stays under the
    per-member limits (under 1 MiB); only the overlap, or the archive's total, gives it away.
    """
    out = bytearray(zipped(first))
    directory_at = out.rfind(b"PK\x01\x02") if first else len(out)
    eocd = out.rfind(b"PK\x05\x06")
    old_count = struct.unpack_from("<H", out, eocd + 10)[0]
    old_directory = bytes(out[directory_at:eocd])
    del out[directory_at:]
    kernel_plain = b"a" * kernel_size
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    kernel = packer.compress(kernel_plain) + packer.flush()
    kernel_crc = zlib.crc32(kernel_plain)
    encoded = [n.encode() for n in names]
    # From the last entry back: entry i quotes every later local header, then the kernel.
    headers: list[bytes] = [b""] * len(names)
    quoted_after = b""  # uncompressed bytes of entry i before the kernel
    crc_tail = kernel_crc
    packed_after = len(kernel)
    sizes: list[tuple[int, int, int]] = [(0, 0, 0)] * len(names)
    for i in range(len(names) - 1, -1, -1):
        size = len(quoted_after) + kernel_size
        crc = zlib.crc32(kernel_plain, zlib.crc32(quoted_after)) if quoted_after else kernel_crc
        sizes[i] = (crc, packed_after, size)
        headers[i] = _local_header(encoded[i], crc, packed_after, size)
        quoted_after = headers[i] + quoted_after
        packed_after += 5 + len(headers[i])
    del crc_tail
    offsets = []
    for i, header in enumerate(headers):
        offsets.append(len(out))
        out += header
        if i + 1 < len(headers):
            quote = len(headers[i + 1])
            out += struct.pack("<BHH", 0x00, quote, quote ^ 0xFFFF)  # non-final stored block
    out += kernel
    directory_start = len(out)
    out += old_directory
    for name, (crc, packed, size), offset in zip(encoded, sizes, offsets, strict=True):
        out += _central(name, crc, packed, size, offset)
    count = old_count + len(names)
    out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(out) - directory_start, directory_start, 0)
    return bytes(out)


def fifield_qdpx(n: int = 60) -> bytes:
    paths = [f"internal://f{i}.txt" for i in range(n)]
    return fifield({"project.qde": project_with_sources(paths)}, [f"sources/f{i}.txt" for i in range(n)])


def shared_member(n: int = 2000) -> bytes:
    """One 1,000,000-byte member (~1 KB deflated) read by ``n`` sources: 2 GB of text."""
    return zipped(
        {"project.qde": project_with_sources(["internal://same.txt"] * n), "sources/same.txt": b"a" * 1_000_000}
    )


def many_small_bombs_qdpx(n: int = 40) -> bytes:
    """``n`` members of 1,000,000 bytes, each under the 1 MiB floor of the per-member ratio."""
    members = {"project.qde": project_with_sources([f"internal://m{i}.txt" for i in range(n)])}
    members.update({f"sources/m{i}.txt": b"b" * 1_000_000 for i in range(n)})
    return zipped(members)


def office_parts(kind: str) -> dict[str, bytes]:
    """The minimal parts of a .docx or .xlsx (enough to be taken for one)."""
    types = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
    main = "word/document.xml" if kind == "docx" else "xl/workbook.xml"
    return {"[Content_Types].xml": types.encode(), main: b'<?xml version="1.0"?><document/>'}


def many_small_bombs_office(kind: str, n: int = 100) -> bytes:
    members = office_parts(kind)
    members.update({f"{'word' if kind == 'docx' else 'xl'}/media/p{i}.bin": b"c" * 1_000_000 for i in range(n)})
    return zipped(members)


def fifield_office(kind: str, n: int = 60) -> bytes:
    folder = "word" if kind == "docx" else "xl"
    return fifield(office_parts(kind), [f"{folder}/media/f{i}.bin" for i in range(n)])


# --------------------------------------------------------------------------- defect 4 (and 14)


def xlsx(sheet_cells: str, shared: list[str]) -> bytes:
    """A minimal workbook: one sheet with ``sheet_cells`` (the <sheetData> body)."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    strings = "".join(f"<si><t>{s}</t></si>" for s in shared)
    return zipped(
        {
            "[Content_Types].xml": (
                '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
                f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
                f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/></Types>'
            ).encode(),
            "_rels/.rels": (
                f'<?xml version="1.0"?><Relationships xmlns="{pkg}"><Relationship Id="rId1"'
                f' Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
            ).encode(),
            "xl/workbook.xml": (
                f'<?xml version="1.0"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
                '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
            ).encode(),
            "xl/_rels/workbook.xml.rels": (
                f'<?xml version="1.0"?><Relationships xmlns="{pkg}">'
                f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
                f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
            ).encode(),
            "xl/worksheets/sheet1.xml": (
                f'<?xml version="1.0"?><worksheet xmlns="{main}"><sheetData>{sheet_cells}</sheetData></worksheet>'
            ).encode(),
            "xl/sharedStrings.xml": (
                f'<?xml version="1.0"?><sst xmlns="{main}" count="{len(shared)}" uniqueCount="{len(shared)}">'
                f"{strings}</sst>"
            ).encode(),
        }
    )


def _rows(n_cells: int, cell: str, cols: int = 10) -> str:
    letters = "ABCDEFGHIJ"
    return "".join(
        f'<row r="{r}">' + "".join(cell.format(ref=f"{letters[c]}{r}") for c in range(cols)) + "</row>"
        for r in range(1, n_cells // cols + 1)
    )


def shared_string_cells(n_cells: int = 40_000, length: int = 4000) -> bytes:
    """Every cell shows one ``length``-character shared string: 160 M characters of cells."""
    return xlsx(_rows(n_cells, '<c r="{ref}" t="s"><v>0</v></c>'), ["x" * length])


def many_cells(n_cells: int = 30_000) -> bytes:
    """A sheet of ``n_cells`` numbers: streamed, not an object per cell (defect 14: 1.2M cells
    took > 30 s and 1.1 GB)."""
    return xlsx(_rows(n_cells, '<c r="{ref}"><v>1</v></c>'), [])


# --------------------------------------------------------------------------- NVivo coded text


def coded_text(refs: list[str], declared: int, code_line: str = "") -> bytes:
    head = f"{code_line}\n\n" if code_line else ""
    body = "".join(f"{r} - 0.01% Coverage\n\nthe passage of {r.lower()} here\n\n" for r in refs)
    return f"{head}<Files\\\\doc> - § {declared} references coded [100.00% Coverage]\n\n{body}".encode()


def huge_range() -> bytes:
    """125 bytes: one merged head naming a billion references (defect 5)."""
    return coded_text(["References 1-1000000000"], 1_000_000_000)


def many_small_ranges(n: int = 2000) -> bytes:
    """Many merged heads of 10 numbers each: 18,000 references beyond the heads in all."""
    refs = [f"References {10 * i + 1}-{10 * i + 10}" for i in range(n)]
    return coded_text(refs, 10 * n)


def deep_code_path(depth: int = 1900) -> bytes:
    """A V5 export whose first line names a code 1,900 levels deep (defect 9)."""
    return coded_text(["Reference 1"], 1, code_line="Codes\\\\" + "\\".join(["a"] * depth))


def one_block_many_refs(n: int = 10_000) -> bytes:
    """One source block of ``n`` references (quadratic before: 40k took 109 s)."""
    return coded_text([f"Reference {i}" for i in range(1, n + 1)], n)


def deep_codebook_docx(depth: int = 300) -> bytes:
    """An NVivo Export Codebook whose rows indent one level deeper each (defect 9)."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Twips

    document = docx.Document()
    for style in ("CodebookTitle", "FolderName", "FolderDescription"):
        document.styles.add_style(style, WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("Deep", style="CodebookTitle")
    document.add_paragraph("Codes", style="FolderName")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Name", "Description"
    for level in range(depth):
        cells = table.add_row().cells
        cells[0].text = f"level {level}"
        cells[0].paragraphs[0].paragraph_format.left_indent = Twips(450 * level)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- REFI documents


def unknown_children(n: int = 60_000) -> bytes:
    """One selection with ``n`` unknown child elements (quadratic to free before)."""
    sel = (
        f'<PlainTextSelection guid="{_guid(3, 0)}" startPosition="0" endPosition="4">' + "<Unknown/>" * n
        + f'<Coding guid="{_guid(5, 0)}" creatingUser="{USER}"><CodeRef targetGUID="{CODE}"/></Coding>'
        "</PlainTextSelection>"
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="{NS}" name="kids">'
        f'<Users><User guid="{USER}" name="u"/></Users>'
        f'<CodeBook><Codes><Code guid="{CODE}" name="c" isCodable="true"/></Codes></CodeBook>'
        f'<Sources><TextSource guid="{_guid(2, 0)}" name="doc"><PlainTextContent>text body</PlainTextContent>'
        f"{sel}</TextSource></Sources></Project>"
    ).encode()


def _doctype_doc(encoding: str, comment: int = 0) -> bytes:
    prolog = f'<?xml version="1.0" encoding="{encoding}"?>\n'
    filler = f"<!--{'x' * comment}-->\n" if comment else ""
    doctype = '<!DOCTYPE Project [<!ENTITY e "entity">]>\n'
    return (prolog + filler + doctype + f'<Project xmlns="{NS}" name="&e;"/>').encode(encoding)


def big_codebook(n: int) -> bytes:
    codes = "".join(f'<Code guid="{_guid(1, i)}" name="code {i}" isCodable="true"/>' for i in range(n))
    head = f'<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="{CODEBOOK_NS}">'
    return f"{head}<Codes>{codes}</Codes></CodeBook>".encode()


# --------------------------------------------------------------------------- the cases


def add_cases(root: Path, add: Add, write: Callable[[Path, str, bytes], str]) -> None:
    """Write the round-two reading cases under ``root`` and register each with ``add``."""
    bz, xz = zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA
    assert bz2 and lzma  # the methods need their modules (stdlib; imported to fail early)
    add("zip-bzip2-member", write(root, "bzip2.qdpx", method_bomb(bz)), "error", "bzip2 member: no output bound")
    add("zip-lzma-member", write(root, "lzma.qdpx", method_bomb(xz)), "error", "LZMA member: no output bound")
    add(
        "xlsx-lzma-member",
        write(root, "lzma.xlsx", zipped({**office_parts("xlsx"), "xl/big.bin": b"\0" * (8 << 20)}, xz)),
        "error",
        "an Office file with LZMA members",
    )
    add("zip-overlap-fifield", write(root, "fifield.qdpx", fifield_qdpx()), "error", "overlapping entries")
    add("docx-overlap-fifield", write(root, "fifield.docx", fifield_office("docx")), "error", "overlapping entries")
    add("xlsx-overlap-fifield", write(root, "fifield.xlsx", fifield_office("xlsx")), "error", "overlapping entries")
    add(
        "zip-member-read-per-source",
        write(root, "shared-member.qdpx", shared_member()),
        "error",
        "one 1 MB member read by 2,000 sources: every read counts against the archive's budget",
    )
    add(
        "zip-member-read-by-few-sources",
        write(root, "shared-few.qdpx", zipped({"project.qde": project_with_sources(["internal://t.txt"] * 3),
                                               "sources/t.txt": b"shared text"})),
        "project",
        "a member read by three sources is fine",
    )
    add(
        "zip-many-small-bombs",
        write(root, "small-bombs.qdpx", many_small_bombs_qdpx()),
        "error",
        "40 members of 1 MB, each under the per-member ratio floor",
    )
    add(
        "docx-many-small-bombs",
        write(root, "small-bombs.docx", many_small_bombs_office("docx")),
        "error",
        "100 parts of 1 MB in a small .docx",
    )
    add(
        "xlsx-many-small-bombs",
        write(root, "small-bombs.xlsx", many_small_bombs_office("xlsx")),
        "error",
        "100 parts of 1 MB in a small .xlsx",
    )
    add(
        "xlsx-shared-string-cells",
        write(root, "shared-strings.xlsx", shared_string_cells()),
        "error",
        "40,000 cells each showing one 4,000-character shared string",
    )
    add("xlsx-30k-cells", write(root, "many-cells.xlsx", many_cells()), "project", "30,000 stored cells, streamed")
    add("nvivo-huge-range", write(root, "range.txt", huge_range()), "error", "References 1-1000000000")
    add("nvivo-many-ranges", write(root, "ranges.txt", many_small_ranges()), "error", "merged heads add 18,000")
    add("nvivo-deep-code", write(root, "deep-code.txt", deep_code_path()), "error", "a code 1,900 levels deep")
    add(
        "nvivo-block-10k-refs",
        write(root, "refs10k.txt", one_block_many_refs()),
        "project",
        "10,000 references in one source block, read in linear time",
    )
    add("docx-deep-codebook", write(root, "deep-codebook.docx", deep_codebook_docx()), "error", "300-level codebook")
    add(
        "qde-unknown-children",
        write(root, "unknown-children.qde", unknown_children()),
        "project",
        "60,000 unknown children of one selection: Issues, read in linear time",
    )
    add(
        "qde-late-doctype",
        write(root, "late-doctype.qde", _doctype_doc("utf-8", comment=70_000)),
        "error",
        "a DOCTYPE after a 70 KB comment",
    )
    add("qde-utf32-doctype", write(root, "utf32.qde", _doctype_doc("utf-32")), "error", "a DOCTYPE in UTF-32")
    add("qde-utf7-doctype", write(root, "utf7.qde", _doctype_doc("utf-7")), "error", "a DOCTYPE in UTF-7")
    add("qdc-20k-codes", write(root, "codes20k.qdc", big_codebook(20_000)), "project", "a 20,000-code codebook")
    fifo = root / "fifo.qde"
    if hasattr(os, "mkfifo") and not fifo.exists():
        os.mkfifo(fifo)
    if fifo.exists():
        add("fifo-input", "fifo.qde", "error", "a FIFO nobody writes to: no hang")
    zero = root / "zero.qde"
    if os.path.exists("/dev/zero") and not zero.is_symlink():
        zero.symlink_to("/dev/zero")
    if zero.is_symlink():
        add("symlink-to-dev-zero", "zero.qde", "error", "a .qde symlinked to /dev/zero")
