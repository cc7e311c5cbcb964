"""Build the hostile-input corpus: files that try to attack or crash a QDA reader.

    python tests/hostile/make_corpus.py OUT_DIR      # writes the files and cases.json

Every case names a file (or folder) and the outcome qdx must reach: ``error`` (a QdxError with
a one-line message, exit status 1 from the CLI) or ``project`` (a valid Project, possibly
with Issues). The files are generated, never downloaded; big ones are sparse or compressed so
the corpus costs little disk. Used by tests/hostile/test_hostile.py.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

NS = "urn:QDA-XML:project:1.0"
G1 = "11111111-1111-1111-1111-111111111111"
G2 = "22222222-2222-2222-2222-222222222222"
G3 = "33333333-3333-3333-3333-333333333333"
G4 = "44444444-4444-4444-4444-444444444444"


@dataclass(frozen=True)
class Case:
    name: str
    file: str
    expect: str  # "error" or "project"
    why: str


def qde(body: str = "", *, head: str = "", name: str = "hostile") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n{head}<Project xmlns="{NS}" name="{name}">'
        f"{body}</Project>\n"
    ).encode()


def text_project(path: str = f"internal://{G2}.txt") -> bytes:
    return qde(
        f'<Users><User guid="{G4}" name="u"/></Users>'
        f'<CodeBook><Codes><Code guid="{G1}" name="c" isCodable="true"/></Codes></CodeBook>'
        f'<Sources><TextSource guid="{G2}" name="doc" plainTextPath="{path}">'
        f'<PlainTextSelection guid="{G3}" startPosition="0" endPosition="4">'
        f'<Coding guid="{G4[:-1]}5" creatingUser="{G4}"><CodeRef targetGUID="{G1}"/></Coding>'
        f"</PlainTextSelection></TextSource></Sources>"
    )


def qdpx(members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


# --------------------------------------------------------------------------- XML attacks

XXE_FILE = qde(
    "<Description>&xxe;</Description>",
    head='<!DOCTYPE Project [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n',
)
XXE_URL = qde(
    "<Description>&xxe;</Description>",
    head='<!DOCTYPE Project [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]>\n',
)
EXTERNAL_DTD = qde(head='<!DOCTYPE Project SYSTEM "http://127.0.0.1:9/evil.dtd">\n')
PARAM_ENTITY = qde(head='<!DOCTYPE Project [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>\n')
LAUGHS = qde(
    "<Description>&l9;</Description>",
    head='<!DOCTYPE Project [<!ENTITY l0 "lol">'
    + "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    + "]>\n",
)
QUADRATIC = qde(
    "<Description>" + "&big;" * 20000 + "</Description>",
    head='<!DOCTYPE Project [<!ENTITY big "' + "x" * 50000 + '">]>\n',
)


def deep_nesting() -> bytes:
    depth = 100_000
    return qde("<Description>" + "<a>" * depth + "</a>" * depth + "</Description>")


def big_attribute(path: Path) -> None:
    with path.open("wb") as fh:
        fh.write(f'<?xml version="1.0"?><Project xmlns="{NS}" name="'.encode())
        chunk = b"A" * (1 << 20)
        for _ in range(100):
            fh.write(chunk)
        fh.write(b'"/>')


# --------------------------------------------------------------------------- zip attacks


def zip_with_raw_names(names: list[str]) -> bytes:
    """A zip whose entry names are written verbatim (zipfile would normalise some)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("project.qde", text_project())
        for n in names:
            info = zipfile.ZipInfo("placeholder")
            info.filename = n
            zf.writestr(info, b"owned")
    return buf.getvalue()


def symlink_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("project.qde", text_project())
        info = zipfile.ZipInfo(f"sources/{G2}.txt")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def bomb_ratio() -> bytes:
    """One member inflating 3 GiB of zeros... written as 64 MiB but ratio ~ 1000:1+."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("project.qde", text_project())
        with zf.open(f"sources/{G2}.txt", "w", force_zip64=True) as member:
            zero = b"\0" * (1 << 20)
            for _ in range(64):
                member.write(zero)
    return buf.getvalue()


def bomb_size() -> bytes:
    """A member whose header claims 3 GiB (over the 2 GiB limit)."""
    data = bytearray(
        qdpx({"project.qde": text_project(), f"sources/{G2}.txt": b"abcd"}, method=zipfile.ZIP_STORED)
    )
    # Patch the central directory's uncompressed size of the second entry to 3 GiB.
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 0xC0000000)
    return bytes(data)


def lying_header() -> bytes:
    """Header says 4 bytes; the deflate stream inflates to 64 MiB (header lies)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", text_project())
        zf.writestr(f"sources/{G2}.txt", b"\0" * (64 << 20))
    data = bytearray(buf.getvalue())
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 4)
    return bytes(data)


def nested_zip() -> bytes:
    inner = qdpx({"project.qde": text_project(), f"sources/{G2}.txt": b"text"})
    return qdpx({"inner.qdpx": inner})


def many_entries() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("project.qde", text_project())
        for i in range(100_000):
            zf.writestr(f"sources/x{i}.txt", b"")
    return buf.getvalue()


def duplicate_entries() -> bytes:
    buf = io.BytesIO()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("project.qde", text_project())
            zf.writestr("project.qde", qde(name="second"))
    return buf.getvalue()


def truncated() -> bytes:
    data = qdpx({"project.qde": text_project(), f"sources/{G2}.txt": b"text body here"})
    return data[: len(data) - 30]


def encrypted() -> bytes:
    data = bytearray(qdpx({"project.qde": text_project()}, method=zipfile.ZIP_STORED))
    # Set the "encrypted" flag bit in the local header and the central directory entry.
    data[6] |= 1
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 8] |= 1
    return bytes(data)


# --------------------------------------------------------------------------- office bombs


def office_bomb(kind: str) -> bytes:
    main = "xl/worksheets/sheet1.xml" if kind == "xlsx" else "word/document.xml"
    ctype = "[Content_Types].xml"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr(
            ctype,
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        with zf.open(main, "w", force_zip64=True) as member:
            zero = b" " * (1 << 20)
            for _ in range(64):
                member.write(zero)
    return buf.getvalue()


def xlsx_external_link() -> bytes:
    """A real workbook whose cell is a formula pointing at an external file."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "Row"
    ws["B1"] = "='file:///etc/[passwd]Sheet1'!A1"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- output side (issue 15b)
# Files that read fine but attack what comes after reading: tree walks, numbers, spreadsheet
# cells, terminal output, folder outputs. Each must give every command a valid result or one
# line + exit 1 (tests/hostile/test_hostile_output.py runs them through every command).

G5 = "55555555-5555-5555-5555-555555555555"
G6 = "66666666-6666-6666-6666-666666666666"
G7 = "77777777-7777-7777-7777-777777777777"


def coded_project(codes: str, *, coded: str = G1, start: str = "0", end: str = "4", extra: str = "") -> bytes:
    """A one-source project whose selection is coded with ``coded``; ``codes`` is the Codes XML."""
    return qde(
        f'<Users><User guid="{G4}" name="u"/></Users><CodeBook><Codes>{codes}</Codes></CodeBook>'
        f'<Sources><TextSource guid="{G2}" name="doc"><PlainTextContent>text body here</PlainTextContent>'
        f'<PlainTextSelection guid="{G3}" startPosition="{start}" endPosition="{end}">'
        f'<Coding guid="{G4[:-1]}5" creatingUser="{G4}"><CodeRef targetGUID="{coded}"/></Coding>'
        f"</PlainTextSelection></TextSource></Sources>{extra}"
    )


def code(guid: str, name: str, children: str = "") -> str:
    return f'<Code guid="{guid}" name="{name}" isCodable="true">{children}</Code>'


def output_cases(root: Path) -> list[Case]:
    """The output-side classes of issue 15 (defects 1, 7, 10, 11, 16, 18), one file each."""
    c: list[Case] = []

    def add(name: str, file: str, data: bytes, why: str) -> None:
        c.append(Case(name, _w(root, file, data), "project", why))

    add("tree-child-repeats-guid", "tree-self.qde", coded_project(code(G1, "c", code(G1, "c again"))),
        "a code whose child repeats its GUID: the parent map would be a cycle")
    add("tree-grandchild-repeats-guid", "tree-cycle.qde",
        coded_project(code(G1, "a", code(G5, "b", code(G1, "a again", code(G6, "d")))), coded=G6),
        "a cycle over two levels, with a coded code below it")
    add("tree-repeated-guid-siblings", "tree-siblings.qde",
        coded_project(code(G1, "a", code(G5, "b")) + code(G5, "b twin", code(G1, "a twin"))),
        "two subtrees that swap each other's GUIDs")
    add("position-2-63", "pos-2-63.qde", coded_project(code(G1, "c"), end=str(2**63)),
        "an end position of 2^63 (OverflowError in numpy/pandas)")
    add("position-huge-negative", "pos-neg.qde", coded_project(code(G1, "c"), start=str(-(2**70)), end="4"),
        "a start position of -2^70")
    add("position-end-huge-negative", "pos-end-neg.qde", coded_project(code(G1, "c"), end=str(-(2**70))),
        "an end position of -2^70 after a valid start (found by scripts/fuzz.py)")
    add("position-2-62", "pos-2-62.qde", coded_project(code(G1, "c"), start=str(2**62), end=str(2**62 + 5)),
        "positions inside int64 whose sums are not")
    add("case-dangling-sourceref", "case-dangling.qde",
        coded_project(code(G1, "c"), extra=f'<Cases><Case guid="{G5}" name="k"><SourceRef targetGUID="{G6}"/>'
                      f'<SelectionRef targetGUID="{G7}"/></Case></Cases>'),
        "a case whose SourceRef and SelectionRef name nothing")
    formula = (code(G1, "a;=1+1") + code(G5, "x&#13;=1+1") + code(G6, " =HYPERLINK(&quot;http://x&quot;)")
               + code(G7, "b,@SUM(1)&#10;-2+3"))
    add("formula-separators-and-cr", "formula.qde", coded_project(formula, coded=G5),
        "names that become formulas after a ';' list separator, a bare CR, a space or a LF")
    terminal = code(G1, "evil&#155;31mRED&#133;&#8238;txt.exe", code(G5, "x&#10;qdx: error: forged&#13;"))
    add("terminal-controls", "terminal.qde",
        coded_project(terminal, coded="x&#10;qdx: error: forged"),
        "C1 CSI, NEL, a bidi override and a newline in names and a GUID")
    folder = code(G1, "A", code(G6, "child")) + code(G5, "A.txt", code(G7, "inner")) + code(G3[:-1] + "9", "a")
    add("folder-name-collisions", "collide.qde", coded_project(folder, coded=G6),
        "codes A, A.txt and a: file and folder names that collide in a coded-text folder")
    add("long-code-name", "longname.qde", coded_project(code(G1, "n" * 300)),
        "a 300-character code name (file names in a coded-text folder)")
    return c


# --------------------------------------------------------------------------- the corpus


def _w(root: Path, name: str, data: bytes) -> str:
    (root / name).write_bytes(data)
    return name


def build(root: Path) -> list[Case]:
    """Write every case under ``root``; return the case list (also saved as cases.json)."""
    root.mkdir(parents=True, exist_ok=True)
    c: list[Case] = []

    def add(name: str, file: str, expect: str, why: str) -> None:
        c.append(Case(name, file, expect, why))

    ok_txt = b"text body"
    add("xxe-local-file", _w(root, "xxe-file.qde", XXE_FILE), "error", "external entity to /etc/passwd")
    add("xxe-url", _w(root, "xxe-url.qde", XXE_URL), "error", "external entity to a URL")
    add("external-dtd", _w(root, "ext-dtd.qde", EXTERNAL_DTD), "error", "external DTD")
    add("parameter-entity", _w(root, "param.qde", PARAM_ENTITY), "error", "parameter entity")
    add("billion-laughs", _w(root, "laughs.qde", LAUGHS), "error", "exponential entity expansion")
    add("quadratic-blowup", _w(root, "quadratic.qde", QUADRATIC), "error", "quadratic entity blow-up")
    add("xxe-in-qdpx", _w(root, "xxe.qdpx", qdpx({"project.qde": XXE_FILE})), "error", "XXE inside a qdpx")
    add(
        "laughs-in-qdc",
        _w(
            root,
            "laughs.qdc",
            LAUGHS.replace(b"<Project", b"<CodeBook").replace(b"</Project>", b"</CodeBook>"),
        ),
        "error",
        "billion laughs in a codebook",
    )
    add("deep-nesting", _w(root, "deep.qde", deep_nesting()), "error", "100,000-level nesting")
    big_attribute(root / "bigattr.qde")
    add("100mb-attribute", "bigattr.qde", "error", "a 100 MB attribute")
    for label, names in {
        "zip-slip-dotdot": ["../../evil.txt"],
        "zip-slip-absolute": ["/tmp/evil.txt"],
        "zip-slip-backslash": ["..\\..\\evil.txt"],
        "zip-slip-drive": ["C:/evil.txt"],
        "zip-slip-in-sources": ["sources/../../evil.txt"],
    }.items():
        add(label, _w(root, f"{label}.qdpx", zip_with_raw_names(names)), "error", "entry escapes the archive")
    add("zip-symlink", _w(root, "symlink.qdpx", symlink_zip()), "error", "symlink entry")
    add(
        "zip-bomb-ratio",
        _w(root, "bomb-ratio.qdpx", bomb_ratio()),
        "error",
        "64 MiB of zeros, ratio > 1000:1",
    )
    add("zip-bomb-size", _w(root, "bomb-size.qdpx", bomb_size()), "error", "member claims 3 GiB")
    add("zip-lying-header", _w(root, "lying.qdpx", lying_header()), "error", "header smaller than the data")
    add("nested-zip", _w(root, "nested.qdpx", nested_zip()), "error", "a qdpx inside a qdpx, no .qde")
    add("many-entries", _w(root, "many.qdpx", many_entries()), "error", "100,000 tiny entries")
    add("duplicate-entries", _w(root, "dupes.qdpx", duplicate_entries()), "error", "two project.qde entries")
    add("truncated-zip", _w(root, "truncated.qdpx", truncated()), "error", "central directory cut off")
    add("encrypted-entry", _w(root, "encrypted.qdpx", encrypted()), "error", "encrypted member")
    add(
        "not-a-zip",
        _w(root, "notzip.qdpx", b"this is plain text, not a zip archive\n"),
        "error",
        "wrong content",
    )
    add("empty-file", _w(root, "empty.qdpx", b""), "error", "zero bytes")
    add("empty-qde", _w(root, "empty.qde", b""), "error", "zero bytes")
    (root / "adir.qdpx").mkdir(exist_ok=True)
    add("directory-as-file", "adir.qdpx", "error", "a folder named like a project")
    add(
        "wrong-extension-png", _w(root, "image.qdpx", b"\x89PNG\r\n\x1a\n" + b"\0" * 64), "error", "PNG bytes"
    )
    add("qde-named-xlsx", _w(root, "project.xlsx", text_project()), "project", "content wins over extension")
    add("truncated-xml", _w(root, "truncated.qde", text_project()[:120]), "error", "XML cut mid-element")
    add(
        "nul-bytes-xml",
        _w(root, "nul.qde", text_project().replace(b'name="doc"', b'name="d\0c"')),
        "error",
        "NUL byte in XML",
    )
    add(
        "invalid-utf8-xml",
        _w(root, "badutf8.qde", text_project().replace(b'name="doc"', b'name="\xff\xfe"')),
        "error",
        "invalid UTF-8 in XML",
    )
    add(
        "invalid-utf8-text",
        _w(
            root,
            "badutf8-text.qdpx",
            qdpx({"project.qde": text_project(), f"sources/{G2}.txt": b"ab\xff\xfe\xc3 text"}),
        ),
        "project",
        "undecodable source text is an Issue, not a crash",
    )
    add(
        "invalid-utf16-text",
        _w(
            root,
            "badutf16-text.qdpx",
            qdpx({"project.qde": text_project(), f"sources/{G2}.txt": b"\xff\xfea\x00\x00\xd8"}),
        ),
        "project",
        "a lone surrogate in UTF-16 text is an Issue",
    )
    add(
        "nul-bytes-text",
        _w(root, "nul-text.qdpx", qdpx({"project.qde": text_project(), f"sources/{G2}.txt": b"te\0xt body"})),
        "project",
        "NUL inside a source text",
    )
    add(
        "internal-path-escape",
        _w(
            root,
            "escape.qdpx",
            qdpx({"project.qde": text_project("internal://../../etc/passwd"), f"sources/{G2}.txt": ok_txt}),
        ),
        "project",
        "internal://../../etc/passwd resolves to nothing (an Issue)",
    )
    add(
        "absolute-path",
        _w(root, "absolute.qdpx", qdpx({"project.qde": text_project("absolute:///etc/passwd")})),
        "project",
        "absolute:// is kept as a path and never read",
    )
    add(
        "not-refi-xml",
        _w(root, "other.qde", b'<?xml version="1.0"?><html><body/></html>'),
        "error",
        "XML that is not REFI",
    )
    add(
        "missing-required",
        _w(root, "noname.qde", f'<?xml version="1.0"?><Project xmlns="{NS}"><Sources/></Project>'.encode()),
        "project",
        "schema-invalid but readable: Issues",
    )
    add("xlsx-bomb", _w(root, "bomb.xlsx", office_bomb("xlsx")), "error", "xlsx whose sheet inflates hugely")
    add("docx-bomb", _w(root, "bomb.docx", office_bomb("docx")), "error", "docx whose body inflates hugely")
    add(
        "xlsx-external-link",
        _w(root, "extlink.xlsx", xlsx_external_link()),
        "error",
        "an xlsx that is no NVivo export (external-link formula), refused with a message",
    )
    with (root / "huge-line.txt").open("wb") as fh:  # sparse: 1 GiB, costs no disk
        fh.write(b"Name: Nodes\\\\bomb\n")
        fh.truncate(1 << 30)
    add("nvivo-1gb-line", "huge-line.txt", "error", "NVivo text export with a 1 GB line")
    add(
        "nvivo-broken-header",
        _w(
            root,
            "broken-header.txt",
            "<Files\\\\x> - § 3 references coded\r\nReference 1 - 0.5% Coverage\r\n".encode(),
        ),
        "error",
        "header without a file name or references",
    )
    add(
        "utf16-no-bom-binary",
        _w(root, "garbage.txt", bytes(range(256)) * 4),
        "error",
        "binary bytes posing as text",
    )
    c.extend(output_cases(root))
    from reading_cases import add_cases  # issue 15, reading side: expansion, nesting, file kinds

    add_cases(root, add, _w)
    (root / "cases.json").write_text(json.dumps([asdict(x) for x in c], indent=1), encoding="utf-8")
    return c


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    cases = build(out)
    print(f"{len(cases)} cases written to {out}")
