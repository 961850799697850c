"""The search page in a real browser: Playwright driving Debian's Chromium."""
import pytest

from tests.conftest import ARTIFACTS, CHROMIUM


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed: apt-get install -y chromium (the README's test command does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
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
    results = page.locator("#results .passage")
    assert results.count() == 9
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
    page.goto(server + "/?q=" + "<script>alert(1)</script> مباحثات هاتفية")
    assert page.locator("#results .result").count() == 9
    assert "<script>alert(1)</script>" in page.locator(".summary").inner_text()  # shown as text, not run
    assert page.locator("script").count() == 0
    context.close()


def test_page_reports_bad_input(server, browser):
    page = browser.new_page()
    response = page.goto(server + "/?q=a&k=500")
    assert response.status == 400 and "k must be" in page.locator(".notice").inner_text()


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
    response = page.goto(server + "/nope")
    assert response.status == 404 and "text/html" in response.headers["content-type"]
    assert "There is no page at this address." in page.locator(".notice").inner_text()
    assert page.locator("h1 a[href='/']").count() == 1  # the site's header, a way back to the search
    assert page.locator("link[rel=stylesheet]").count() == 1
    context.close()
