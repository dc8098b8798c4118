"""Sphinx extension: a "Run this chapter" box at the top of every chapter page.

It offers the chapter's notebook and its exercises notebook as downloads (the files Sphinx
copies into `_sources/` with `html_copy_source: true`, as the theme's Download button does)
and says how to run them: `make lab` from a clone of the repository (`book_repository_url`).
Nothing is fetched from another host: the repository address is shown as text, not a link.
The chapter notebooks are not edited; the box is added to the page when it is read.
"""
from __future__ import annotations

import html
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx

CHAPTER_PREFIX = "chapters/"
EXERCISE_PREFIX = "exercises/"


def _box(app: Sphinx, docname: str) -> str:
    stem = docname[len(CHAPTER_PREFIX):]
    up = "../" * docname.count("/")
    chapter = f"{up}_sources/{docname}.ipynb"
    links = [(f'<a class="reference download" href="{chapter}" download>'
              f'<code>chapters/{html.escape(stem)}.ipynb</code></a>')]
    # only an exercises notebook that is part of the book has its source copied to _sources/
    if (f"{EXERCISE_PREFIX}{stem}" in app.env.found_docs
            and (Path(app.srcdir) / f"{EXERCISE_PREFIX}{stem}.ipynb").is_file()):
        exercises = f"{up}_sources/{EXERCISE_PREFIX}{stem}.ipynb"
        links.append(f'<a class="reference download" href="{exercises}" download>'
                     f'<code>exercises/{html.escape(stem)}.ipynb</code></a> (its exercises)')
    url = app.config.book_repository_url.strip()
    clone = (f" (<code>git clone {html.escape(url)}</code>)" if url else "")
    return (
        '<div class="admonition tip run-it">\n'
        '<p class="admonition-title">Run this chapter</p>\n'
        f'<p>Download {" and ".join(links)}, or in a clone of the repository{clone} run '
        '<code>make lab</code>: there the widgets are live and every number is '
        're-computed.</p>\n</div>'
    )


def insert_box(app: Sphinx, doctree) -> None:
    docname = app.env.docname
    if not docname.startswith(CHAPTER_PREFIX):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    title = next((i for i, child in enumerate(section.children)
                  if isinstance(child, nodes.title)), None)
    raw = nodes.raw("", _box(app, docname), format="html")
    section.insert(0 if title is None else title + 1, raw)


def setup(app: Sphinx):
    app.add_config_value("book_repository_url", "", "env")
    app.connect("doctree-read", insert_box)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
