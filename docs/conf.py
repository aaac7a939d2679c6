"""Sphinx configuration of the series' website (myst-nb, sphinx-book-theme).

Not run by hand: ``python -m tools.site build`` stages the sources (README.md as the front page, the executed
notebooks of a run, benchmarks/README.md) in a temporary folder and builds them with this folder as Sphinx's
configuration directory. Everything the pages load is local: the theme's own assets, this folder's ``_static/`` (the
Open-in-Colab badge, site.css) and math as MathML, which the browser renders itself (no MathJax from a CDN).
"""

from __future__ import annotations

from pathlib import Path

from tools import notebooks, site  # importable: tools.site runs `python -m sphinx` from the repository root

ROOT = Path(__file__).resolve().parent.parent

REPOSITORY, BRANCH = notebooks.slug(ROOT)  # [tool.mnist-series] in pyproject.toml, as `tools/notebooks.py sync`

project = site.title(ROOT)
author = "the mnist-series authors"
copyright = "the mnist-series authors, MIT licence"
extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
suppress_warnings = ["myst.header"]  # notebooks start at "#", then jump to "###" in places: as written

# The notebooks were executed by `python -m tools.series`: their stored outputs are rendered, nothing runs again.
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # no widget manager from a CDN: notebook 06's pad cannot run on a static page
nb_merge_streams = True
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3  # "#speed-by-design" and the like, as GitHub makes them

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"  # else the browser asks for /favicon.ico, which no page has
html_context = {"default_mode": "light"}  # the figures are drawn on white
html_css_files = ["site.css"]
html_copy_source = True  # _sources/notebooks/NN_name.ipynb: the "Download notebook" link
html_sourcelink_suffix = ""
html_show_sphinx = False
html_last_updated_fmt = None
html_math_renderer = "mathml"
html_theme_options = {
    "repository_url": f"https://github.com/{REPOSITORY}",
    "repository_branch": BRANCH,
    "path_to_docs": "",
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_fullscreen_button": False,
    "use_download_button": False,  # the page's own buttons are set in site.header_buttons
    "use_source_button": False,
    "use_repository_button": False,
    "navigation_with_keys": False,
    "icon_links": [],
}


def setup(app):
    site.setup_sphinx(app, ROOT, REPOSITORY, BRANCH)
