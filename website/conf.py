"""Sphinx settings of the course website (python tools/build_site.py stages the pages next to this
file in build/site-src/ and builds them into build/site/)."""

import os
import sys
from pathlib import Path

ROOT = Path(os.environ.get("COURSE_ROOT", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(ROOT))  # autodoc imports course_lib from the checkout

project = "Deep learning architectures, hands-on"
author = "the course team"
copyright = "the course team"

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.mathjax"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# The notebooks come executed (tools/executions.py): the site never runs a kernel.
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # no widget manager from a CDN: widgets are drawn by tools/build_site.py
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"  # without one, every page asks for /favicon.ico and gets a 404
# docstrings and literal blocks are plain text (notebook cells say python themselves)
highlight_language = "text"
html_css_files = ["course-site.css"]
html_js_files = ["course-figures.js"]
html_extra_path = ["downloads"]  # downloads/notebooks/: the notebooks as they are in the course
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_context = {"default_mode": "light"}  # no "invalid theme mode" console error on a first visit
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,  # each lecture page links its notebook itself
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "search_bar_text": "Search the course...",
}

# Math: MathJax from the npm registry, copied next to the pages (no CDN at view time).
mathjax_path = "mathjax/tex-svg-full.js"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "misc.highlighting_failure"]


def _docstring_as_written(app, what, name, obj, options, lines):
    """The library's docstrings are plain text laid out for `help()` (aligned columns, indented
    examples), not reStructuredText: show them as written, in a preformatted block."""
    if lines:
        lines[:] = ["::", ""] + [f"    {line}" if line.strip() else "" for line in lines] + [""]


def setup(app):
    app.connect("autodoc-process-docstring", _docstring_as_written)
