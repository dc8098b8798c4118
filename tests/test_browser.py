"""The built book as a reader sees it, every page opened in a real browser.

The book (built once per test run by tests/book_build.py) is served on 127.0.0.1 and each
page is opened in headless Chromium: Debian's `chromium` package driven by Playwright's
Python package (the browser Playwright would download is never used: `playwright install`
fetches from a CDN). Where /usr/bin/chromium is missing the set-up installs it with apt-get
(as root, as in CI). A page fails when

- it requests anything from another host (such requests are blocked and listed),
- a request for the book's own files fails or answers >= 400,
- it throws a JavaScript error or logs one to the console (ALLOWED_JS_ERRORS, with reasons),
- MathJax leaves math untypeset or reports a TeX error,
- an image is broken,
- a display equation is wider than its box and the box does not scroll,
- (chapters) at 390 px wide the visible ☰ button does not open the navigation, or tapping a
  figure does not open it full size,
- (chapters) the notebook download does not return a notebook,
- (chapters) a widget of the notebook has no kernel-free control, or moving one changes
  nothing (no new frame, or the frame does not load).

Screenshots of a few pages at 1280 and 390 px go to _build/screenshots/ for a person to look
at, and _build/screenshots/report.json counts the pages and requests checked.
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from book_build import ROOT, built_book, toc_files, widget_calls

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:   # reported by the browser_context fixture
    PlaywrightTimeout = TimeoutError

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = ROOT / "_build" / "screenshots"
SCREENSHOT_PAGES = ("intro", "chapters/01_backprop", "chapters/04_optimizers",
                    "chapters/09_losses", "appendix/selfcheck")
WIDE, NARROW = 1280, 390
PAGE_TIMEOUT_MS = 30_000

# Console/page errors that are known and harmless, each with the reason it is harmless.
ALLOWED_JS_ERRORS: dict[str, str] = {
    # (none yet: add "substring of the message": "why it does not hurt a reader")
}

TOC = toc_files()
CHAPTERS = [f for f in TOC if f.startswith("chapters/")]
# Every page of the book: the table of contents, plus the pages Sphinx adds.
PAGES = TOC + ["genindex", "search"]
REPORT = {"pages": 0, "requests": 0, "blocked": 0, "frames_moved": 0}


# -- set-up --------------------------------------------------------------------------------------
def _ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.geteuid() != 0:
        pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium package "
                    "(sudo apt-get install -y chromium) to run the browser tests")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    proc = subprocess.run(install, check=False, capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:   # the package lists may be missing on a fresh machine
        subprocess.run(["apt-get", "update"], check=False, capture_output=True, text=True,
                       env=env, timeout=600)
        proc = subprocess.run(install, check=False, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0 and CHROMIUM.exists(), (
        f"could not install chromium with apt-get (exit {proc.returncode}):\n"
        f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    html = built_book()
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", html
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser_context():
    _ensure_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser tests need Playwright's Python package: "
                    "pip install -e '.[dev]' (never `playwright install`: Debian's chromium "
                    "is used)")
    profile = tempfile.mkdtemp(prefix="book-chromium-")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": WIDE, "height": 900}, service_workers="block")
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "report.json").write_text(json.dumps(REPORT, indent=1), encoding="utf-8")


# -- opening a page and recording what it does ---------------------------------------------------
class PageLog:
    def __init__(self, base: str):
        self.host = urlsplit(base).netloc
        self.requests = 0
        self.off_host: list[str] = []
        self.failed: list[str] = []
        self.js_errors: list[str] = []

    def own(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("data", "blob", "about") or parts.netloc == self.host

    def route(self, route):
        url = route.request.url
        self.requests += 1
        if self.own(url):
            route.continue_()
        else:
            self.off_host.append(url)
            route.abort()

    def response(self, response):
        if self.own(response.url) and response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")

    def request_failed(self, request):
        if self.own(request.url):
            self.failed.append(f"{request.failure} {request.url}")

    def js_error(self, message: str):
        if not any(allowed in message for allowed in ALLOWED_JS_ERRORS):
            self.js_errors.append(message)


def _open(context, base: str, doc: str, width: int):
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    log = PageLog(base)
    page.route("**/*", log.route)
    page.on("response", log.response)
    page.on("requestfailed", log.request_failed)
    page.on("pageerror", lambda exc: log.js_error(f"uncaught: {exc}"))
    page.on("console", lambda msg: msg.type == "error" and log.js_error(f"console: {msg.text}"))
    page.goto(f"{base}/{doc}.html", wait_until="load", timeout=PAGE_TIMEOUT_MS)
    # MathJax typesets after load; wait for it where the page has it
    page.evaluate("""async () => {
        if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
            await MathJax.startup.promise;
        }
    }""")
    return page, log


def _scroll_to(locator) -> None:
    """Scroll the page vertically to an element (scrollIntoView would also scroll boxes that
    hide their overflow sideways, which a reader cannot do, and spoil the screenshot)."""
    locator.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 80)")


def _assert_clean(doc: str, log: PageLog, width: int):
    REPORT["requests"] += log.requests
    REPORT["blocked"] += len(log.off_host)
    assert not log.off_host, f"{doc} ({width} px) requested other hosts: {log.off_host[:10]}"
    assert not log.failed, f"{doc} ({width} px): requests for the book's files failed: " \
                           f"{log.failed[:10]}"
    assert not log.js_errors, f"{doc} ({width} px): JavaScript errors: {log.js_errors[:10]}"


MATH_PROBLEMS = """() => {
    const problems = [];
    for (const el of document.querySelectorAll('.math')) {
        if (!el.querySelector('mjx-container')) {
            problems.push('untypeset: ' + el.textContent.trim().slice(0, 80));
        }
    }
    for (const err of document.querySelectorAll('mjx-merror')) {
        problems.push('TeX error: ' + (err.getAttribute('data-mjx-error') || err.textContent));
    }
    return problems;
}"""

BROKEN_IMAGES = """async () => {
    const broken = [];
    await Promise.all([...document.images].map(async img => {
        img.loading = 'eager';
        try { await img.decode(); } catch (e) { broken.push(img.getAttribute('src')); }
        if (img.complete && img.naturalWidth === 0 && !broken.includes(img.getAttribute('src'))) {
            broken.push(img.getAttribute('src'));
        }
    }));
    return broken;
}"""

# A display equation wider than its box must sit in a box that scrolls sideways.
OVERFLOWING_EQUATIONS = """() => {
    const bad = [];
    const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
    for (const eq of document.querySelectorAll('mjx-container[display="true"]')) {
        const article = eq.closest('article') || document.body;
        const box = article.getBoundingClientRect();
        const r = eq.getBoundingClientRect();
        const tooWide = eq.scrollWidth > eq.clientWidth + 1;
        const sticksOut = r.right > box.right + 1 || r.left < box.left - 1;
        let scroller = null;
        for (let el = eq; el && el !== article; el = el.parentElement) {
            if (scrolls(el)) { scroller = el; break; }
        }
        if ((tooWide && !scroller) || sticksOut) {
            bad.push((eq.textContent || '').slice(0, 60) + ` (${eq.scrollWidth}px in ${eq.clientWidth}px)`);
        }
    }
    return bad;
}"""


# -- the tests -----------------------------------------------------------------------------------
@pytest.mark.parametrize("doc", PAGES)
def test_page_loads_offline_with_math_and_images(site, browser_context, doc):
    base, _ = site
    page, log = _open(browser_context, base, doc, WIDE)
    try:
        REPORT["pages"] += 1
        math = page.evaluate(MATH_PROBLEMS)
        assert not math, f"{doc}: {len(math)} math problem(s): {math[:5]}"
        broken = page.evaluate(BROKEN_IMAGES)
        assert not broken, f"{doc}: broken images: {broken[:10]}"
        wide = page.evaluate(OVERFLOWING_EQUATIONS)
        assert not wide, f"{doc} at {WIDE} px: equations cut off without a scroll box: {wide[:5]}"
        if doc == "search":
            page.goto(f"{base}/search.html?q=gradient", wait_until="load")
            page.wait_for_selector("#search-results ul.search li", timeout=PAGE_TIMEOUT_MS)
        if doc in SCREENSHOT_PAGES:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{doc.replace('/', '_')}-{WIDE}.png"))
            block = page.locator(".kfw").first
            if block.count():
                _scroll_to(block)
                page.screenshot(path=str(SCREENSHOTS / f"{doc.replace('/', '_')}-widget-{WIDE}.png"))
        _assert_clean(doc, log, WIDE)
    finally:
        page.close()


NARROW_DOCS = CHAPTERS + ["intro", "appendix/selfcheck"]


@pytest.mark.parametrize("doc", NARROW_DOCS)
def test_phone_width_navigation_and_equations(site, browser_context, doc):
    """At 390 px the visible ☰ opens the table of contents, and no equation is cut off."""
    base, _ = site
    page, log = _open(browser_context, base, doc, NARROW)
    try:
        wide = page.evaluate(OVERFLOWING_EQUATIONS)
        assert not wide, f"{doc} at {NARROW} px: equations cut off without a scroll box: {wide[:5]}"
        if doc in SCREENSHOT_PAGES:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{doc.replace('/', '_')}-{NARROW}.png"))
        toggles = [t for t in page.locator(".primary-toggle").all() if t.is_visible()]
        assert toggles, f"{doc} at {NARROW} px: no visible navigation (☰) button"
        toggles[0].click()
        dialog = page.locator("#pst-primary-sidebar-modal")
        try:
            page.wait_for_function(
                "() => document.querySelector('#pst-primary-sidebar-modal')?.open", timeout=5000)
        except PlaywrightTimeout:
            pytest.fail(f"{doc} at {NARROW} px: clicking the visible ☰ did not open the "
                        "navigation dialog within 5 s")
        links = [a for a in dialog.locator("a.reference").all() if a.is_visible()]
        assert len(links) >= len(CHAPTERS), (
            f"{doc} at {NARROW} px: the navigation opened with {len(links)} visible links")
        if doc in SCREENSHOT_PAGES:
            page.screenshot(path=str(SCREENSHOTS / f"{doc.replace('/', '_')}-nav-{NARROW}.png"))
        page.keyboard.press("Escape")
        figure = page.locator(".cell_output img").first
        if figure.count():
            # a figure is legible on a phone (natural size, scrolling sideways) and opens
            # full size when tapped
            _scroll_to(figure)
            if doc in SCREENSHOT_PAGES:
                page.screenshot(path=str(SCREENSHOTS / f"{doc.replace('/', '_')}-figure-{NARROW}.png"))
            figure.click()
            try:
                page.wait_for_function(
                    "() => document.querySelector('dialog.figure-zoom')?.open", timeout=5000)
            except PlaywrightTimeout:
                pytest.fail(f"{doc} at {NARROW} px: tapping a figure did not open it full size")
            if doc in SCREENSHOT_PAGES:
                page.screenshot(path=str(SCREENSHOTS / f"{doc.replace('/', '_')}-zoom-{NARROW}.png"))
            page.keyboard.press("Escape")
        _assert_clean(doc, log, NARROW)
    finally:
        page.close()


FRAME_STATE = """block => ({src: block.querySelector('img.kfw-frame').getAttribute('src'),
                            ok: block.querySelector('img.kfw-frame').naturalWidth > 0})"""


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_widgets_move_and_notebook_downloads(site, browser_context, chapter):
    base, _ = site
    page, log = _open(browser_context, base, chapter, WIDE)
    try:
        # every download link to a notebook (theme button, "Run this chapter" box) returns one
        hrefs = page.eval_on_selector_all(
            "a[href$='.ipynb']", "links => links.map(a => a.href)")
        assert any(h.endswith(f"_sources/{chapter}.ipynb") for h in hrefs), (
            f"{chapter}: no download link to its notebook; .ipynb links: {hrefs}")
        for href in sorted(set(hrefs)):
            response = page.request.get(href)
            assert response.ok, f"{chapter}: download {href} answered {response.status}"
            try:
                nb = json.loads(response.body())
            except ValueError:
                pytest.fail(f"{chapter}: download {href} is not JSON, not a notebook")
            assert nb.get("nbformat") == 4 and nb.get("cells"), f"{href} is not a notebook"

        calls = widget_calls(chapter)
        blocks = page.locator(".kfw").all()
        assert len(blocks) == len(calls), (
            f"{chapter}: {len(calls)} widget call(s) ({[c.widget for c in calls]}) but "
            f"{len(blocks)} kernel-free block(s)")
        for b, block in enumerate(blocks):
            controls = block.locator("[data-kfw-control]").all()
            assert controls, f"{chapter}: widget {b} has no kernel-free control"
            for c, control in enumerate(controls):
                block.scroll_into_view_if_needed()
                before = block.evaluate(FRAME_STATE)
                tag = control.evaluate("el => el.tagName")
                if tag == "SELECT":
                    n = control.evaluate("el => el.options.length")
                    current = int(control.input_value())
                    control.select_option(index=(current + 1) % n)
                else:
                    current = int(control.input_value())
                    control.focus()
                    page.keyboard.press("Home" if current > 0 else "End")
                try:
                    page.wait_for_function(
                        "([block, src]) => { const img = block.querySelector('img.kfw-frame');"
                        " return img.getAttribute('src') !== src && img.complete"
                        " && img.naturalWidth > 0; }",
                        arg=[block.element_handle(), before["src"]], timeout=5000)
                except PlaywrightTimeout:
                    pass   # reported just below with what the block shows
                after = block.evaluate(FRAME_STATE)
                assert after["src"] != before["src"] and after["ok"], (
                    f"{chapter}: moving control {c} of widget {b} did not show a new frame")
                REPORT["frames_moved"] += 1
        _assert_clean(chapter, log, WIDE)
    finally:
        page.close()
