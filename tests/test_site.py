"""The series' website (tools/site.py, docs/conf.py), without running the series: the README as the front page, the
pages' Colab/download/GitHub links from pyproject.toml, the exercises' answers hidden after Try it, the notebooks as
the site shows them; then a tiny site built from synthetic executed notebooks, checked in headless Chromium, and
checked again after it was damaged on purpose: the browser checks must list each damage.

tests/test_notebooks.py builds and checks the site of the real (smoke-size) series.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import re
import runpy
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import REPO

from tests.exercises import Exercise, exercises
from tools import notebooks, site

REPOSITORY, BRANCH = notebooks.slug()
# What building the site needs (requirements.txt); noxfile.py's other stacks install none of it.
UNBUILDABLE = next((f"{m} is not installed (pip install -r requirements.txt)" for m in
                    ("sphinx", "myst_nb", "sphinx_book_theme", "latex2mathml", "snowballstemmer")
                    if importlib.util.find_spec(m) is None), None)
needs_the_site_tools = pytest.mark.skipif(UNBUILDABLE is not None, reason=str(UNBUILDABLE))


def test_front_page_is_the_readme_with_a_local_colab_badge_and_every_page_in_order():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    page = site.front_page(readme, REPOSITORY, BRANCH)
    assert notebooks.BADGE_IMAGE in readme and notebooks.BADGE_IMAGE not in page
    assert page.count(f"](/{site.BADGE})") == readme.count(notebooks.BADGE_IMAGE) == len(site.NOTEBOOKS)
    text, toc = page.split("```{toctree}")
    expected = site.local_links(readme.replace(notebooks.BADGE_IMAGE, f"/{site.BADGE}"), site.FRONT, REPOSITORY, BRANCH)
    assert text.rstrip() == expected.rstrip()  # nothing else changed (links to files that are no page: to GitHub)
    pages = [f"notebooks/{n}" for n in site.NOTEBOOKS] + ["benchmarks/README"]
    assert re.findall(r"^[\w/]+$", toc, re.MULTILINE) == pages  # in the series' order, then the results
    assert (REPO / "docs" / "_static" / site.BADGE).read_text().count("Open in Colab") >= 1
    assert site.NOTEBOOKS == tuple(p.stem for p in sorted((REPO / "notebooks").glob("*.ipynb")))


def test_links_to_files_that_are_no_page_point_at_github_and_links_between_pages_stay():
    text = ("[a](notebooks/01_preprocessing.ipynb) [b](benchmarks/README.md#speed-by-design) [c](helpers/README.md) "
            "[d](https://example.org/x.md) [e](#results) [f](LICENSE)")
    out = site.local_links(text, "README.md", "someone/fork", "dev")
    assert out == ("[a](notebooks/01_preprocessing.ipynb) [b](benchmarks/README.md#speed-by-design) "
                   "[c](https://github.com/someone/fork/blob/dev/helpers/README.md) [d](https://example.org/x.md) "
                   "[e](#results) [f](https://github.com/someone/fork/blob/dev/LICENSE)")
    nested = site.local_links("[r](../README.md) [s](report.py) [t](results/x.json#top)", "benchmarks/README.md",
                              "o/r", "b")
    assert nested == ("[r](../README.md) [s](https://github.com/o/r/blob/b/benchmarks/report.py) "
                      "[t](https://github.com/o/r/blob/b/benchmarks/results/x.json#top)")


def test_each_page_s_buttons_name_its_own_file_on_the_repository_of_pyproject():
    def buttons(sourcename: str, repository: str = REPOSITORY, branch: str = BRANCH) -> dict[str, str]:
        context = {"sourcename": sourcename, "pathto": lambda path, resource: f"../{path}", "header_buttons": []}
        site._header_buttons(None, "page", "page.html", context, None, repository=repository, branch=branch)
        return {button["text"]: button["url"] for button in context["header_buttons"]}

    assert buttons("notebooks/04_plotting.ipynb") == {
        "Open in Colab": notebooks.colab_url(REPOSITORY, BRANCH, "notebooks/04_plotting.ipynb"),
        "Download notebook": "../_sources/notebooks/04_plotting.ipynb",
        "View on GitHub": f"https://github.com/{REPOSITORY}/blob/{BRANCH}/notebooks/04_plotting.ipynb",
    }
    assert buttons("notebooks/07_speed.ipynb", "someone/fork", "dev")["Open in Colab"] == (
        "https://colab.research.google.com/github/someone/fork/blob/dev/notebooks/07_speed.ipynb")
    assert buttons("index.md") == {"View on GitHub": f"https://github.com/{REPOSITORY}/blob/{BRANCH}/README.md"}
    assert buttons("benchmarks/README.md") == {
        "View on GitHub": f"https://github.com/{REPOSITORY}/blob/{BRANCH}/benchmarks/README.md"}
    assert buttons("genindex") == {}  # pages Sphinx makes itself have no file in the repository
    conf = runpy.run_path(str(REPO / "docs" / "conf.py"))  # Sphinx's configuration reads the same setting
    assert conf["html_theme_options"]["repository_url"] == f"https://github.com/{REPOSITORY}"
    assert conf["project"] == (REPO / "README.md").read_text(encoding="utf-8").splitlines()[0].lstrip("# ")


def exercise(id: str, code: str = "print('hi')", parameters: dict | None = None) -> Exercise:
    return Exercise(id, "it says", parameters or {}, (), code, "assert True", True, f"{id}: 1.5 % (a VM, 2026-12-01)")


def executed_notebook(name: str, *, word: str = "", image: bytes | None = None):
    """A small notebook as papermill leaves it: a title with the Colab badge, injected parameters, a widget's output,
    a Try it section, then the previous/next line."""
    v4 = nbformat.v4
    figure = [v4.new_output("display_data", data={"image/png": base64.b64encode(image).decode(),
                                                  "text/plain": "<Figure>"})] if image else []
    nb = v4.new_notebook(cells=[
        v4.new_markdown_cell(f"# {name}\n\n{notebooks.badge(REPOSITORY, BRANCH, f'notebooks/{name}.ipynb')}\n\n"
                             f"Here the {word} lives, with $x^2$ in it."),
        v4.new_code_cell("data_dir = 'data'", metadata={"tags": ["parameters"]}),
        v4.new_code_cell("data_dir = '/home/someone/data'", metadata={"tags": ["injected-parameters"],
                                                                      "papermill": {"duration": 1}}),
        v4.new_code_cell("pad = Pad()\ndisplay(pad)", outputs=[v4.new_output("display_data", data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0},
            "text/plain": "<helpers.canvas.DigitCanvas object at 0x7f>"})]),
        v4.new_code_cell("plot()", outputs=[v4.new_output("stream", name="stdout", text="plotted\n"), *figure]),
        v4.new_markdown_cell("## Summary\n- done\n\n## Try it\n**1** Do this."),
        v4.new_markdown_cell("**2** And that."),
        v4.new_markdown_cell("---\n← previous: [Start](01_preprocessing.ipynb) ([in Colab]("
                             f"{notebooks.colab_url(REPOSITORY, BRANCH, 'notebooks/01_preprocessing.ipynb')}))"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                 "papermill": {"parameters": {"data_dir": "/home/someone/data"}},
                 "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}}})
    return nb


def test_a_notebook_s_page_has_no_run_traces_nor_widget_and_its_answers_hidden_after_try_it():
    mine = [exercise("04-1"), exercise("04-2", code="", parameters={"model": "softmax", "epochs": 3})]
    shown = {"04-1": [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]}
    nb = site.page_notebook(executed_notebook("04_plotting"), "04_plotting", mine, shown, "someone/fork", "dev")
    sources = [cell.source for cell in nb.cells]
    assert not any("/home/someone" in s for s in sources) and "widgets" not in nb.metadata
    assert "papermill" not in nb.metadata and not any("papermill" in c.metadata for c in nb.cells)
    assert nb.cells[0].source.count(f"[![Open In Colab](/{site.BADGE})](https://colab.research.google.com/github/"
                                     f"{REPOSITORY}/blob/{BRANCH}/notebooks/04_plotting.ipynb)") == 1
    assert [o.data["text/plain"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if "data" in o and "widget" in o.data.get("text/plain", "")] == []  # the pad's output: nothing
    try_it = next(i for i, s in enumerate(sources) if "## Try it" in s)
    assert sources[try_it + 1] == "**2** And that." and sources[try_it + 2] == "### Answers"
    first, second = nb.cells[try_it + 3], nb.cells[try_it + 4]
    assert sources[try_it + 5].startswith("---") and len(nb.cells) == try_it + 6
    for cell, id in ((first, "04-1"), (second, "04-2")):
        assert cell.cell_type == "code" and "hide-cell" in cell.metadata["tags"]
        assert cell.metadata["mystnb"]["code_prompt_show"] == f"Answer {id}" and cell.metadata["exercise"] == id
        assert cell.outputs[-1].data["text/markdown"] == f"**At full size:** {id}: 1.5 % (a VM, 2026-12-01)"
    assert first.source == "print('hi')" and first.outputs[0].text == "hi\n" and len(first.outputs) == 2
    assert second.source == '# in the parameters cell, then Run all:\nmodel = "softmax"\nepochs = 3'
    assert len(second.outputs) == 1  # no run of `answers`: the code and the measured text
    assert site.answer_source(exercise("05-1", "x = 1", {"lr": 0.5})) == (
        "# in the parameters cell, then Run all:\nlr = 0.5\n\nx = 1")
    nbformat.validate(nb)
    unmeasured = Exercise("04-3", "it says", {}, (), "x = 1", "assert x", True, "")
    (_, cell) = site.answer_cells([unmeasured], None)
    assert cell.source == "x = 1" and cell.outputs == []  # nothing measured yet: no "At full size" line


def test_without_a_try_it_the_answers_come_last_and_without_exercises_there_are_none():
    nb = executed_notebook("01_preprocessing")
    nb.cells = [c for c in nb.cells if "Try it" not in c.source and not c.source.startswith("---")]
    page = site.page_notebook(nb, "01_preprocessing", [exercise("01-1")], None, REPOSITORY, BRANCH)
    assert page.cells[-1].metadata["exercise"] == "01-1"
    none = site.page_notebook(executed_notebook("02_model"), "02_model", [], None, REPOSITORY, BRANCH)
    assert not [c for c in none.cells if "answer" in c.metadata.get("tags", [])]


def test_the_download_copy_is_the_notebook_with_its_outputs_and_without_this_machine_s_paths():
    executed = executed_notebook("03_training")
    copy = site.without_run_traces(executed)
    assert len(copy.cells) == len(executed.cells) - 1 and "papermill" not in copy.metadata
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in copy.cells)
    assert copy.cells[3].outputs == executed.cells[4].outputs  # outputs kept
    assert notebooks.BADGE_IMAGE in copy.cells[0].source  # the real badge: the copy opens in Jupyter or Colab


def test_answers_outputs_are_read_by_exercise_id_from_what_the_answers_command_saves():
    cells = [nbformat.v4.new_code_cell("x", metadata={"tags": ["exercise"], "exercise": "02-1"},
                                       outputs=[nbformat.v4.new_output("stream", name="stdout", text="1\n")]),
             nbformat.v4.new_code_cell("y", metadata={"tags": ["exercise-check"], "exercise": "02-1"})]
    assert site.answer_outputs(nbformat.v4.new_notebook(cells=cells)) == {"02-1": cells[0].outputs}


@needs_the_site_tools
def test_the_search_word_of_a_page_is_one_no_other_page_has_even_stemmed():
    assert site.unique_word("the gradients descend quickly", ["a gradient", "quickly now"]) == "descend"
    assert site.unique_word("plotting plots", ["we plot"]) is None  # plotting and plot share Sphinx's stem


def png(width: int = 8, height: int = 6) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


WORDS = ["ammonite", "basilisk", "chrysalis", "dirigible", "escarpment", "firmament", "gossamer"]


@pytest.fixture(scope="module")
def tiny_site(tmp_path_factory) -> Path:
    """A site built from seven small synthetic executed notebooks, the repository's README and results page."""
    artifacts = tmp_path_factory.mktemp("artifacts")
    (artifacts / "notebooks").mkdir()
    for name, word in zip(site.NOTEBOOKS, WORDS):
        nbformat.write(executed_notebook(name, word=word, image=png()), artifacts / "notebooks" / f"{name}.ipynb")
    out = tmp_path_factory.mktemp("site") / "site"
    stats = site.build(artifacts, out)
    assert stats["warnings"] == [], stats["warnings"]
    return out


@needs_the_site_tools
def test_the_build_makes_a_static_site_of_every_page_with_its_figures_and_answers(tiny_site):
    pages = site.site_pages(tiny_site)
    assert {"index.html", "benchmarks/README.html", "search.html"} <= set(pages)
    assert {f"notebooks/{n}.html" for n in site.NOTEBOOKS} <= set(pages)
    page = (tiny_site / "notebooks" / "04_plotting.html").read_text(encoding="utf-8")
    assert "<math" in page and "$x^2$" not in page  # math as MathML, rendered by the browser
    assert "DigitCanvas" not in page and "widget" not in page.lower().replace("widgets-", "")
    assert re.search(r'<img[^>]+src="\.\./_images/[^"]+\.png"', page)  # the figure, as a file of the site
    for e in exercises()["04_plotting"]:
        assert f"Answer {e.id}" in page
    download = json.loads((tiny_site / "_sources" / "notebooks" / "04_plotting.ipynb").read_text(encoding="utf-8"))
    assert not [c for c in download["cells"] if "answer" in c["metadata"].get("tags", [])]  # what the page shows,
    assert "/home/someone" not in json.dumps(download)  # less its answers and this machine's paths
    everything = "".join(p.read_text(encoding="utf-8", errors="ignore") for p in tiny_site.rglob("*")
                         if p.suffix in (".html", ".css", ".js") and p.is_file())
    assert "colab.research.google.com/assets" not in everything and "fonts.googleapis" not in everything
    assert "cdn.jsdelivr" not in everything and "unpkg.com" not in everything


@needs_the_site_tools
@pytest.mark.skipif(site.missing_browser() is not None, reason=str(site.missing_browser()))
def test_the_browser_checks_pass_on_a_good_site_and_list_every_damage(tiny_site, tmp_path):
    assert site.check(tiny_site, log=lambda *_: None) == []

    damaged = tmp_path / "damaged"
    shutil.copytree(tiny_site, damaged)
    page = damaged / "notebooks" / "03_training.html"
    html = page.read_text(encoding="utf-8")
    html = html.replace(notebooks.colab_url(REPOSITORY, BRANCH, "notebooks/03_training.ipynb"),
                        notebooks.colab_url(REPOSITORY, BRANCH, "notebooks/02_model.ipynb"))
    html = html.replace(notebooks.colab_url(REPOSITORY, BRANCH, "notebooks/01_preprocessing.ipynb"),
                        notebooks.colab_url(REPOSITORY, BRANCH, "notebooks/08_gone.ipynb"))  # the footer's
    html = html.replace('<details class="admonition hide', '<details open class="admonition hide', 1)  # shown on load
    html = html.replace("</article>", '<p><a href="missing.html">gone</a> <a href="05_beyond.html#nowhere">x</a>'
                        f'<span style="display:inline-block;width:900px">{"wide " * 3}</span></p></article>', 1)
    page.write_text(html, encoding="utf-8")
    figure = next((damaged / "_images").glob("*.png"))
    figure.write_bytes(b"")  # an empty image
    index = damaged / "index.html"
    index.write_text(index.read_text(encoding="utf-8").replace(
        "</head>", '<script>console.error("broken on purpose")</script>'
                   '<script src="https://cdn.example.org/x.js"></script></head>', 1), encoding="utf-8")

    failures = "\n".join(site.check(damaged, log=lambda *_: None))
    assert "notebooks/03_training.html: 'Open in Colab' points at" in failures
    assert "notebooks/03_training.html: the title's Colab badge points at" in failures
    assert "notebooks/03_training.html: a Colab link points at no notebook of the series" in failures
    assert "notebooks/02_model.html: a Colab link" not in failures  # its footer's link to 01 is one of the series
    assert "notebooks/03_training.html: 'Answer 03-1' is open on load" in failures
    assert "notebooks/03_training.html: link to notebooks/missing.html, which does not exist" in failures
    assert "link to notebooks/05_beyond.html#nowhere: no such anchor there" in failures
    assert "did not load (naturalWidth 0)" in failures and figure.name in failures
    assert "index.html (desktop): console error" in failures and "broken on purpose" in failures
    assert "index.html (desktop): loads a resource from outside the site: https://cdn.example.org/x.js" in failures
    assert "notebooks/03_training.html (phone, 390 px): scrolls sideways" in failures


def test_the_build_says_what_is_missing_and_never_replaces_a_folder_that_holds_no_site(tmp_path):
    (tmp_path / "run" / "notebooks").mkdir(parents=True)
    with pytest.raises(site.SiteError, match=r"lacks the executed notebooks 01_preprocessing, .*tools\.series"):
        site.build(tmp_path / "run", tmp_path / "out")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(site.SiteError, match="holds no site built here"):
        site.build(tmp_path / "run", mine)
    assert (mine / "notes.txt").read_text() == "keep me"
    assert site.main(["build", "--artifacts-dir", str(tmp_path / "run"), "--out", str(tmp_path / "out")]) == 1
