"""The grounded-theory model figure (qdx model / qdx.model_figure): tiers, links, weights,
escaping, renderers and the CLI."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

import qdx
from qdx.cli import main
from qdx.model import Code, Coding, Direction, Guid, Link, Project, TextSelection, TextSource, iter_codes
from qdx.report.model_figure import model_figure, text_width, wrap

STUDY = Path(__file__).resolve().parent.parent / "fixtures" / "wechat-moments" / "project.qdpx"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def study() -> Project:
    return qdx.read(STUDY)


def _codings_below(code: Code, project: Project) -> int:
    """Oracle: codings on ``code`` or any code below it, counted from the selections."""
    below = {c.guid.key for c, _ in iter_codes((code,))}
    return sum(1 for s in project.sources if isinstance(s, TextSource)
               for sel in s.selections for coding in sel.codings if coding.code.key in below)


def test_tiers_core_then_four_then_twenty(study: Project) -> None:
    scene = qdx.model_figure(study).scene
    core = study.codes[0]
    mains = list(core.children)
    boxes = {b.name: b for b in scene.boxes}
    assert [b.name for b in scene.boxes if b.depth == 0] == [core.name]
    assert [b.name for b in scene.boxes if b.depth == 1] == [m.name for m in mains]
    assert sorted(b.name for b in scene.boxes if b.depth == 2) == sorted(s.name for m in mains for s in m.children)
    assert len(scene.boxes) == 25
    for category in mains:
        column = boxes[category.name]
        assert column.y > boxes[core.name].bottom
        for sub in category.children:
            box = boxes[sub.name]
            assert box.y > column.bottom and column.x <= box.x < column.x + column.w  # stacked under its main


def test_depth_four_adds_the_concepts(study: Project) -> None:
    scene = qdx.model_figure(study, depth=4).scene
    assert scene.counts == {0: 1, 1: 4, 2: 20, 3: 40}


def test_line_weights_follow_references(study: Project) -> None:
    scene = qdx.model_figure(study).scene
    core = study.codes[0]
    refs = {m.name: _codings_below(m, study) for m in core.children}
    boxes = {b.name: b for b in scene.boxes}
    weight = {}
    for line in scene.lines:
        for name, box in boxes.items():
            if name in refs and line.points[-1] == (box.cx, box.y):
                weight[name] = line.width
    assert set(weight) == set(refs)
    ordered = sorted(refs, key=refs.__getitem__)
    assert [weight[n] for n in ordered] == sorted(weight.values())
    assert weight[ordered[0]] < weight[ordered[-1]]


def test_links_are_labelled_arrows_in_the_svg(study: Project) -> None:
    svg = qdx.model_figure(study).svg
    root = etree.fromstring(svg.encode())
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    for link in study.links:
        assert link.name is not None
        assert " ".join(link.name.split()[:2]) in texts  # the label's first line
    arrows = [p for p in root.iter(f"{SVG}polyline") if p.get("marker-end") or p.get("marker-start")]
    assert len(arrows) == len(study.links)
    # The study's links run from each main category to the core; the core -> main line they
    # ride on is drawn from the core down, so the arrowhead (at the target) is its start.
    assert all(p.get("marker-start") and not p.get("marker-end") for p in arrows)
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert any(t and t.startswith("Model: ") for t in titles)


def _one(name: str, *, children: tuple[Code, ...] = (), n: int = 1) -> Code:
    return Code(guid=Guid(f"00000000-0000-4000-8000-{n:012d}"), name=name, children=children, color="#4E79A7")


def _tiny(core_name: str, main_names: list[str], link_name: str | None = None) -> Project:
    mains = tuple(_one(name, n=10 + i) for i, name in enumerate(main_names))
    core = _one(core_name, children=mains, n=1)
    text = "x" * 40
    sel = TextSelection(guid=Guid("00000000-0000-4000-8000-000000000900"), start=0, end=5,
                        codings=(Coding(guid=Guid("00000000-0000-4000-8000-000000000901"), code=mains[0].guid),))
    source = TextSource(guid=Guid("00000000-0000-4000-8000-000000000902"), name="S", text=text, selections=(sel,))
    links = (Link(guid=Guid("00000000-0000-4000-8000-000000000903"), name=link_name, direction=Direction.ONE_WAY,
                  origin=mains[0].guid, target=core.guid),) if link_name else ()
    return Project(name="<tiny>", codes=(core,), sources=(source,), links=links)


HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def test_hostile_names_stay_text() -> None:
    project = _tiny(HOSTILE, ["javascript:alert(3)", "b"], link_name=HOSTILE)
    svg = model_figure(project).svg
    root = etree.fromstring(svg.encode())  # well-formed: nothing broke out of its element
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter(f"{SVG}img"))
    assert "<script>" not in svg
    assert not [a for el in root.iter() for a in el.attrib if a.lower().startswith("on")]  # no event handler
    shown = "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "<script>" in shown  # the name is shown, as text
    # The link runs main → core: drawn along the core→main tree line, so its head is at the start.
    heads = [(p.get("marker-start"), p.get("marker-end")) for p in root.iter(f"{SVG}polyline")
             if p.get("marker-start") or p.get("marker-end")]
    assert len(heads) == 1 and heads[0][0] and not heads[0][1]


def test_wrap_breaks_words_and_cjk() -> None:
    assert wrap("aaa bbb ccc", text_width("aaa bbb", 10), 10) == ("aaa bbb", "ccc")
    assert wrap("隐私悖论行为", 10 * 3, 10) == ("隐私悖", "论行为")  # one em per ideograph
    assert all(text_width(line, 10) <= 40 for line in wrap("x" * 30, 40, 10, max_lines=9))


def _has_cjk_font() -> bool:
    from qdx.report.model_render import cjk_fonts

    return bool(cjk_fonts())


def test_png_and_pdf_render_cjk_without_missing_glyphs(tmp_path: Path) -> None:
    if not _has_cjk_font():
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    project = _tiny("隐私悖论行为", ["平台因素", "用户因素"], link_name="平台因素影响核心范畴")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing" when a font lacks CJK
        model_figure(project, tmp_path / "m.png")
        model_figure(project, tmp_path / "m.pdf")
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "m.pdf").read_bytes()[:5] == b"%PDF-"


def test_cli_model(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "model.svg"
    result = runner.invoke(main, ["model", str(STUDY), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 → 4 → 20 codes by level, 4 links drawn" in result.output
    for args in (["-o", str(tmp_path / "m.gif")], ["-o", str(tmp_path / "m.svg"), "--depth", "0"]):
        result = runner.invoke(main, ["model", str(STUDY), *args])
        assert result.exit_code == 2 and "Traceback" not in result.output
    assert not (tmp_path / "m.gif").exists() and not (tmp_path / "m.svg").exists()


def test_dollar_signs_and_control_characters_render(tmp_path: Path) -> None:
    # "$...$" would be matplotlib mathtext (and "$\\frac{" a parse error); \x01 cannot go in XML.
    project = _tiny("core $\\frac{$ $x^2$", ["a $ b\x01", "cost $5"], link_name="$\\alpha$ link\x02")
    figure = model_figure(project)
    root = etree.fromstring(figure.svg.encode())  # well-formed despite the control characters
    shown = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "$x^2$" in shown and "a $ b" in shown
    for suffix in (".png", ".pdf"):
        figure.save(tmp_path / f"m{suffix}")
        assert (tmp_path / f"m{suffix}").stat().st_size > 1000
