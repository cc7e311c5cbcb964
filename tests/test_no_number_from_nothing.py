"""No number from nothing (issue 14): empty agreement, unknown names, options without their
partner option, and the stated word rule.

Oracles: hand-built projects whose answer is known by construction (two coders with no source
in common; a set or coder that does not exist) and word counts made by hand from the rule the
README states.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import qdx
from qdx.analysis._codings import count_words
from qdx.analysis.agreement import agree
from qdx.analysis.matrix import matrix
from qdx.cli import main
from qdx.errors import NoDataError, QdxError, UnknownNameError
from qdx.model import Code, Coding, Guid, Project, Set, TextSelection, TextSource, User
from qdx.names import suggestions

STUDY = Path(__file__).resolve().parent.parent / "fixtures" / "wechat-moments" / "project.qdpx"


def g(i: int) -> Guid:
    return Guid(f"00000000-0000-4000-8000-{i:012d}")


def disjoint_coders() -> Project:
    """Ann coded source S1 only, Bob coded S2 only: they share no coded source."""

    def source(n: int, user: int) -> TextSource:
        sel = TextSelection(
            guid=g(100 + n), start=0, end=5, codings=(Coding(guid=g(200 + n), code=g(1), creating_user=g(user)),)
        )
        return TextSource(guid=g(10 + n), name=f"S{n}", text="Hello there.", selections=(sel,))

    return Project(
        name="disjoint",
        users=(User(guid=g(50), name="Ann"), User(guid=g(51), name="Bob")),
        codes=(Code(guid=g(1), name="greeting"),),
        sources=(source(1, 50), source(2, 51)),
        sets=(Set(guid=g(60), name="Interviews", member_sources=(g(11),)),),
    )


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qdx: error: "), err
    return lines[0]


# --------------------------------------------------------------------------- agreement over nothing


def test_library_refuses_agreement_without_shared_sources() -> None:
    with pytest.raises(NoDataError, match="share no source"):
        agree(disjoint_coders(), coders_a=["Ann"], coders_b=["Bob"])


def test_library_refuses_agreement_when_nobody_coded() -> None:
    empty = Project(
        name="e", codes=(Code(guid=g(1), name="c"),), sources=(TextSource(guid=g(2), name="S", text="abc"),)
    )
    with pytest.raises(NoDataError):
        agree(empty, empty)


def test_cli_agreement_without_shared_sources_is_one_line_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "p.qdpx"
    qdx.write(disjoint_coders(), path)
    code, out, err = run("agree", str(path), "--coders", "Ann", "Bob")
    assert code == 1 and out == ""
    assert "share no source" in one_line_error(err)
    assert "1.000" not in out + err


def test_cli_agreement_json_gives_nulls_and_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "p.qdpx"
    qdx.write(disjoint_coders(), path)
    code, out, _err = run("agree", str(path), "--coders", "Ann", "Bob", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["computed"] is False and "share no source" in data["reason"]
    assert data["overall"]["kappa_pooled"] is None and data["overall"]["agreement"] is None
    assert all(v is None for v in data["overall"].values())


def test_all_sources_compares_one_sided_coding_as_disagreement(tmp_path: Path) -> None:
    """With --all-sources the one-sided sources are compared: κ 0, a real number, not an error."""
    result = agree(disjoint_coders(), coders_a=["Ann"], coders_b=["Bob"], all_sources=True)
    assert result.overall.kappa_pooled < 0.5  # each side coded what the other did not


def test_saturation_without_codings_is_an_error_not_a_verdict(tmp_path: Path) -> None:
    from qdx.analysis.saturation import saturation

    uncoded = Project(name="u", codes=(Code(guid=g(1), name="c"),),
                      sources=(TextSource(guid=g(2), name="S", text="abc"),))  # fmt: skip
    with pytest.raises(NoDataError, match="none of the 1 source"):
        saturation(uncoded)
    path = tmp_path / "u.qdpx"
    qdx.write(uncoded, path)
    code, out, err = run("saturation", str(path))
    assert code == 1 and out == "" and "no saturation to compute" in one_line_error(err)


# --------------------------------------------------------------------------- unknown names


def test_unknown_coder_differs_in_case_suggests_the_user(tmp_path: Path) -> None:
    path = tmp_path / "p.qdpx"
    qdx.write(disjoint_coders(), path)
    code, _out, err = run("agree", str(path), "--coders", "ann", "Bob")
    assert code == 2
    line = one_line_error(err)
    assert "no coder named 'ann'" in line and "did you mean 'Ann'" in line and "Bob" in line


def test_library_unknown_names_raise_with_what_exists() -> None:
    project = disjoint_coders()
    with pytest.raises(UnknownNameError) as caught:
        matrix(project, coder="bob")
    assert caught.value.suggestions == ("Bob",) and set(caught.value.known) == {"Ann", "Bob"}
    assert isinstance(caught.value, QdxError)
    with pytest.raises(UnknownNameError, match="did you mean 'Interviews'"):
        matrix(project, set_name="interviews")


@pytest.mark.parametrize(
    "args",
    [
        ["matrix", "{p}", "--coder", "bob"],
        ["matrix", "{p}", "--set", "interviews"],
        ["matrix", "{p}", "--cols", "variable:gender"],
        ["export", "{p}", "{out}", "--to", "csv", "--coder", "ANN"],
        ["export", "{p}", "{out}", "--to", "csv", "--set", "Nope"],
        ["saturation", "{p}", "--holdout-set", "interviews"],
        ["saturation", "{p}", "--order", "set:nothing"],
        ["agree", "{p}", "--coder-a", "Ann", "--coder-b", "Carol"],
    ],
    ids=lambda a: " ".join(a[:1] + a[2:]),
)
def test_every_filter_that_matches_nothing_is_one_line_exit_2(tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "p.qdpx"
    qdx.write(disjoint_coders(), path)
    filled = [a.format(p=path, out=tmp_path / "out") for a in args]
    code, out, err = run(*filled)
    assert code == 2, (out, err)
    line = one_line_error(err)
    assert line.startswith("qdx: error: no ") and "(" in line  # what exists is listed
    assert not (tmp_path / "out").exists()


def test_a_real_user_with_no_codings_is_an_honest_zero() -> None:
    project = disjoint_coders()
    project = Project(**{**{f: getattr(project, f) for f in ("name", "codes", "sources", "sets")},
                         "users": (*project.users, User(guid=g(52), name="Cy"))})  # fmt: skip
    assert matrix(project, coder="Cy").to_numpy().sum() == 0


def test_suggestions_are_case_insensitive_first() -> None:
    assert suggestions("researcher a", ["Researcher A", "Researcher B"]) == ["Researcher A"]
    assert suggestions("Reseacher A", ["Researcher A", "Someone"]) == ["Researcher A"]
    assert suggestions("zzz", ["Researcher A"]) == []


# --------------------------------------------------------------------------- options without their partner


@pytest.mark.parametrize(
    ("args", "needed"),
    [
        (["validate", "{p}", "--expect", "concepts=40"], "--structure gt"),
        (["validate", "{p}", "--core", "X"], "--structure gt"),
        (["validate", "{p}", "--min-sources", "2"], "--structure gt"),
        (["matrix", "{p}", "--layout", "nvivo"], "-o/--output"),
        (["matrix", "{p}", "--cooccur", "document"], "--rows codes --cols codes"),
    ],
)
def test_options_that_need_another_are_usage_errors(args: list[str], needed: str) -> None:
    code, _out, err = run(*[a.format(p=STUDY) for a in args])
    assert code == 2
    assert one_line_error(err).endswith(f"needs {needed}")


def test_convert_unit_with_sources_is_a_usage_error(tmp_path: Path) -> None:
    out = str(tmp_path / "o.qdpx")
    code, _out, err = run("convert", str(STUDY), out, "--position-unit", "utf16", "--sources", str(tmp_path))
    assert code == 2 and "--position-unit does not apply with --sources" in one_line_error(err)
    assert not (tmp_path / "o.qdpx").exists()


def test_the_partner_option_makes_them_valid() -> None:
    code, _out, _err = run("validate", str(STUDY), "--structure", "gt", "--min-sources", "1")
    assert code in (0, 1)  # a verdict, not a usage error


# --------------------------------------------------------------------------- the word rule


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("don't", 1),
        ("Mac’s", 1),
        ("2024-01-05", 1),
        ("well-known facts", 2),
        ("1,000 people at 10:30.", 4),
        ("Hello, world!", 2),
        ("e.g. this", 2),
        ("naïve", 1),
        ("nai\u0308ve", 1),  # decomposed: the combining diaeresis stays inside the word
        ("हिन्दी भाषा", 2),  # Devanagari vowel signs are marks
        ("我们的朋友圈", 6),  # one word per ideograph
        ("周末去爬山啦⛰️📸", 6),  # emoji and their variation selectors are no words
        ("— , ; —", 0),
        ("snake_case", 2),
    ],
)
def test_word_rule(text: str, words: int) -> None:
    assert count_words(text) == words
