"""The HTML report: escaping and CSP (without a browser), then the page in headless Chromium:
no console error, no network request, the DOM's numbers, search, collapsing, hostile text."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import qdx
from qdx.cli import main
from qdx.model import Code, Coding, Guid, Project, TextSelection, TextSource, User, iter_codes
from qdx.report.html import json_for_script
from tests.browser import chromium, open_page

STUDY = Path(__file__).resolve().parent.parent / "fixtures" / "wechat-moments" / "project.qdpx"
CODER_B = STUDY.with_name("coder-b.qdpx")
CJK_QUOTE = "为什么总是这样"
SHOTS = Path("/tmp/qdx-report-screenshots")


@pytest.fixture(scope="module")
def study_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "report.html"
    result = CliRunner().invoke(main, ["report", str(STUDY), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _info_codings() -> int:
    result = CliRunner().invoke(main, ["info", str(STUDY), "--json"])
    assert result.exit_code == 0
    return int(json.loads(result.output)["codings"])


# --------------------------------------------------------------------------- without a browser


def test_json_for_script_escapes_markup_and_line_separators() -> None:
    text = json_for_script({"q": "</script><b>&\u2028\u2029"})
    assert text == '{"q":"\\u003c/script\\u003e\\u003cb\\u003e\\u0026\\u2028\\u2029"}'
    assert json.loads(text) == {"q": "</script><b>&\u2028\u2029"}


def _scripts(page: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", page, flags=re.S)


def test_csp_allows_exactly_the_pages_own_script_and_style(study_html: Path) -> None:
    page = study_html.read_text(encoding="utf-8")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert csp is not None
    policy = csp.group(1).replace("&#x27;", "'")
    assert "default-src 'none'" in policy and "'unsafe-inline'" not in policy
    (script,) = _scripts(page)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    assert not re.search(r"\b(?:src|href)=\"(?:https?:)?//", page)  # nothing to fetch


def test_data_block_cannot_close_its_element() -> None:
    page = qdx.html_report(_hostile()).html
    start = page.index('<script type="application/json" id="qdx-data">')
    block = page[start:page.index("</script>", start)]
    assert "<" not in block[len('<script type="application/json" id="qdx-data">'):]
    assert len(_scripts(page)) == 1  # the data did not add a script element
    names = [c["name"] for c in json.loads(block.split(">", 1)[1])["codes"]]
    assert PAYLOADS[3] in names  # "{{SCRIPT}}" inside data stays text: the template is filled in one pass


# --------------------------------------------------------------------------- hostile project

PAYLOADS = (
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=2">',
    "[link](javascript:window.__pwned=3)",
    "{{SCRIPT}} </script><script>window.__pwned=4</script>",
)


def _hostile() -> Project:
    ids = iter(range(1, 1000))

    def guid() -> Guid:
        return Guid(f"00000000-0000-4000-8000-{next(ids):012d}")

    codes = tuple(Code(guid=guid(), name=p, description=f"Use when: {p}\nExample: javascript:alert(1)")
                  for p in PAYLOADS)
    text = " ".join(PAYLOADS) + " <a href='javascript:window.__pwned=5'>x</a>"
    user = User(guid=guid(), name="<img src=x onerror=window.__pwned=6>")
    selections = tuple(TextSelection(guid=guid(), start=0, end=len(text),
                                     codings=(Coding(guid=guid(), code=c.guid, creating_user=user.guid),))
                       for c in codes)
    source = TextSource(guid=guid(), name="<svg onload=window.__pwned=7>", text=text, selections=selections)
    root = Code(guid=guid(), name="<b>root</b>", children=codes)
    return Project(name="</title><script>window.__pwned=8</script>", codes=(root,), sources=(source,),
                   users=(user,))


# --------------------------------------------------------------------------- in Chromium


def _no_errors(console: list[dict[str, Any]]) -> None:
    assert [e for e in console if e.get("level") == "SEVERE"] == []


def _only_itself(urls: list[str], page: Path) -> None:
    own = page.resolve().as_uri()
    assert [u for u in urls if u != own and not u.startswith("data:")] == []


def test_study_report_in_chromium(study_html: Path) -> None:
    with chromium() as driver:
        console, urls = open_page(driver, study_html)
        _no_errors(console)
        _only_itself(urls, study_html)
        assert driver.execute_script("return document.documentElement.dataset.ready") == "true"
        run = driver.execute_script
        assert run("return document.querySelectorAll('#tree [data-code]').length") == 65
        assert int(run("return document.getElementById('matrix-grand-total').textContent")) == _info_codings()
        assert run("return document.querySelectorAll('#model svg g.box').length") == 25
        SHOTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(SHOTS / "study-top.png"))
        assert (SHOTS / "study-top.png").stat().st_size > 10_000


def _passages_containing(project: Project, needle: str) -> int:
    """Oracle: coded passages whose text (sliced from the source by code point) holds ``needle``."""
    return sum(1 for s in project.sources if isinstance(s, TextSource) and s.text
               for sel in s.selections for _ in sel.codings if needle in s.text[sel.start:sel.end])


def test_search_finds_a_chinese_quote(study_html: Path) -> None:
    expected = _passages_containing(qdx.read(STUDY), CJK_QUOTE)
    assert expected >= 1
    with chromium() as driver:
        open_page(driver, study_html)
        box = driver.find_element("id", "q-text")
        box.send_keys(CJK_QUOTE)
        driver.execute_script("arguments[0].dispatchEvent(new Event('input'))", box)
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(driver, 5).until(
            lambda d: d.find_element("id", "quote-count").text.startswith(f"{expected} of "))
        quotes = driver.find_elements("css selector", "#quote-list blockquote")
        assert len(quotes) == expected and all(CJK_QUOTE in q.text for q in quotes)
        driver.execute_script("document.getElementById('quotes').scrollIntoView()")
        driver.save_screenshot(str(SHOTS / "study-search.png"))


def test_collapsing_a_category_hides_its_children(study_html: Path) -> None:
    study = qdx.read(STUDY)
    platform = study.codes[0].children[0]
    with chromium() as driver:
        open_page(driver, study_html)
        index = [c.name for c, _ in iter_codes(study.codes)].index(platform.name)
        item = driver.find_element("id", f"code-{index}")
        children = item.find_elements("css selector", ":scope > details > ul > li")
        assert len(children) == len(platform.children) and all(c.is_displayed() for c in children)
        item.find_element("css selector", ":scope > details > summary").click()
        assert not any(c.is_displayed() for c in children)
        # The matrix: the category's toggle hides every row below it.
        row = driver.find_element("css selector", f"#matrix-table tr[data-code='{index}']")
        below = [driver.find_element("css selector", f"#matrix-table tr[data-code='{index + k}']")
                 for k in range(1, 1 + sum(1 for _ in iter_codes(platform.children)))]
        assert all(r.is_displayed() for r in below)
        row.find_element("css selector", "button.toggle").click()
        assert not any(r.is_displayed() for r in below) and row.is_displayed()


def test_agreement_section_with_a_second_coder(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(STUDY), "--compare", str(CODER_B), "-o", str(out)])
    assert result.exit_code == 0, result.output
    with chromium() as driver:
        console, urls = open_page(driver, out)
        _no_errors(console)
        _only_itself(urls, out)
        rows = driver.find_elements("css selector", "#agreement-body table tbody tr")
        assert len(rows) >= 1
        assert driver.find_elements("css selector", "#agreement-body details.disagreement")


def test_hostile_text_renders_as_text(tmp_path: Path) -> None:
    out = tmp_path / "hostile.html"
    qdx.html_report(_hostile(), out)
    with chromium() as driver:
        console, urls = open_page(driver, out)
        _no_errors(console)  # a CSP violation (an injected script trying to run) would be an error
        _only_itself(urls, out)
        run = driver.execute_script
        assert run("return window.__pwned === undefined")
        assert run("return document.querySelectorAll('img').length") == 0
        assert run("return document.querySelectorAll('script').length") == 2
        assert run("return [...document.querySelectorAll('[href]')].filter(a => "
                   "!a.getAttribute('href').startsWith('#') && a.getAttribute('href') !== 'data:,').length") == 0
        names = run("return [...document.querySelectorAll('#tree summary .name')].map(e => e.textContent)")
        assert names == ["<b>root</b>", *PAYLOADS]
        quotes = run("return [...document.querySelectorAll('#quote-list blockquote')].map(e => e.textContent)")
        assert quotes and all(PAYLOADS[0] in q for q in quotes)
        assert run("return document.title").startswith("</title><script>")
        SHOTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(SHOTS / "hostile.png"))


# --------------------------------------------------------------------------- more of the page

BROKEN_GT5 = STUDY.parent.parent / "structure" / "broken-GT5.qde"
CODEBOOK_ONLY = STUDY.with_name("codebook.qdc")


def test_findings_name_the_code_they_concern() -> None:
    project = qdx.read(BROKEN_GT5)
    names = [c.name for c, _ in iter_codes(project.codes)]
    data = json.loads(_data_block(qdx.html_report(project).html))
    gt5 = [f for f in data["findings"] if f[1] == "GT5"]
    assert gt5 and gt5[0][3] == names.index("Social Pressure as reported")


def _data_block(page: str) -> str:
    start = page.index('id="qdx-data">') + len('id="qdx-data">')
    return page[start:page.index("</script>", start)]


def test_figures_have_titles_and_descriptions(study_html: Path) -> None:
    page = study_html.read_text(encoding="utf-8")
    assert page.count('role="img"') == 2  # the model and the saturation curve
    assert '<title id="model-title">' in page and '<desc id="sat-desc">' in page
    assert 'lang="en"' in page and "@media print" in page


def test_cli_html_json_and_refusals(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(STUDY), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["matrix_total"] == summary["codings"] == _info_codings()
    assert summary["codes"] == 65 and summary["quotes"] == summary["codings"]
    bad = tmp_path / "r.pdf"
    result = CliRunner().invoke(main, ["report", str(STUDY), "-o", str(bad)])
    assert result.exit_code == 2 and not bad.exists() and "Traceback" not in result.output


def test_notebook_objects_show_themselves() -> None:
    project = qdx.read(STUDY)
    sections = qdx.report_sections(project)
    assert sections.matrix.shape == (65, 20) and sections.agreement is None
    assert any("one coder" in n for n in sections.notes)
    assert sections.model is not None and sections.model._repr_svg_().startswith("<svg")
    assert "Audience grouping and blocking" in qdx.codebook(project)._repr_html_()
    frame = qdx.html_report(_hostile())._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "<script>window" not in frame


def test_findings_link_reveals_the_code_in_chromium(tmp_path: Path) -> None:
    out = tmp_path / "gt5.html"
    project = qdx.read(BROKEN_GT5)
    index = [c.name for c, _ in iter_codes(project.codes)].index("Social Pressure as reported")
    qdx.html_report(project, out)
    with chromium() as driver:
        console, _ = open_page(driver, out)
        _no_errors(console)
        item = driver.find_element("id", f"code-{index}")
        assert not item.is_displayed()  # a concept: its subcategory starts closed
        link = driver.find_element("css selector", f"#findings-body a[href='#code-{index}']")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
        link.click()
        assert item.is_displayed()


def test_keyboard_opens_and_closes_a_category(study_html: Path) -> None:
    from selenium.webdriver.common.keys import Keys

    with chromium() as driver:
        open_page(driver, study_html)
        summary = driver.find_element("css selector", "#code-1 > details > summary")
        child = driver.find_element("css selector", "#code-1 > details > ul > li")
        driver.execute_script("arguments[0].focus()", summary)
        assert driver.switch_to.active_element == summary
        summary.send_keys(Keys.ENTER)
        assert not child.is_displayed()
        summary.send_keys(Keys.SPACE)
        assert child.is_displayed()


def test_codebook_only_and_empty_projects_render(tmp_path: Path) -> None:
    pages = {"codebook": qdx.read(CODEBOOK_ONLY), "empty": Project(name="empty")}
    with chromium() as driver:
        for name, project in pages.items():
            out = tmp_path / f"{name}.html"
            qdx.html_report(project, out)
            console, urls = open_page(driver, out)
            _no_errors(console)
            _only_itself(urls, out)
            count = driver.execute_script("return document.querySelectorAll('#tree [data-code]').length")
            assert count == sum(1 for _ in iter_codes(project.codes))
            assert driver.execute_script("return document.documentElement.dataset.ready") == "true"


def test_html_report_honours_the_zip_limits(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(STUDY), "-o", str(out), "--max-member-size", "10000"])
    assert result.exit_code == 1 and "--max-member-size" in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def _codings_of_cases_with(project: Project, variable: str, value: str) -> int:
    """Oracle: codings in the sources of the cases whose ``variable`` is ``value``."""
    var = next(v.guid for v in project.variables if v.name == variable)
    sources = {ref.key for case in project.cases for ref in case.source_refs
               if any(vv.variable == var and vv.value == value for vv in case.variable_values)}
    return sum(len(sel.codings) for s in project.sources if isinstance(s, TextSource) and s.guid.key in sources
               for sel in s.selections)


def test_quotes_filter_by_case_variable_code_and_coder(study_html: Path) -> None:
    from selenium.webdriver.support.ui import Select

    study = qdx.read(STUDY)
    expected = _codings_of_cases_with(study, "gender", "Female")
    platform = study.codes[0].children[0]
    with chromium() as driver:
        open_page(driver, study_html)
        Select(driver.find_element("id", "q-var")).select_by_value("gender")
        Select(driver.find_element("id", "q-value")).select_by_value("Female")
        count = driver.find_element("id", "quote-count").text
        assert count.startswith(f"{expected} of 627"), count
        # Narrow to one main category (with its subcodes), then to nobody's coding.
        index = [c.name for c, _ in iter_codes(study.codes)].index(platform.name)
        Select(driver.find_element("id", "q-code")).select_by_value(str(index))
        narrowed = int(driver.find_element("id", "quote-count").text.split()[0])
        assert 0 < narrowed < expected
        paths = driver.execute_script(
            "return [...document.querySelectorAll('#quote-list .meta')].map(e => e.textContent)")
        assert paths and all(f"› {platform.name} ›" in p for p in paths)
        driver.find_element("id", "q-reset").click()
        driver.find_element("id", "q-next").click()
        assert driver.find_element("id", "q-page").text == "page 2 of 13"  # 627 quotes, 50 a page


def test_agreement_between_two_coders_inside_one_project() -> None:
    merged = qdx.merge(qdx.read(STUDY), qdx.read(CODER_B)).project  # both coders' codings in one project
    coders = {u.name for u in merged.users}
    assert len(coders) == 2
    sections = qdx.report_sections(merged)
    assert sections.agreement is not None
    assert {sections.agreement.label_a, sections.agreement.label_b} == coders
    data = json.loads(_data_block(qdx.html_report(merged).html))
    assert data["agreement"]["perCode"] and data["agreement"]["disagreements"]
