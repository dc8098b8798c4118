"""The HTML book builds with warnings as errors and works offline.

One build per test run (tests/book_build.py, shared with test_browser.py), then checks on the
output:
every page listed in _toc.yml exists; no page loads or links to another host (src=, href=,
srcset= on any element, URLs inside inline scripts and styles, and in the theme's CSS);
MathJax is served from the book itself; math from chapter 1 reaches the HTML; and the
ipywidgets require.js / html-manager scripts that myst-nb would take from CDNs are absent.

The build runs with notebook execution OFF and renders the outputs stored in the notebooks.
Those stored outputs are checked elsewhere (`pytest --nbval` re-executes chapters/ and
solutions/ and compares), so executing every notebook again here would only double the
time of `make test`.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from book_build import ROOT, built_book, toc_files, widget_calls

# Attributes that make a browser fetch something or take the reader somewhere.
URL_ATTRIBUTES = {"src", "href", "srcset", "data-src", "poster", "action", "formaction", "data"}
# http:, https:, protocol-relative //, or any other scheme://host
EXTERNAL_URL = re.compile(r"^\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//", re.ASCII)
# The same inside script or style text, where the URL is not the whole string.
EXTERNAL_URL_IN_TEXT = re.compile(
    r"(?:https?:)?//[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+[^\s'\"<>()]*", re.ASCII
)
# Script types whose body is data, not code the browser runs (saved widget state/views).
DATA_SCRIPT_TYPES = {
    "application/vnd.jupyter.widget-state+json",
    "application/vnd.jupyter.widget-view+json",
}
WIDGET_CDN_MARKERS = (
    "require.js",
    "require.min.js",
    "embed-amd.js",
    "@jupyter-widgets/html-manager",
)
MATHJAX_MIN_BYTES = 100_000


TOC_FILES = toc_files()
CHAPTERS = [f for f in TOC_FILES if f.startswith("chapters/")]


@pytest.fixture(scope="module")
def book() -> Path:
    """The book built once per test run (tests/book_build.py), execution off, warnings as
    errors; the html folder."""
    return built_book()


class _PageScan(HTMLParser):
    """Collects external URLs in attributes, inline scripts and styles, and script srcs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.external: list[tuple[str, str, str]] = []  # (element, attribute, url)
        self.script_srcs: list[str] = []
        self.math_texts: list[str] = []
        self._in: str | None = None  # "script", "style" or None: whose text we are reading
        self._math_depth = 0

    def handle_starttag(self, tag, attrs):
        attrs_d = dict(attrs)
        for name, value in attrs:
            if name.lower() in URL_ATTRIBUTES and value:
                urls = value.split(",") if name.lower() == "srcset" else [value]
                for url in urls:
                    url = url.strip().split(" ")[0] if url.strip() else ""
                    if EXTERNAL_URL.match(url):
                        self.external.append((tag, name, url))
            if name.lower() == "style" and value:
                for url in EXTERNAL_URL_IN_TEXT.findall(value):
                    self.external.append((tag, "style", url))
        if tag == "script":
            if attrs_d.get("src"):
                self.script_srcs.append(attrs_d["src"])
            kind = (attrs_d.get("type") or "text/javascript").lower()
            self._in = None if kind in DATA_SCRIPT_TYPES else "script"
        elif tag == "style":
            self._in = "style"
        classes = (attrs_d.get("class") or "").split()
        if "math" in classes:
            self._math_depth += 1
            self.math_texts.append("")
        elif self._math_depth and tag in ("span", "div"):
            self._math_depth += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._in = None
        elif self._math_depth and tag in ("span", "div"):
            self._math_depth -= 1

    def handle_data(self, data):
        if self._in:
            for url in EXTERNAL_URL_IN_TEXT.findall(data):
                self.external.append((self._in, "(inline text)", url))
        if self._math_depth:
            self.math_texts[-1] += data


def _scan(page: Path) -> _PageScan:
    scan = _PageScan()
    scan.feed(page.read_text(encoding="utf-8", errors="replace"))
    scan.close()
    return scan


def _pages(html: Path) -> list[Path]:
    return sorted(html.rglob("*.html"))


def test_every_toc_page_is_built(book: Path):
    assert (book / "index.html").is_file(), "index.html is missing from the built book"
    missing = [f"{f}.html" for f in TOC_FILES if not (book / f"{f}.html").is_file()]
    assert not missing, f"pages listed in _toc.yml but not built: {missing}"
    assert CHAPTERS, "_toc.yml lists no chapters/ notebook"
    # Instructor material must not be published.
    assert not (book / "solutions").exists(), "solutions/ was built into the book; it must not be"


def test_every_page_names_an_icon_the_book_serves(book: Path):
    # Without <link rel="icon"> a browser asks for /favicon.ico, a 404 on every page.
    icon = re.compile(r'<link[^>]*rel="(?:shortcut )?icon"[^>]*href="([^"]+)"')
    problems = []
    for page in _pages(book):
        text = page.read_text(encoding="utf-8", errors="replace")
        if page.relative_to(book).parts[0] == "_static" or 'http-equiv="Refresh"' in text:
            continue  # the theme's template snippets; index.html's instant redirect
        found = icon.findall(text)
        if not found:
            problems.append(f"{page.relative_to(book)}: no <link rel=icon>")
        elif not (page.parent / found[0]).resolve().is_file():
            problems.append(f"{page.relative_to(book)}: icon {found[0]} is not in the book")
    assert not problems, "\n".join(problems[:20])


def test_no_page_reaches_another_host(book: Path):
    problems = []
    for page in _pages(book):
        for tag, attr, url in _scan(page).external:
            problems.append(f"{page.relative_to(book)}: <{tag} {attr}> -> {url}")
    assert not problems, (
        f"{len(problems)} reference(s) to another host in the built book (it must work offline):\n"
        + "\n".join(problems[:50])
    )


def test_theme_css_loads_nothing_from_another_host(book: Path):
    """External fonts or @imports in the theme's stylesheets would be fetched by every page."""
    pattern = re.compile(
        r"(?:url\(\s*['\"]?|@import\s+['\"])\s*((?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//[^'\")\s]+)"
    )
    problems = []
    for css in sorted((book / "_static").rglob("*.css")):
        for url in pattern.findall(css.read_text(encoding="utf-8", errors="replace")):
            problems.append(f"{css.relative_to(book)}: {url}")
    assert not problems, "stylesheets fetch from another host:\n" + "\n".join(problems[:50])


def test_no_ipywidgets_cdn_scripts(book: Path):
    problems = []
    for page in _pages(book):
        text = page.read_text(encoding="utf-8", errors="replace")
        problems += [f"{page.relative_to(book)}: {m}" for m in WIDGET_CDN_MARKERS if m in text]
    assert not problems, (
        "pages reference the ipywidgets require.js/html-manager scripts (set nb_ipywidgets_js: {} "
        "in _config.yml):\n" + "\n".join(problems)
    )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_mathjax_is_served_by_the_book(book: Path, chapter: str):
    page = book / f"{chapter}.html"
    srcs = [s for s in _scan(page).script_srcs if "mathjax" in s.lower()]
    assert srcs, (
        f"{chapter}.html has no <script src=...mathjax...>; scripts: {_scan(page).script_srcs}"
    )
    src = srcs[0].split("?")[0]
    assert src.endswith("_static/mathjax/tex-chtml.js"), (
        f"{chapter}.html loads MathJax from {srcs[0]!r}, expected the book's own "
        "_static/mathjax/tex-chtml.js (sphinx-mathjax-offline)"
    )
    local = (page.parent / src).resolve()
    assert local.is_file(), f"{chapter}.html loads {src}, but {local} is not in the built book"
    size = local.stat().st_size
    assert size > MATHJAX_MIN_BYTES, f"{local} is only {size} bytes; a MathJax bundle is > 100 kB"


@pytest.mark.parametrize("chapter", CHAPTERS[:1])
def test_math_reaches_the_html(book: Path, chapter: str):
    maths = _scan(book / f"{chapter}.html").math_texts
    delimited = [m for m in maths if re.search(r"\\\(|\\\[|\\begin\{", m)]
    assert delimited, (
        f"{chapter}.html has {len(maths)} element(s) with class 'math' and none holds "
        r"\( \), \[ \] or \begin{...} delimited TeX: the chapter's math did not reach the HTML"
    )


# -- kernel-free widgets, downloads, appendix --------------------------------------------------
def _frame_blocks(page: Path) -> list[dict]:
    text = page.read_text(encoding="utf-8")
    found = re.findall(r'<div class="kfw" data-kfw="([^"]*)"', text)
    import html as html_lib

    return [json.loads(html_lib.unescape(raw)) for raw in found]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_widget_has_kernel_free_frames_within_budget(book: Path, chapter: str):
    """One block of controls per widget call of the notebook; its frames are in the book and
    the frames of a page weigh at most 3 MB."""
    from dlcore.viz.frames import MAX_BYTES_PER_PAGE

    calls = widget_calls(chapter)
    page = book / f"{chapter}.html"
    blocks = _frame_blocks(page)
    assert len(blocks) == len(calls), (
        f"{chapter}: the notebook calls {len(calls)} registered widget(s) "
        f"({[c.widget for c in calls]}) but the page has {len(blocks)} kernel-free block(s)")
    total = 0
    for block in blocks:
        n = 1
        for control in block["controls"]:
            n *= len(control["values"])
            assert len(control["values"]) >= 2, f"{chapter}: control {control['label']!r} " \
                f"has a single value; moving it would change nothing"
        assert len(block["files"]) == n, f"{chapter}: {len(block['files'])} frames for a grid of {n}"
        for name in block["files"]:
            path = (page.parent / block["base"] / name).resolve()
            assert path.is_file(), f"{chapter}: frame {path} is missing from the built book"
            total += path.stat().st_size
    assert total <= MAX_BYTES_PER_PAGE, (
        f"{chapter}: its widget frames take {total / 1e6:.2f} MB, over "
        f"{MAX_BYTES_PER_PAGE / 1e6:.0f} MB")


def test_a_rebuild_draws_no_frame(book: Path):
    """After the build every widget call's frames are in the cache under the key the next
    build computes, so a rebuild without changes draws nothing."""
    from dlcore.viz import frames

    cache = ROOT / "_build" / ".widget_frames"
    for chapter in CHAPTERS:
        for call in widget_calls(chapter):
            plan = frames.plan_frames(call.widget, call.arguments, cache)
            assert plan.cached, f"{chapter}: {call.widget} frames {plan.key} not in {cache}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_notebook_and_exercises_can_be_downloaded(book: Path, chapter: str):
    """The theme's Download .ipynb button and the "Run this chapter" box point at
    _sources/<doc>.ipynb: the file must be there and be the notebook itself."""
    page = (book / f"{chapter}.html").read_text(encoding="utf-8")
    stem = chapter.split("/", 1)[1]
    for doc in (chapter, f"exercises/{stem}"):
        if not (ROOT / f"{doc}.ipynb").is_file():
            continue
        target = book / "_sources" / f"{doc}.ipynb"
        assert target.is_file(), f"{chapter}.html offers {doc}.ipynb but {target} is missing"
        nb = json.loads(target.read_text(encoding="utf-8"))
        assert nb.get("nbformat") == 4 and nb.get("cells"), f"{target} is not a notebook"
        assert f"_sources/{doc}.ipynb" in page, f"{chapter}.html has no link to {doc}.ipynb"


def test_bibliography_and_index_are_filled(book: Path):
    bib = (book / "appendix" / "bibliography.html").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,]+),", (ROOT / "references.bib").read_text(encoding="utf-8"),
                      re.MULTILINE)
    assert len(keys) >= 30, f"references.bib has only {len(keys)} entries"
    for needle in ("Batch normalization", "Adam", "Deep compression", "Random search"):
        assert needle in bib, f"the bibliography page lacks {needle!r}"
    index = (book / "genindex.html").read_text(encoding="utf-8")
    for term in ("Batch normalisation", "Gradient clipping", "Warm-up"):
        assert term in index, f"the index lacks the glossary term {term!r}"
    intro = (book / "intro.html").read_text(encoding="utf-8")
    assert 'href="genindex.html"' in intro, "the front page does not link the index"
