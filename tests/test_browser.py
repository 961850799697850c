"""The search page in a real browser: Playwright driving Debian's Chromium."""

import re
import urllib.parse

import pytest

from tests.conftest import ARTIFACTS, CHROMIUM, ROOT

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed: apt-get install -y chromium (the README's test command does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


def test_english_query_shows_right_to_left_arabic_results(server, browser):
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(server + "/")
    page.fill("input[name=q]", "Which French aircraft carrier did Putin order the navy to contact?")
    page.click("button[type=submit]")
    page.wait_for_selector("#results .result")
    # grouped by document: the seeds are one article, its best passage first with 2 more from it
    assert page.locator("#results > li.result").count() == 1 and page.locator("#results details.more li").count() == 2
    results = page.locator("#results .passage")
    assert results.count() == 3
    first = results.nth(0)
    assert first.get_attribute("dir") == "rtl" and first.get_attribute("lang") == "ar"
    assert "ديغول" in first.inner_text()
    assert page.evaluate("getComputedStyle(document.querySelector('#results .passage')).direction") == "rtl"
    assert first.locator("mark").count() == 1 and first.locator("mark").inner_text().strip()
    assert page.input_value("input[name=q]").startswith("Which French aircraft carrier")
    # The style sheet applies under the page's Content-Security-Policy, and nothing was refused.
    assert page.evaluate("getComputedStyle(document.querySelector('.result')).backgroundColor") == "rgb(255, 255, 255)"
    assert not [m for m in console if "Content Security Policy" in m], console
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search-page.png"), full_page=True)


def test_arabic_query_and_escaping_without_javascript(server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/?group=none&q=" + "<script>alert(1)</script> مباحثات هاتفية")
    assert page.locator("#results .result").count() == 9  # not grouped: every passage its own result
    assert "<script>alert(1)</script>" in page.locator(".summary").inner_text()  # shown as text, not run
    assert page.locator("script:not([src])").count() == 0  # the query shown, not run; the one script is a file
    context.close()


def test_arabic_typed_on_the_latin_layout_is_searched_as_meant_and_the_page_offers_the_text_as_typed(server, browser):
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    page.goto(server + "/?ui=en")
    page.fill("input[name=q]", "phlgm hg'hzvhj")
    page.click("button[type=submit]")
    page.wait_for_selector("#results .result")
    notice = page.locator(".typed-as")
    assert notice.is_visible()
    assert (
        "Showing results for “حاملة الطائرات”" in notice.inner_text()
        and "النتائج لـ «حاملة الطائرات»" in notice.inner_text()
    )
    assert "حاملة الطائرات" in page.locator("#results .passage").nth(0).inner_text()
    assert page.input_value("input[name=q]") == "phlgm hg'hzvhj"
    page.locator("a.as-typed").first.click()
    page.wait_for_load_state()
    assert "as_typed=1" in page.url and page.locator(".typed-as").count() == 0
    assert page.input_value("input[name=q]") == "phlgm hg'hzvhj"


def test_a_misspelled_arabic_word_gets_did_you_mean_and_its_link_searches_the_suggestion(server, browser):
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    page.goto(server + "/?ui=en")
    page.fill("input[name=q]", "حاملة الطائرت شارل ديغول")
    page.click("button[type=submit]")
    page.wait_for_selector("#results .result")
    notice = page.locator(".did-you-mean")
    assert notice.is_visible() and "Did you mean:" in notice.inner_text() and "هل تقصد:" in notice.inner_text()
    assert page.input_value("input[name=q]") == "حاملة الطائرت شارل ديغول"  # searched as typed: it matched
    page.locator("a.suggested").first.click()
    page.wait_for_load_state()
    assert page.input_value("input[name=q]") == "حاملة الطائرات شارل ديغول"
    assert page.locator(".did-you-mean").count() == 0 and "ui=en" in page.url
    assert "حاملة الطائرات" in page.locator("#results .passage").nth(0).inner_text()


def test_english_typed_on_the_arabic_layout_is_searched_as_meant_and_the_notice_reads_right(server, browser):
    typed = "بقثىؤا شهقؤقشبف ؤشققهثق"  # "french aircraft carrier" typed with the keyboard on the Arabic layout
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    page.goto(server + "/?ui=ar")
    page.fill("input[name=q]", typed)
    page.click("button[type=submit]")
    page.wait_for_selector("#results .result")
    notice = page.locator(".typed-as")
    assert notice.is_visible()
    assert "النتائج لـ «french aircraft carrier»" in notice.inner_text()
    assert "Showing results for “french aircraft carrier”" in notice.inner_text()
    link = page.locator("a.as-typed").first
    assert link.inner_text() == typed  # the Arabic as typed, in its own direction
    assert page.evaluate("getComputedStyle(document.querySelector('a.as-typed')).direction") == "rtl"
    assert "ديغول" in page.locator("#results .passage").nth(0).inner_text()
    link.click()
    page.wait_for_load_state()
    assert "as_typed=1" in page.url and page.locator(".typed-as").count() == 0
    assert page.input_value("input[name=q]") == typed


def test_the_query_box_offers_the_indexs_words_as_one_types(server, browser):
    page = browser.new_page()
    asked, console = [], []
    page.on("request", lambda r: asked.append(r.url) if "/api/suggest" in r.url else None)
    page.on("console", lambda message: console.append(message.text))
    page.goto(server + "/")
    assert page.get_attribute("#q", "list") == "q-suggestions"  # the script ran: the box has its list
    typed = "حاملة الط"
    page.locator("#q").press_sequentially(typed, delay=10)
    page.wait_for_selector("#q-suggestions option", state="attached")  # not wait_for_function: the CSP bars eval
    offered = page.eval_on_selector_all("#q-suggestions option", "options => options.map(o => o.value)")
    assert "حاملة الطايرات" in offered and all(o.startswith("حاملة ") for o in offered), offered
    assert 1 <= len(asked) < len(typed)  # asked once the typing paused, not at every key
    assert not [m for m in console if "Content Security Policy" in m], console
    page.fill("#q", offered[0])
    page.click("button[type=submit]")
    page.wait_for_selector("#results .result")
    assert page.input_value("#q") == offered[0]
    # without script the box is the plain box it was: no list to show, the form searches as before
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    plain.goto(server + "/")
    assert plain.get_attribute("#q", "list") is None and plain.locator("#q-suggestions option").count() == 0
    context.close()


def test_page_reports_bad_input(server, browser):
    page = browser.new_page()
    response = page.goto(server + "/?q=a&k=500&ui=en")  # told as a reader is, not as the API tells a program
    assert response.status == 400 and "cannot be run with these options" in page.locator(".notice").inner_text()
    response = page.goto(server + "/?q=" + "ب" * 1001)
    assert response.status == 400 and "أطول من 1000 حرف" in page.locator(".notice").inner_text()
    assert page.locator("html").get_attribute("lang") == "ar" and page.locator("html").get_attribute("dir") == "rtl"


def test_a_result_opens_its_document_at_the_passage_marked_and_in_view(server, browser):
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.goto(server + "/?q=" + "Hollande trip to Washington")
    link = page.locator("#results .result a.in-document").nth(0)
    ordinal = int(link.inner_text().rsplit(" ", 1)[-1])
    passage = page.locator("#results .passage").nth(0).inner_text()
    link.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"#p{ordinal}") and "/doc/" in page.url
    target = page.locator(f"#p{ordinal}")
    assert " ".join(target.inner_text().split()) == " ".join(passage.split()) and target.get_attribute("dir") == "rtl"
    assert page.locator(".document .passage").count() == 10  # the whole document, in order
    marked = page.evaluate(f"getComputedStyle(document.getElementById('p{ordinal}')).backgroundColor")
    others = page.evaluate("getComputedStyle(document.getElementById('p0')).backgroundColor") if ordinal else None
    assert marked == "rgb(255, 241, 168)" and marked != others
    box, height = target.bounding_box(), page.viewport_size["height"]
    assert box["y"] >= 0 and box["y"] < height  # scrolled into view
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "document-view.png"))


def test_an_unknown_document_is_a_404_page_with_the_id_escaped(server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    response = page.goto(server + "/doc/%3Cscript%3Ealert(1)%3C%2Fscript%3E.txt")
    assert response.status == 404 and "<script>alert(1)</script>" in page.locator(".notice").inner_text()
    assert page.locator("script").count() == 0
    context.close()


def test_a_page_path_that_does_not_exist_is_the_sites_own_404_page(server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    response = page.goto(server + "/nope?ui=en")
    assert response.status == 404 and "text/html" in response.headers["content-type"]
    assert "There is no page at this address." in page.locator(".notice").inner_text()
    assert page.goto(server + "/nope").status == 404 and "لا توجد صفحة" in page.locator(".notice").inner_text()
    assert page.locator("h1 a[href='/']").count() == 1  # the site's header, a way back to the search
    assert page.locator("link[rel=stylesheet]").count() == 1
    context.close()


AXE = ROOT / "tests" / "node_modules" / "axe-core" / "axe.min.js"  # `npm install --prefix tests` (README)
SCREENSHOTS = ROOT / "web" / "screenshots"  # committed, shown in the README


def _axe(browser, url: str, viewport: dict | None = None) -> list[dict]:
    """The serious and critical accessibility violations axe-core finds on the page at ``url``."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is not installed at {AXE}: npm install --prefix tests (the README's test command does)")
    context = browser.new_context(bypass_csp=True, viewport=viewport or {"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    context.close()
    return [v for v in found if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?ui=en",
        "/?q=" + "متى يسافر هولاند إلى واشنطن؟",
        "/?q=Hollande+trip+to+Washington&ui=en",
        "/?q=xqzv+plorft",
        "/?q=xqzv+plorft&ui=en",
        "/?q=phlgm+hg%27hzvhj",
        "/nope",
        "/nope?ui=en",
        "/?q=a&k=500",
        "/doc/000_cafc589f963463b3.txt?q=Hollande&p=7&s=147-275#p7",
        "/doc/000_cafc589f963463b3.txt?ui=en",
        "/doc/missing.txt",
    ],
)
def test_axe_core_finds_no_serious_or_critical_violation(server, browser, path):
    assert _axe(browser, server + path) == []


def test_the_page_is_arabic_first_and_switches_to_english_keeping_the_search(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(server + "/")
    assert page.locator("html").get_attribute("lang") == "ar" and page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("h1").count() == 1 and page.locator("h1").inner_text() == "جسر"
    assert page.locator(".home .examples li").count() >= 1  # the collection's own titles, as example searches
    assert "وثيقة" in page.locator(".home").inner_text()
    page.fill("#q", "متى يسافر هولاند إلى واشنطن؟")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results .result")
    assert "وثيقة" in page.locator("[role=status]").inner_text()  # grouped: it counts documents
    assert page.locator("#results .result h2").count() == page.locator("#results .result").count()
    page.click("a.switch")
    page.wait_for_selector("#results .result")
    assert (
        page.locator("html").get_attribute("lang") == "en" and page.input_value("#q") == "متى يسافر هولاند إلى واشنطن؟"
    )
    assert re.search(r"\b1 document\b", page.locator("[role=status]").inner_text())  # grouped: counts the 1 document
    assert page.locator("#results h2").first.get_attribute("lang") == "ar"  # an Arabic title says so
    assert page.locator("button[type=submit]").inner_text() == "Search"
    page.goto(server + "/?q=Putin&k=30&ui=en")  # a k the menu does not list stays what was asked
    assert page.locator("select[name=k]").input_value() == "30"


def test_a_keyboard_alone_goes_from_the_query_to_a_document_and_back(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(server + "/?ui=en")
    assert page.evaluate("document.activeElement.id") == "q"  # the home page puts the cursor in the box
    page.keyboard.type("Hollande trip to Washington")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results .result")
    assert page.evaluate("document.activeElement.id") != "q"  # the results page does not take the focus
    for _ in range(30):  # Tab through the page to the first result's title
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('#results h2')"):
            break
    else:
        raise AssertionError("Tab never reached the first result's title")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused link shows where the focus is"
    page.keyboard.press("Enter")
    page.wait_for_url("**/doc/**")
    assert page.locator(".document mark").count() == 1  # the result's sentence, marked in the document
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('back')"):
            break
    else:
        raise AssertionError("Tab never reached the link back to the results")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results .result")
    assert page.input_value("#q") == "Hollande trip to Washington" and "ui=en" in page.url


@pytest.mark.parametrize("ui", ["ar", "en"])
@pytest.mark.parametrize(
    "device,viewport", [("desktop", {"width": 1366, "height": 900}), ("mobile", {"width": 390, "height": 844})]
)
def test_screenshots_of_the_results_and_the_document(server, browser, ui, device, viewport):
    """Written where the README shows them (web/screenshots/): the suite keeps them current."""
    query = "متى يسافر هولاند إلى واشنطن؟" if ui == "ar" else "When will Hollande travel to Washington?"
    page = browser.new_page(viewport=viewport)
    page.goto(server + "/?" + urllib.parse.urlencode({"q": query, "ui": ui, "k": 3}))
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"results-{ui}-{device}.png"))
    page.locator("#results .result h2 a").first.click()
    page.wait_for_url("**/doc/**")
    page.screenshot(path=str(SCREENSHOTS / f"document-{ui}-{device}.png"))
    assert page.locator(".document mark").count() == 1
