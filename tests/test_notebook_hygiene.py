"""Notebook hygiene: every notebook passes `python tools/notebooks.py check`, and check catches each problem."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from tools import notebooks as tool

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "notebooks.py"


@pytest.mark.parametrize("path", tool.notebooks(), ids=lambda path: path.name)
def test_notebook_passes_check(path: Path):
    assert tool.check_notebook(path) == []


def test_readme_has_one_badge_per_notebook_on_the_configured_slug():
    assert len(tool.notebooks()) >= 5
    assert tool.check_readme() == []


# --------------------------------------------------------------------------------------------------
# A synthetic checkout that follows every rule; each case below breaks one rule and check must say so.

NAME = "notebooks/01_alpha.ipynb"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[tool.mnist-series]\nrepository = "owner/repo"\nbranch = "main"\n')
    (tmp_path / "notebooks").mkdir()
    cells = [
        v4.new_markdown_cell(f"# Alpha\n\n{tool.badge('owner/repo', 'main', NAME)}\n\nWhat it does."),
        v4.new_code_cell(tool.setup_source("owner/repo", "main"), metadata=copy.deepcopy(tool.SETUP_METADATA)),
        v4.new_code_cell("seed = 0\nsmoke = False", metadata={"tags": ["parameters"]}),
        v4.new_code_cell("print(seed)"),
    ]
    for index, cell in enumerate(cells):
        cell.id = f"01-{index:02}"
    nb = v4.new_notebook(cells=cells, metadata={
        "accelerator": "GPU", "colab": {"gpuType": "T4", "provenance": []},
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    })
    tool.write(nb, tmp_path / NAME)
    other = f"[![Open In Colab]({tool.BADGE_IMAGE})]({tool.colab_url('owner/repo', 'main', NAME)})"
    (tmp_path / "README.md").write_text(f"# Series\n\n| 01 | {other} |\n\n"
                                        '    pip install "mnist-series @ git+https://github.com/owner/repo@main"\n')
    assert tool.check(tmp_path) == []
    return tmp_path


def edit(repo: Path, change) -> None:
    path = repo / NAME
    nb = json.loads(path.read_text())
    change(nb, nb["cells"])
    path.write_text(json.dumps(nb, indent=1))


def replace(repo: Path, file: str, old: str, new: str) -> None:
    text = (repo / file).read_text()
    assert old in text
    (repo / file).write_text(text.replace(old, new))


STRIP, SYNC = tool.CLEAN, tool.SYNC
OUTPUT = {"output_type": "stream", "name": "stdout", "text": ["0\n"]}
BROKEN = {  # how to break the checkout -> words the problem line must contain
    "outputs": (lambda r: edit(r, lambda nb, c: c[3].update(outputs=[OUTPUT])), STRIP),
    "execution count": (lambda r: edit(r, lambda nb, c: c[3].update(execution_count=3)), STRIP),
    "cell run metadata": (lambda r: edit(r, lambda nb, c: c[3]["metadata"].update(execution={"x": "t"})), STRIP),
    "papermill metadata": (lambda r: edit(r, lambda nb, c: nb["metadata"].update(papermill={"a": 1})), STRIP),
    "injected parameters": (lambda r: edit(r, lambda nb, c: c.insert(3, dict(
        v4.new_code_cell("seed = 1", id="x", metadata={"tags": ["injected-parameters"]})))), STRIP),
    "missing id": (lambda r: edit(r, lambda nb, c: c[3].pop("id")), "cell ids"),
    "repeated id": (lambda r: edit(r, lambda nb, c: c[3].update(id="01-02")), "cell ids"),
    "old nbformat": (lambda r: edit(r, lambda nb, c: [nb.update(nbformat_minor=4), *(x.pop("id") for x in c)]),
                     "nbformat 4.4"),
    "invalid nbformat": (lambda r: edit(r, lambda nb, c: c[0].update(outputs=[])), "not a valid notebook"),
    "not json": (lambda r: (r / NAME).write_text('{"cells": ['), "not a valid notebook"),
    "setup not a form": (lambda r: edit(r, lambda nb, c: c[1]["metadata"].pop("cellView")), SYNC),
    "no setup tag": (lambda r: edit(r, lambda nb, c: c[1]["metadata"].update(tags=[])), "`setup`"),
    "setup not first": (lambda r: edit(r, lambda nb, c: c.insert(1, dict(v4.new_code_cell("1", id="y")))), "`setup`"),
    "no parameters": (lambda r: edit(r, lambda nb, c: c[2]["metadata"].update(tags=[])), "0 cells tagged `param"),
    "two parameters": (lambda r: edit(r, lambda nb, c: c[3]["metadata"].update(tags=["parameters"])), "2 cells"),
    "no badge": (lambda r: edit(r, lambda nb, c: c[0].update(source="# Alpha")), "exactly one Open-in-Colab badge"),
    "two badges": (lambda r: edit(r, lambda nb, c: c[0].update(source="".join(c[0]["source"]) * 2)), "exactly one"),
    "badge slug": (lambda r: replace(r, NAME, "github/owner/repo/blob", "github/fork/repo/blob"), SYNC),
    "badge target": (lambda r: replace(r, NAME, "blob/main/notebooks/01_alpha", "blob/main/notebooks/02_beta"), SYNC),
    "install slug": (lambda r: replace(r, NAME, 'github.com/owner/repo@main\\"', 'github.com/fork/repo@dev\\"'), SYNC),
    "edited setup": (lambda r: replace(r, NAME, "--quiet --no-deps", "--upgrade torch"), SYNC),
    "no GPU": (lambda r: edit(r, lambda nb, c: nb["metadata"].pop("accelerator")), "GPU"),
    "kernel": (lambda r: edit(r, lambda nb, c: nb["metadata"]["kernelspec"].update(name="ir")), "kernelspec"),
    "readme no badge": (lambda r: replace(r, "README.md", "[![Open", "[Open"), "no single Colab badge for " + NAME),
    "readme slug": (lambda r: replace(r, "README.md", "github/owner/repo/blob", "github/fork/repo/blob"), SYNC),
    "readme install": (lambda r: replace(r, "README.md", "owner/repo@main", "fork/repo@main"), SYNC),
    "readme ghost": (lambda r: replace(r, "README.md", "01_alpha.ipynb", "09_ghost.ipynb"), "does not exist"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_check_names_the_problem_and_the_fix(repo: Path, case: str):
    breaks, words = BROKEN[case]
    breaks(repo)
    problems = tool.check(repo)
    assert any(words in line for line in problems), problems
    assert all(line.startswith("README.md: " if case.startswith("readme") else NAME + ": ") for line in problems)


def test_clean_strips_what_a_run_leaves_and_keeps_everything_else(repo: Path):
    path = repo / NAME
    before = nbformat.read(path, as_version=4)
    for case in ("outputs", "execution count", "cell run metadata", "papermill metadata", "injected parameters"):
        BROKEN[case][0](repo)
    assert len(tool.check(repo)) == 1
    edit(repo, lambda nb, c: c[-1].update(id=c[2]["id"]))  # a repeated id: clean gives the second cell a new one
    assert len(tool.check(repo)) == 2

    assert tool.main(["clean", "--root", str(repo)]) == 0
    assert tool.check(repo) == []
    after = nbformat.read(path, as_version=4)
    assert after.cells[3].id not in {cell.id for cell in before.cells}
    after.cells[3].id = before.cells[3].id
    assert after == before  # sources, tags, the other ids and the metadata as they were
    text = path.read_text()
    assert tool.main(["clean", "--root", str(repo)]) == 0 and path.read_text() == text


def test_sync_follows_pyproject_and_touches_only_generated_lines(repo: Path):
    files = [repo / NAME, repo / "README.md"]
    before = [path.read_text() for path in files]
    assert tool.sync(repo) == []
    (repo / "pyproject.toml").write_text('[tool.mnist-series]\nrepository = "fork/repo2"\nbranch = "dev"\n')
    run = subprocess.run([sys.executable, str(TOOL), "check", "--root", str(repo)], capture_output=True, text=True)
    assert run.returncode == 1 and run.stdout.count(SYNC) == 2, run.stdout

    assert tool.sync(repo) == [NAME, "README.md"]
    assert tool.check(repo) == []
    for path, text in zip(files, before):
        expected = text.replace("owner/repo/blob/main", "fork/repo2/blob/dev").replace(
            "owner/repo@main", "fork/repo2@dev").replace("owner/repo (branch main)", "fork/repo2 (branch dev)")
        assert path.read_text() == expected
    assert tool.sync(repo) == []
