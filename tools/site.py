"""The series as a static website, built from the executed notebooks of a run, and checked in a real browser.

    python -m tools.site build --artifacts-dir ARTIFACTS --out DIR   # ARTIFACTS/notebooks/*.ipynb -> the site in DIR
    python -m tools.site check DIR                                   # headless Chromium: exit 1 listing every failure
    python -m tools.site answers --data-dir D --artifacts-dir A [--smoke]  # the exercises' outputs -> A/answers/
    python -m tools.site screenshots DIR --to docs/screenshots      # the pages the README shows, desktop and phone

``build`` reads what ``python -m tools.series`` left in ``ARTIFACTS/notebooks/`` (and ``ARTIFACTS/answers/`` when
``answers`` made it) and never runs a notebook. It stages the sources in a temporary folder -- README.md as the front
page, each executed notebook as a page, benchmarks/README.md as the page of results -- and builds them with Sphinx,
myst-nb and sphinx-book-theme (configuration: docs/conf.py); ``python -m http.server -d DIR`` serves the result. The
text is the README's and the notebooks' own; the exercises' answers are the code of tests/exercises/, hidden until
opened; the Colab, download and GitHub links come from ``[tool.mnist-series]`` in pyproject.toml, as for
``tools/notebooks.py sync``.
"""

from __future__ import annotations

import argparse
import copy
import functools
import http.server
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

from tools import notebooks

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BADGE = "colab-badge.svg"  # docs/_static/: the Open-in-Colab badge, drawn for the site, so no page loads it remotely
RESULTS = "benchmarks/README.md"  # the tables that `python -m benchmarks.report` writes
FRONT = "README.md"
DESKTOP, PHONE = (1280, 900), (390, 844)
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars")
LABELS = ("Open in Colab", "Download notebook", "View on GitHub")
# The series in order, as tools/notebooks.py finds it (tools.series.NOTEBOOKS names the same, but imports torch).
NOTEBOOKS = tuple(path.stem for path in notebooks.notebooks(ROOT))


class SiteError(RuntimeError):
    """The site cannot be built or checked; the message says why and what to do."""


# ---------------------------------------------------------------------------------------------------------- sources


def title(root: Path = ROOT) -> str:
    """The series' title: the first line of README.md."""
    first = (root / FRONT).read_text(encoding="utf-8").splitlines()[0]
    return first.lstrip("#").strip()


def pages(names: tuple[str, ...] | list[str] = NOTEBOOKS) -> dict[str, str]:
    """{path in the repository: path in the staged sources} of every page."""
    return {FRONT: "index.md", RESULTS: RESULTS, **{f"notebooks/{n}.ipynb": f"notebooks/{n}.ipynb" for n in names}}


def github_url(repository: str, branch: str, path: str) -> str:
    return f"https://github.com/{repository}/blob/{branch}/{path}"


LINK = re.compile(r"(\]\()([^)\s]+)(\))")


def local_links(text: str, source: str, repository: str, branch: str, names=NOTEBOOKS) -> str:
    """``text`` (of the repository file ``source``) with each relative link to a file that is no page of the site
    pointed at that file on GitHub; links between pages stay relative (Sphinx makes them links between pages)."""
    folder = Path(source).parent
    site_pages = pages(names)

    def fix(match: re.Match) -> str:
        target, _, anchor = match[2].partition("#")
        if not target or ":" in target or target.startswith("/"):
            return match[0]
        path = (folder / unquote(target)).as_posix()
        parts: list[str] = []
        for part in path.split("/"):
            if part == "..":
                parts = parts[:-1]
            elif part not in (".", ""):
                parts.append(part)
        path = "/".join(parts)
        if path in site_pages:
            return match[0]
        url = github_url(repository, branch, path) + (f"#{anchor}" if anchor else "")
        return f"{match[1]}{url}{match[3]}"

    return LINK.sub(fix, text)


def front_page(readme: str, repository: str, branch: str, names=NOTEBOOKS) -> str:
    """README.md as the front page: its Colab badge images swapped for the local badge, links to files that are no
    page pointed at GitHub, then the site's table of contents (hidden: the sidebar shows it)."""
    text = local_links(readme.replace(notebooks.BADGE_IMAGE, f"/{BADGE}"), FRONT, repository, branch, names)
    toc = "\n".join(f"notebooks/{n}" for n in names)
    return f"{text.rstrip()}\n\n```{{toctree}}\n:hidden:\n:maxdepth: 1\n\n{toc}\n{RESULTS.removesuffix('.md')}\n```\n"


def tagged(cell, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def without_run_traces(nb):
    """A copy of an executed notebook without papermill's injected parameters (this machine's paths) and without
    papermill's and nbclient's metadata: the notebook as the repository has it, with the run's outputs."""
    nb = copy.deepcopy(nb)
    nb.cells = [cell for cell in nb.cells if not tagged(cell, "injected-parameters")]
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        for key in ("papermill", "execution"):
            cell.metadata.pop(key, None)
    return nb


def heading_level(cell) -> int:
    """The level of the first heading in a markdown cell (0: none)."""
    if cell.cell_type != "markdown":
        return 0
    levels = [len(m[1]) for m in re.finditer(r"^(#{1,6})\s", cell.source, re.MULTILINE)]
    return min(levels) if levels else 0


def try_it_end(nb) -> int:
    """The index just after the notebook's Try it section: before the next heading of its level or above, or before
    the closing ``---`` line (the notebook's previous/next links); the end of the notebook without a Try it."""
    start = next((i for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown"
                  and re.search(r"^#{1,6}\s+Try it", cell.source, re.MULTILINE)), None)
    if start is None:
        return len(nb.cells)
    level = len(re.search(r"^(#{1,6})\s+Try it", nb.cells[start].source, re.MULTILINE)[1])
    for index in range(start + 1, len(nb.cells)):
        cell = nb.cells[index]
        if (0 < heading_level(cell) <= level) or (cell.cell_type == "markdown" and cell.source.lstrip()
                                                   .startswith("---")):
            return index
    return len(nb.cells)


def answer_source(exercise) -> str:
    """What the learner types for an exercise: the parameters it changes (in the parameters cell), then its code."""
    lines = []
    if exercise.parameters:
        lines.append("# in the parameters cell, then Run all:")
        lines += [f"{name} = {json.dumps(value) if isinstance(value, str) else repr(value)}"
                  for name, value in exercise.parameters.items()]
    if exercise.code.strip():
        lines += [""] * bool(lines) + [exercise.code]
    return "\n".join(lines)


def answer_outputs(answers_nb) -> dict[str, list]:
    """{exercise id: outputs} of the ``exercise`` cells of a notebook that ``answers`` saved."""
    return {cell.metadata["exercise"]: cell.get("outputs", []) for cell in answers_nb.cells
            if cell.cell_type == "code" and tagged(cell, "exercise") and "exercise" in cell.metadata}


def answer_cells(exercises: list, outputs: dict[str, list] | None) -> list:
    """One closed dropdown per exercise ("Answer NN-k", myst-nb's hide-cell): its code, its outputs when a run of
    ``answers`` saved them, and what it showed at full size (its ``measured`` text, when it has one)."""
    if not exercises:
        return []
    cells = [nbformat.v4.new_markdown_cell("### Answers")]
    for exercise in exercises:
        shown = [output for output in copy.deepcopy((outputs or {}).get(exercise.id, []))
                 if not widget_output(output)]
        if exercise.measured.strip():  # what it showed at full size, with the machine and the date
            shown.append(nbformat.v4.new_output("display_data", data={
                "text/markdown": f"**At full size:** {exercise.measured}",
                "text/plain": f"At full size: {exercise.measured}"}))
        cells.append(nbformat.v4.new_code_cell(answer_source(exercise), outputs=shown, metadata={
            "tags": ["hide-cell", "answer"], "exercise": exercise.id,
            "mystnb": {"code_prompt_show": f"Answer {exercise.id}", "code_prompt_hide": f"Hide answer {exercise.id}"},
        }))
    return cells


def widget_output(output) -> bool:
    return "application/vnd.jupyter.widget-view+json" in output.get("data", {})


def page_notebook(executed, name: str, exercises: list, outputs: dict[str, list] | None, repository: str,
                  branch: str):
    """The notebook of a page: the executed copy without run traces; a widget (notebook 06's drawing pad, which
    cannot run on a static page) shows nothing; the Colab badge is the local one; its answers after its Try it."""
    nb = without_run_traces(executed)
    nb.metadata.pop("widgets", None)  # the widgets' state: myst-nb would load a widget manager for it
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [output for output in cell.get("outputs", []) if not widget_output(output)]
        elif cell.cell_type == "markdown":
            cell.source = local_links(cell.source.replace(notebooks.BADGE_IMAGE, f"/{BADGE}"),
                                      f"notebooks/{name}.ipynb", repository, branch)
    at = try_it_end(nb)
    nb.cells[at:at] = answer_cells(exercises, outputs)
    return nb


def read_notebook(path: Path):
    return nbformat.read(path, as_version=4)


def all_exercises() -> dict[str, list]:
    from tests.exercises import exercises  # the same code that CI runs (tests/test_learners_path.py)

    return exercises()


def stage(artifacts: Path, src: Path, root: Path = ROOT) -> dict[str, object]:
    """Write the site's sources into ``src``; returns {notebook name: its download copy}."""
    repository, branch = notebooks.slug(root)
    executed = artifacts / "notebooks"
    missing = [n for n in NOTEBOOKS if not (executed / f"{n}.ipynb").is_file()]
    if missing:
        raise SiteError(f"{executed} lacks the executed notebooks {', '.join(missing)}: run "
                        f"`python -m tools.series --artifacts-dir {artifacts}` first")
    exercises = all_exercises()
    src.mkdir(parents=True, exist_ok=True)
    (src / "index.md").write_text(front_page((root / FRONT).read_text(encoding="utf-8"), repository, branch),
                                  encoding="utf-8")
    (src / RESULTS).parent.mkdir(parents=True, exist_ok=True)
    (src / RESULTS).write_text(local_links((root / RESULTS).read_text(encoding="utf-8"), RESULTS, repository, branch),
                               encoding="utf-8")
    shutil.copy2(DOCS / "_static" / BADGE, src / BADGE)
    (src / "notebooks").mkdir(exist_ok=True)
    downloads = {}
    for name in NOTEBOOKS:
        nb = read_notebook(executed / f"{name}.ipynb")
        answers = artifacts / "answers" / f"{name}.ipynb"
        outputs = answer_outputs(read_notebook(answers)) if answers.is_file() else None
        nbformat.write(page_notebook(nb, name, exercises.get(name, []), outputs, repository, branch),
                       src / "notebooks" / f"{name}.ipynb")
        downloads[name] = without_run_traces(nb)
    return downloads


# ------------------------------------------------------------------------------------------------------------ build


def build(artifacts: Path, out: Path, *, quiet: bool = True) -> dict:
    """Build the site of ``artifacts`` into ``out`` (replaced when it holds an earlier site); returns what it took:
    seconds, pages, bytes, Sphinx's warnings."""
    start = time.perf_counter()
    artifacts, out = Path(artifacts).resolve(), Path(out).resolve()
    if out.exists() and any(out.iterdir()) and not (out / ".buildinfo").is_file():
        raise SiteError(f"{out} is not empty and holds no site built here: choose a new or empty folder")
    with tempfile.TemporaryDirectory(prefix="mnist-site-") as staging:
        staging = Path(staging)
        downloads = stage(artifacts, staging / "src")
        html = staging / "build" / "html"
        log = staging / "warnings.txt"
        run = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-w", str(log), "-c", str(DOCS),
                              "-d", str(staging / "build" / "doctrees"), str(staging / "src"), str(html)],
                             cwd=ROOT, capture_output=True, text=True)
        warnings = [line for line in (log.read_text(encoding="utf-8") if log.exists() else "").splitlines()
                    if line.strip()]
        if run.returncode:
            raise SiteError(f"Sphinx failed (exit {run.returncode}):\n{run.stderr[-4000:]}")
        for name, nb in downloads.items():  # "Download notebook": the notebook with the run's outputs, no answers
            nbformat.write(nb, html / "_sources" / "notebooks" / f"{name}.ipynb")
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(html, out)
    files = [p for p in out.rglob("*") if p.is_file()]
    stats = {"seconds": round(time.perf_counter() - start, 1), "pages": len(list(out.rglob("*.html"))),
             "files": len(files), "bytes": sum(p.stat().st_size for p in files), "warnings": warnings}
    if not quiet:
        for line in warnings:
            print(f"warning: {line}", file=sys.stderr)
    return stats


# ----------------------------------------------------------------------------------------------------------- Sphinx


def mathml(latex: str, block: bool = False) -> str:
    from latex2mathml.converter import convert

    return convert(latex.strip(), display="block" if block else "inline")


def _visit_math(translator, node) -> None:
    from docutils.nodes import SkipNode

    translator.body.append(f'<span class="math">{mathml(node.astext())}</span>')
    raise SkipNode


def _visit_displaymath(translator, node) -> None:
    from docutils.nodes import SkipNode

    translator.body.append(f'<div class="math">{mathml(node.astext(), block=True)}</div>\n')
    raise SkipNode


def page_links(source: str, repository: str, branch: str, download: str | None = None) -> list[tuple[str, str]]:
    """(label, URL) of a page's buttons; ``source`` is the page's file in the repository, ``download`` the relative
    URL of its notebook on the site."""
    links = []
    if source.endswith(".ipynb"):
        links.append((LABELS[0], notebooks.colab_url(repository, branch, source)))
        if download:
            links.append((LABELS[1], download))
    links.append((LABELS[2], github_url(repository, branch, source)))
    return links


ICONS = {LABELS[0]: "_static/images/logo_colab.png", LABELS[1]: "fas fa-download", LABELS[2]: "fab fa-github"}


def _header_buttons(app, pagename, templatename, context, doctree, *, repository: str, branch: str) -> None:
    """The buttons at the top of each page, rendered by sphinx-book-theme: Open in Colab, Download notebook, View on
    GitHub, each pointing at this page's file (the theme's own source button would show a notebook's raw JSON)."""
    sources = {staged: original for original, staged in pages().items()}
    staged = context.get("sourcename")
    if not staged or staged not in sources:
        return
    download = context["pathto"](f"_sources/{staged}", 1) if staged.endswith(".ipynb") else None
    context["header_buttons"] = [
        {"type": "link", "url": url, "text": label, "tooltip": label, "icon": ICONS[label],
         "label": label.lower().replace(" ", "-")}
        for label, url in page_links(sources[staged], repository, branch, download)
    ]


def setup_sphinx(app, root: Path, repository: str, branch: str) -> None:
    """What docs/conf.py adds to Sphinx: math as MathML, the pages' buttons."""
    app.add_html_math_renderer("mathml", (_visit_math, None), (_visit_displaymath, None))
    app.connect("html-page-context", functools.partial(_header_buttons, repository=repository, branch=branch),
                priority=900)


# ------------------------------------------------------------------------------------------------------------ check


def missing_browser() -> str | None:
    """Why the browser checks cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the Python package 'selenium' is not installed (pip install -r requirements.txt)"
    if not chromium_binary():
        return "no Chromium browser on PATH (Debian: apt-get install chromium chromium-driver)"
    if not shutil.which("chromedriver"):
        return "no chromedriver on PATH (Debian: apt-get install chromium-driver)"
    return None


def chromium_binary() -> str | None:
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """``folder`` served over HTTP on 127.0.0.1 (as `python -m http.server -d folder`); yields its base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def browsing(folder: Path) -> Iterator[tuple[str, object]]:
    """(base URL, driver): ``folder`` served on 127.0.0.1 and a headless Chromium to visit it."""
    with served(folder) as base, tempfile.TemporaryDirectory(prefix="mnist-site-chromium-") as profile, \
            chromium(Path(profile)) as driver:
        yield base, driver


@contextmanager
def chromium(profile: Path) -> Iterator:
    """Headless Chromium driven by Selenium, with the flags this sandbox and CI need; its console is logged."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    reason = missing_browser()
    if reason:
        raise SiteError(f"cannot run the browser checks: {reason}")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_binary()
    for flag in (*CHROMIUM_FLAGS, f"--window-size={DESKTOP[0]},{DESKTOP[1]}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def viewport(driver, size: tuple[int, int], mobile: bool) -> None:
    width, height = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


# Loads every image now (none waits to be scrolled to), then reports each one once all have settled.
IMAGES = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
images.forEach(i => { i.loading = "eager"; });
const settle = (tries) => {
  if (tries > 0 && !images.every(i => i.complete)) return setTimeout(() => settle(tries - 1), 100);
  done(images.map(i => ({src: i.currentSrc || i.src, complete: i.complete, width: i.naturalWidth})));
};
settle(100);
"""
# What a page is made of: its links, element ids, what it loaded, its text.
PAGE = """
const external = u => !u.startsWith(location.origin) && !u.startsWith("data:") && !u.startsWith("blob:");
const loaded = performance.getEntriesByType("resource").map(e => e.name)
  .concat(Array.from(document.querySelectorAll(
    "script[src], link[rel~=stylesheet], link[rel~=icon], link[rel~=preload]")).map(e => e.src || e.href));
const article = document.querySelector("article") || document.body;
return {
  links: Array.from(document.querySelectorAll("a[href]")).map(a => a.href),
  ids: Array.from(document.querySelectorAll("[id], a[name]")).map(e => e.id || e.name),
  external: loaded.filter(external),
  text: article.innerText,
  prose: Array.from(article.querySelectorAll("p")).map(p => p.innerText).join("\\n"),
  buttons: Array.from(document.querySelectorAll(".article-header-buttons a")).map(a => ({
    text: a.innerText.trim(), href: a.href})),
  colab: Array.from(article.querySelectorAll("a[href^='https://colab.research.google.com/']")).map(a => a.href),
};
"""
# An answer's dropdown: whether it is open, whether its code is on screen, the code's text.
ANSWER = """
const summary = Array.from(document.querySelectorAll("details > summary"))
  .find(s => s.textContent.replace(/\\s+/g, " ").includes(arguments[0]));
if (!summary) return null;
const details = summary.parentElement;
const code = details.querySelector("pre");
const shown = !!code && code.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true});
return {open: details.open, shown: shown, code: code ? code.innerText : ""};
"""
# Prose wider than the screen (phone width): the page scrolls sideways, or a paragraph, list item or heading reaches
# past the screen or past its own box, outside any box that scrolls by itself (a code block or a wide table may
# scroll within its own box).
PHONE_WIDTH = """
const width = document.documentElement.clientWidth;
const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) {
  const s = getComputedStyle(p).overflowX; if (s === "auto" || s === "scroll" || s === "hidden") return true; }
  return false; };
const wide = Array.from(document.querySelectorAll("article p, article li, article h1, article h2, article h3"))
  .filter(e => e.getClientRects().length && !scrolls(e)
          && (e.getBoundingClientRect().right > width + 1 || e.scrollWidth > e.clientWidth + 1))
  .map(e => e.tagName.toLowerCase() + ": " + e.innerText.slice(0, 60));
return {page: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 3)};
"""


def site_pages(folder: Path) -> list[str]:
    """Every HTML page of a built site, as paths relative to it."""
    skip = ("_static/", "_sources/", "_images/", "_downloads/")
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html")
                  if not p.relative_to(folder).as_posix().startswith(skip))


def console_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def stems(text: str) -> dict[str, str]:
    """{stem: a word} of the words in ``text``, stemmed as Sphinx's English search does."""
    import snowballstemmer

    stemmer = snowballstemmer.stemmer("english")
    return {stemmer.stemWord(word): word for word in re.findall(r"[a-z]{3,}", text.lower())}


def unique_word(prose: str, others: list[str]) -> str | None:
    """A word of ``prose`` whose stem no other text has: the longest, then the first alphabetically."""
    taken = set().union(*(stems(text) for text in others)) if others else set()
    words = [word for stem, word in stems(prose).items() if stem not in taken and len(word) >= 6]
    return min(words, key=lambda w: (-len(w), w)) if words else None


def check(folder: Path, *, root: Path = ROOT, log=print) -> list[str]:
    """Every failure of the browser checks on the site in ``folder``, served on 127.0.0.1 and visited in headless
    Chromium; an empty list when all pass. Every page, at 1280 x 900 then at 390 x 844 (a phone): no console error;
    every image loaded and not empty (naturalWidth > 0); nothing loaded from outside the site; every link to the site
    leads to a file, and its #anchor to an element of that page; on each notebook's page, Open in Colab, Download
    notebook and View on GitHub name that notebook, and each exercise's "Answer NN-k" is closed on load and shows
    the exercise's code once clicked; for each notebook, the search finds a word of its prose that no other page
    uses, on its page only; at phone width no page scrolls sideways and no paragraph, list item or heading reaches
    past the screen."""
    from selenium.webdriver.common.by import By

    folder = Path(folder).resolve()
    if not (folder / "index.html").is_file():
        return [f"{folder}: no index.html (build the site first: python -m tools.site build)"]
    repository, branch = notebooks.slug(root)
    exercises = all_exercises()
    failures: list[str] = []
    seen: dict[str, dict] = {}
    names = {f"notebooks/{n}.html": n for n in NOTEBOOKS}
    with browsing(folder) as (base, driver):
        viewport(driver, DESKTOP, mobile=False)
        for page in site_pages(folder):
            driver.get(base + page)
            where = f"{page} (desktop)"
            name = names.get(page)
            if name:  # the answers: each closed on load, its code shown once opened
                for exercise in exercises.get(name, []):
                    label = f"Answer {exercise.id}"
                    state = driver.execute_script(ANSWER, label)
                    if state is None:
                        failures.append(f"{page}: no dropdown '{label}'")
                        continue
                    if state["open"] or state["shown"]:
                        failures.append(f"{page}: '{label}' is open on load (it must stay hidden until opened)")
                    summary = next(s for s in driver.find_elements(By.CSS_SELECTOR, "details > summary")
                                   if label in " ".join(s.get_attribute("textContent").split()))
                    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
                    summary.click()
                    state = driver.execute_script(ANSWER, label)
                    expected = " ".join(answer_source(exercise).split())
                    if not (state["open"] and state["shown"]) or " ".join(state["code"].split()) != expected:
                        failures.append(f"{page}: '{label}' opened does not show its code "
                                        f"(open {state['open']}, shown {state['shown']}, code {state['code'][:80]!r})")
            images = driver.execute_async_script(IMAGES)
            failures += [f"{where}: image {i['src']} did not load (naturalWidth {i['width']})" for i in images
                         if not i["complete"] or i["width"] == 0]
            seen[page] = found = driver.execute_script(PAGE)
            failures += [f"{where}: loads a resource from outside the site: {url}"
                         for url in sorted(set(found["external"]))]
            failures += [f"{where}: console error: {message}" for message in console_errors(driver)]
            if name:
                failures += notebook_links(page, name, found, base, folder, repository, branch)
        failures += internal_links(seen, base, folder)
        failures += searches(driver, base, seen, names, log)
        viewport(driver, PHONE, mobile=True)
        for page in site_pages(folder):
            driver.get(base + page)
            width = driver.execute_script(PHONE_WIDTH)
            if width["page"] > width["width"] + 1 or width["wide"]:
                failures.append(f"{page} (phone, {PHONE[0]} px): scrolls sideways ({width['page']} px wide) "
                                f"{'; '.join(width['wide'])}".rstrip())
            failures += [f"{page} (phone): console error: {message}" for message in console_errors(driver)]
    log(f"checked {len(seen)} pages at {DESKTOP[0]}x{DESKTOP[1]} and {PHONE[0]}x{PHONE[1]}: "
        f"{len(failures)} failure{'s' * (len(failures) != 1)}")
    return failures


def notebook_links(page: str, name: str, found: dict, base: str, folder: Path, repository: str,
                   branch: str) -> list[str]:
    """The page's Open in Colab, Download notebook and View on GitHub buttons name its notebook; so does the first
    Colab link in its text (the title's badge); every other Colab link (the footer's previous and next) names a
    notebook of the series."""
    expected = {LABELS[0]: notebooks.colab_url(repository, branch, f"notebooks/{name}.ipynb"),
                LABELS[2]: github_url(repository, branch, f"notebooks/{name}.ipynb")}
    failures = []
    for label in LABELS:
        hrefs = [b["href"] for b in found["buttons"] if b["text"] == label]
        if len(hrefs) != 1:
            failures.append(f"{page}: {len(hrefs)} '{label}' links, expected one")
            continue
        if label == LABELS[1]:
            path = urlsplit(hrefs[0]).path
            target = folder / unquote(path).lstrip("/")
            if not (hrefs[0].startswith(base) and path.endswith(f"/{name}.ipynb") and target.is_file()):
                failures.append(f"{page}: '{label}' points at {hrefs[0]}, not at a copy of {name}.ipynb on the site")
            elif "cells" not in json.loads(target.read_text(encoding="utf-8")):
                failures.append(f"{page}: '{label}' gives {path}, which is not a notebook")
        elif hrefs[0] != expected[label]:
            failures.append(f"{page}: '{label}' points at {hrefs[0]}, expected {expected[label]}")
    series = {notebooks.colab_url(repository, branch, f"notebooks/{p.name}") for p in notebooks.notebooks()}
    if not found["colab"]:
        failures.append(f"{page}: no Open-in-Colab badge in its text")
    elif found["colab"][0] != expected[LABELS[0]]:
        failures.append(f"{page}: the title's Colab badge points at {found['colab'][0]}, not at {name}.ipynb")
    failures += [f"{page}: a Colab link points at no notebook of the series: {url}" for url in found["colab"]
                 if url not in series]
    return failures


def internal_links(seen: dict[str, dict], base: str, folder: Path) -> list[str]:
    """Every link to the site itself leads to a file that exists, and its #anchor to an element of that page."""
    failures = set()
    for page, found in seen.items():
        for url in found["links"]:
            if not url.startswith(base):
                continue
            parts = urlsplit(url)
            path = unquote(parts.path)[1:]
            if path == "" or path.endswith("/"):
                path += "index.html"
            if not (folder / path).is_file():
                failures.add(f"{page}: link to {path}, which does not exist")
            elif parts.fragment and path.endswith(".html"):
                ids = seen[path]["ids"] if path in seen else re.findall(
                    r'\bid="([^"]+)"', (folder / path).read_text(encoding="utf-8"))
                if unquote(parts.fragment) not in ids:
                    failures.add(f"{page}: link to {path}#{parts.fragment}: no such anchor there")
    return sorted(failures)


def searches(driver, base: str, seen: dict[str, dict], names: dict[str, str], log) -> list[str]:
    """For each notebook page, a word of its prose that no other page uses: the site's search must find that page and
    no other."""
    from selenium.webdriver.support.ui import WebDriverWait

    failures = []
    for page in (p for p in names if p in seen):
        others = [found["text"] for other, found in seen.items() if other != page and other != "genindex.html"]
        word = unique_word(seen[page]["prose"], others)
        if word is None:
            failures.append(f"{page}: no word of its prose is its own, nothing to search for")
            continue
        driver.get(f"{base}search.html?q={word}")
        try:
            WebDriverWait(driver, 20, poll_frequency=0.2).until(lambda d: d.execute_script(
                "const s = document.querySelector('#search-results .search-summary, .search-summary');"
                "return s && /found|did not match/i.test(s.textContent);"))
        except Exception:  # selenium's TimeoutException: the search never finished
            failures.append(f"search.html?q={word}: the search did not finish in 20 s")
            continue
        found = driver.execute_script(
            "return Array.from(document.querySelectorAll('#search-results ul.search li a')).map(a => a.href)")
        results = sorted({unquote(urlsplit(url).path)[1:] for url in found if url.startswith(base)})
        log(f"search {word!r} (only {page} uses it): {', '.join(results) or 'nothing'}")
        if results != [page]:
            failures.append(f"search for {word!r}, a word only {page} uses, found {results or 'nothing'}")
        failures += [f"search.html?q={word}: console error: {message}" for message in console_errors(driver)]
    return failures


# ------------------------------------------------------------------------------------------------------ screenshots

# The three pages the README shows: (page, what to scroll to: the front page's table of notebooks with their badges,
# notebook 04's first figure, notebook 07's last figure, its speed ladder chart).
FIGURES = "article .cell_output img"
SCREENSHOTS = {"front": ("index.html", "document.querySelector('#the-notebooks')"),
               "04_plotting": ("notebooks/04_plotting.html", f"document.querySelector({FIGURES!r})"),
               "07_speed": ("notebooks/07_speed.html", f"Array.from(document.querySelectorAll({FIGURES!r})).pop()")}


def screenshots(folder: Path, to: Path) -> list[Path]:
    """PNGs of the pages of SCREENSHOTS at desktop (1280 x 900) and phone width (390 x 844):
    ``<to>/<name>-desktop.png`` and ``<to>/<name>-phone.png``."""
    to.mkdir(parents=True, exist_ok=True)
    made = []
    with browsing(Path(folder).resolve()) as (base, driver):
        for size, mobile, suffix in ((DESKTOP, False, "desktop"), (PHONE, True, "phone")):
            viewport(driver, size, mobile)
            for name, (page, target) in SCREENSHOTS.items():
                driver.get(base + page)
                driver.execute_async_script(IMAGES)
                driver.execute_script(f"const e = {target}; if (e) e.scrollIntoView({{block: 'start'}});"
                                      "window.scrollBy(0, -70);")  # below the theme's sticky header
                time.sleep(0.3)
                path = to / f"{name}-{suffix}.png"
                driver.save_screenshot(str(path))
                made.append(path)
    return made


# ---------------------------------------------------------------------------------------------------------- answers


def answers(data_dir: Path, artifacts: Path, smoke: bool = False, names=NOTEBOOKS, log=print) -> list[str]:
    """Run every notebook the learner's way (tests/exercises' ``learners_path``: each pass followed by its exercises)
    and save, per notebook, ``<artifacts>/answers/<name>.ipynb``: its ``exercise`` cells with their outputs, in
    exercise order. Each notebook runs on an artifacts folder of its own (``<artifacts>/answers/runtimes/<name>``),
    as in the fresh Colab runtime a learner opens it in. Full size unless ``smoke``. Returns the notebooks whose
    exercises failed, with the error (their answers file is not written: their pages show the code and the measured
    text only)."""
    from tests.exercises import learners_path

    exercises = all_exercises()
    folder = Path(artifacts) / "answers"
    folder.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in names:
        order = [e.id for e in exercises.get(name, [])]
        if not order:
            continue
        start = time.perf_counter()
        log(f"[{name}] exercises {', '.join(order)} ...")
        try:
            # each notebook in a folder of its own, as in the new Colab runtime a learner opens it in
            runs = learners_path(name, data_dir, folder / "runtimes" / name, full_size=not smoke)
        except Exception as error:  # nbclient's CellExecutionError, a dead kernel: named, then the next notebook
            lines = [line for line in str(error).splitlines() if line.strip()]
            failed.append(f"{name}: {' | '.join(lines[:3])[:300]}")
            log(f"[{name}] FAILED: {failed[-1]}")
            continue
        cells = {cell.metadata["exercise"]: cell for nb in runs for cell in nb.cells if tagged(cell, "exercise")}
        nb = nbformat.v4.new_notebook(cells=[cells[i] for i in order if i in cells], metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "answers": {"notebook": name, "full_size": not smoke}})
        path = folder / f"{name}.ipynb"
        nbformat.write(nb, path)
        log(f"[{name}] done in {time.perf_counter() - start:.0f} s -> {path}")
    return failed


# -------------------------------------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.site", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build", help="build the site from a run's executed notebooks")
    b.add_argument("--artifacts-dir", type=Path, default=Path("artifacts"),
                   help="the run's folder, with notebooks/ (and answers/) in it (default: %(default)s)")
    b.add_argument("--out", type=Path, required=True, help="the site's folder (replaced if it holds an earlier site)")
    c = commands.add_parser("check", help="check a built site in headless Chromium")
    c.add_argument("folder", type=Path)
    a = commands.add_parser("answers", help="run the exercises the learner's way; save their outputs")
    a.add_argument("--data-dir", type=Path, default=Path("data"))
    a.add_argument("--artifacts-dir", type=Path, default=Path("artifacts"))
    a.add_argument("--smoke", action="store_true", help="smoke size (a few thousand digits), not the learner's")
    a.add_argument("--notebook", action="append", choices=NOTEBOOKS, help="only these notebooks (default: all)")
    s = commands.add_parser("screenshots", help="PNGs of three pages at desktop and phone width")
    s.add_argument("folder", type=Path)
    s.add_argument("--to", type=Path, default=DOCS / "screenshots")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            stats = build(args.artifacts_dir, args.out, quiet=False)
            print(f"built {stats['pages']} pages ({stats['files']} files, {stats['bytes'] / 2**20:.1f} MiB) in "
                  f"{stats['seconds']} s -> {args.out}  (serve it: python -m http.server -d {args.out})")
        elif args.command == "check":
            failures = check(args.folder)
            print("\n".join(failures) or f"OK: {args.folder}")
            return 1 if failures else 0
        elif args.command == "answers":
            failed = answers(args.data_dir, args.artifacts_dir, args.smoke, tuple(args.notebook or NOTEBOOKS))
            if failed:
                print("exercises that failed (their pages show code and measured text only):", *failed,
                      sep="\n", file=sys.stderr)
                return 1
        else:
            print("\n".join(str(p) for p in screenshots(args.folder, args.to)))
    except SiteError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
