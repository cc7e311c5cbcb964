"""In-memory projects for the matrix, frames and report tests (no reader needed).

* ``r1()`` — METHODS.md §D.4 oracle R1: D1/D2 of 100 characters, codes platform/user/situational.
* ``gt()`` — a small grounded-theory tree (core → 2 main → 4 sub → 8 concepts), three
  interviews with ``A-i-j`` lines, two coders, cases with a gender variable, a set, one
  passage whose text is a formula, and a coding on a category node.

Load from a test with ``load_helper()`` (pytest runs in importlib mode, no sys.path games).
"""

from __future__ import annotations

from qdx.model import (
    Case,
    Code,
    Coding,
    Guid,
    Project,
    Set,
    TextSelection,
    TextSource,
    User,
    ValueKind,
    Variable,
    VariableType,
    VariableValue,
)


class _Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> Guid:
        self.n += 1
        return Guid(f"00000000-0000-4000-8000-{self.n:012d}")


def r1() -> Project:
    """Oracle R1 (METHODS.md §D.4) as a project."""
    ids = _Ids()
    platform, user, situational = (Code(guid=ids(), name=n) for n in ("platform", "user", "situational"))

    def sel(start: int, end: int, code: Code) -> TextSelection:
        return TextSelection(guid=ids(), start=start, end=end, codings=(Coding(guid=ids(), code=code.guid),))

    d1 = TextSource(guid=ids(), name="D1", text="a" * 100,
                    selections=(sel(0, 20, platform), sel(10, 30, user), sel(50, 60, situational)))
    d2 = TextSource(guid=ids(), name="D2", text="b" * 100,
                    selections=(sel(0, 10, platform), sel(40, 50, user), sel(45, 55, platform)))
    return Project(name="R1", codes=(platform, user, situational), sources=(d1, d2))


LINES = {
    1: ["I post travel photos but hide them from my parents.", "Privacy settings are confusing.",
        "朋友圈分组可见很好用。", "=HYPERLINK(\"http://x\",\"y\")"],
    2: ["My friends see everything I share.", "I worry about strangers.", "Sometimes I delete old posts."],
    3: ["Work groups make me careful.", "I like the three-day visibility option.", "+1 for privacy."],
}


def _text(interviewee: int) -> tuple[str, list[tuple[int, int]]]:
    """Transcript text with ``A-i-j`` line labels and each sentence's [start, end)."""
    parts, spans, pos = [], [], 0
    for j, sentence in enumerate(LINES[interviewee], start=1):
        label = f"A-{interviewee}-{j} "
        parts.append(label + sentence + "\n")
        spans.append((pos + len(label), pos + len(label) + len(sentence)))
        pos += len(label) + len(sentence) + 1
    return "".join(parts), spans


# (interviewee, sentence index, concept index 0..7, coder index); several overlap on purpose.
CODINGS = [
    (1, 0, 0, 0), (1, 0, 2, 0), (1, 1, 1, 0), (1, 2, 4, 1), (1, 3, 6, 0),
    (2, 0, 0, 0), (2, 0, 5, 1), (2, 1, 3, 0), (2, 2, 7, 1), (2, 2, 7, 0),
    (3, 0, 6, 1), (3, 1, 2, 0), (3, 1, 3, 0), (3, 2, 1, 1),
]


def _tree(ids: _Ids) -> tuple[Code, list[Code], list[Code]]:
    concepts = [Code(guid=ids(), name=f"concept {i + 1}") for i in range(8)]
    subs = [Code(guid=ids(), name=f"sub {i + 1}", is_codable=False, description=f"definition of sub {i + 1}",
                 children=tuple(concepts[2 * i: 2 * i + 2])) for i in range(4)]
    mains = [Code(guid=ids(), name=n, is_codable=False, children=tuple(subs[2 * i: 2 * i + 2]))
             for i, n in enumerate(("platform factors", "user factors"))]
    core = Code(guid=ids(), name="privacy paradox behaviour", is_codable=False, children=tuple(mains))
    return core, subs, concepts


def gt() -> Project:
    """The small grounded-theory project described in the module docstring."""
    ids = _Ids()
    users = (User(guid=ids(), name="alice"), User(guid=ids(), name="bob"))
    core, subs, concepts = _tree(ids)
    sources = []
    for i in (1, 2, 3):
        text, spans = _text(i)
        sels = []
        for who, j, c, coder in CODINGS:
            if who == i:
                start, end = spans[j]
                sels.append(TextSelection(guid=ids(), start=start, end=end, creating_user=users[coder].guid,
                                          codings=(Coding(guid=ids(), code=concepts[c].guid,
                                                          creating_user=users[coder].guid),)))
        if i == 3:  # a coding on a subcategory node (above the concept level)
            start, end = spans[0]
            sels.append(TextSelection(guid=ids(), start=start, end=end + 5,
                                      codings=(Coding(guid=ids(), code=subs[3].guid,
                                                      creating_user=users[0].guid),)))
        sources.append(TextSource(guid=ids(), name=f"Interview {i}", text=text, selections=tuple(sels)))
    gender = Variable(guid=ids(), name="gender", type=VariableType.TEXT)
    age = Variable(guid=ids(), name="age", type=VariableType.INTEGER)
    cases = tuple(
        Case(guid=ids(), name=f"P{i}", source_refs=(sources[i - 1].guid,),
             variable_values=(VariableValue(variable=gender.guid, kind=ValueKind.TEXT, value=g),
                              VariableValue(variable=age.guid, kind=ValueKind.INTEGER, value=a)))
        for i, g, a in ((1, "female", "21"), (2, "male", "24"), (3, "female", "29")))
    sets = (Set(guid=ids(), name="platform only", member_codes=(core.children[0].guid,)),
            Set(guid=ids(), name="first two", member_sources=(sources[0].guid, sources[1].guid)))
    return Project(name="GT toy", users=users, codes=(core,), variables=(gender, age), cases=cases,
                   sources=tuple(sources), sets=sets)
