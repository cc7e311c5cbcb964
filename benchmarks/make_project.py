"""Generate a deterministic, schema-valid REFI-QDA project of a given size for benchmarks.

    python benchmarks/make_project.py --selections 100000 --out benchmarks/data

writes ``bench-100000.qde`` (bare XML) and ``bench-100000.qdpx`` (zip with ``sources/``).
Codes come in three levels (main → sub → concept); sources mix Latin, CJK and emoji text
(astral characters), so position conversion is exercised at scale. The XML is produced as
text in one streaming pass, independent of qdx's own writer, so it is a fair input for
measuring qdx's reader against lxml.
"""

from __future__ import annotations

import argparse
import random
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

NS = "urn:QDA-XML:project:1.0"
WORDS = (
    "privacy moments post friends share photo family trust risk control visible group "
    "comment like boundary setting audience mood travel food study work weekend".split()
)
CJK = "朋友圈隐私设置分组可见屏蔽父母同事生活分享照片心情旅行美食"
EMOJI = "😂🙈📸🎉❤️🍜✈️🤔👍🌸"


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
    if rng.random() < 0.3:
        words.insert(rng.randint(0, len(words)), "".join(rng.choice(CJK) for _ in range(rng.randint(2, 6))))
    if rng.random() < 0.25:
        words.append(rng.choice(EMOJI))
    return " ".join(words).capitalize() + "."


def _text(rng: random.Random, min_chars: int) -> str:
    lines: list[str] = []
    size = 0
    while size < min_chars:
        line = _sentence(rng)
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines) + "\n"


def _codes(rng: random.Random, n_main: int, n_sub: int, n_concept: int) -> tuple[list[str], list[str]]:
    """Return (XML lines of the code tree, GUIDs of the codable leaf concepts)."""
    out: list[str] = []
    leaves: list[str] = []
    for m in range(n_main):
        out.append(f'<Code guid="{_guid(rng)}" name="Main {m}" isCodable="false" color="#3366cc">')
        for s in range(n_sub):
            out.append(f'<Code guid="{_guid(rng)}" name="Sub {m}.{s}" isCodable="false">')
            for c in range(n_concept):
                guid = _guid(rng)
                leaves.append(guid)
                out.append(
                    f'<Code guid="{guid}" name="Concept {m}.{s}.{c}" isCodable="true">'
                    f"<Description>Concept {m}.{s}.{c}</Description></Code>"
                )
            out.append("</Code>")
        out.append("</Code>")
    return out, leaves


def _selections(
    rng: random.Random, text: str, count: int, leaves: list[str], users: list[str]
) -> Iterator[str]:
    """Selections in code points (the spec's unit, REFI §10.2), end exclusive."""
    length = len(text)
    for _ in range(count):
        start = rng.randrange(0, max(length - 200, 1))
        end = min(length, start + rng.randint(10, 200))
        user = rng.choice(users)
        yield (
            f'<PlainTextSelection guid="{_guid(rng)}" name="" startPosition="{start}" endPosition="{end}"'
            f' creatingUser="{user}" creationDateTime="2024-01-01T00:00:00Z">'
            f'<Coding guid="{_guid(rng)}" creatingUser="{user}" creationDateTime="2024-01-01T00:00:00Z">'
            f'<CodeRef targetGUID="{rng.choice(leaves)}"/></Coding></PlainTextSelection>'
        )


def generate(selections: int, out_dir: Path, *, sources: int = 200, seed: int = 7) -> tuple[Path, Path]:
    """Write ``bench-<selections>.qde`` and ``.qdpx`` into ``out_dir``; return their paths."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    qde = out_dir / f"bench-{selections}.qde"
    qdpx = out_dir / f"bench-{selections}.qdpx"
    users = [_guid(rng) for _ in range(5)]
    code_lines, leaves = _codes(rng, 8, 10, 24)
    per_source = [selections // sources + (1 if i < selections % sources else 0) for i in range(sources)]
    texts: list[tuple[str, str]] = []
    with qde.open("w", encoding="utf-8") as xml:
        xml.write(
            f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="bench" origin="qdx benchmarks">\n'
        )
        xml.write("<Users>" + "".join(f'<User guid="{u}" name="coder{i}"/>' for i, u in enumerate(users)))
        xml.write(
            "</Users>\n<CodeBook><Codes>\n" + "\n".join(code_lines) + "\n</Codes></CodeBook>\n<Sources>\n"
        )
        for i, count in enumerate(per_source):
            guid = _guid(rng)
            text = _text(rng, min_chars=max(2000, count * 60))
            texts.append((guid, text))
            xml.write(
                f'<TextSource guid="{guid}" name={quoteattr(f"Source {i}")}'
                f' plainTextPath="internal://{guid}.txt">\n'
            )
            for line in _selections(rng, text, count, leaves, users):
                xml.write(line + "\n")
            xml.write("</TextSource>\n")
        xml.write(
            f"</Sources>\n<Description>{escape('Synthetic benchmark project')}</Description>\n</Project>\n"
        )
    with zipfile.ZipFile(qdpx, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.write(qde, "project.qde")
        for guid, text in texts:
            zf.writestr(f"sources/{guid}.txt", text.encode("utf-8"))
    return qde, qdpx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--selections", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args()
    for n in args.selections:
        qde, qdpx = generate(n, args.out, sources=args.sources)
        print(f"{n:>9} selections: {qde} ({qde.stat().st_size / 1e6:.1f} MB), {qdpx}")


if __name__ == "__main__":
    main()
