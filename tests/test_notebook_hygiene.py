"""Notebook hygiene: tools/notebooks.py check/sync/clean, on the real repo and on synthetic notebooks."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "notebooks.py"


def _load_tool():
    name = "mnist_series_tools_notebooks"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TOOL)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    return sys.modules[name]


nbtool = _load_tool()

SLUG = "example-owner/example-repo"
BRANCH = "main"
NAMES = ("01_alpha.ipynb", "02_beta.ipynb")
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def colab(slug: str, branch: str, name: str) -> str:
    return f"https://colab.research.google.com/github/{slug}/blob/{branch}/notebooks/{name}"


def badge(slug: str, branch: str, name: str) -> str:
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab(slug, branch, name)})"


def write_pyproject(root: Path, slug: str, branch: str) -> None:
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "mnist-series"\n\n[tool.mnist-series]\nrepository = "{slug}"\nbranch = "{branch}"\n',
        encoding="utf-8",
    )


def build_notebook(name: str, slug: str = SLUG, branch: str = BRANCH) -> nbformat.NotebookNode:
    """A notebook that follows every convention of the series."""
    config = nbtool.Config(repository=slug, branch=branch)
    title = v4.new_markdown_cell(f"# {name[3:-6].title()}\n\n{badge(slug, branch, name)}\n\nWhat this notebook does.")
    setup = v4.new_code_cell(nbtool.setup_cell_source(config), metadata={"tags": ["setup"]})
    parameters = v4.new_code_cell("EPOCHS = 1\nSEED = 0", metadata={"tags": ["parameters"]})
    body = v4.new_code_cell("print(EPOCHS, SEED)")
    # a plain Colab link to another notebook: sync must keep its target
    outro = v4.new_markdown_cell(f"Next: [the other notebook]({colab(slug, branch, '02_beta.ipynb')}).")
    nb = v4.new_notebook(cells=[title, setup, parameters, body, outro])
    nb.metadata = {
        "accelerator": "GPU",
        "colab": {"provenance": [], "gpuType": "T4"},
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    return nb


def write_readme(root: Path, slug: str, branch: str, names=NAMES) -> None:
    lines = ["# The series", "", "| Notebook | Open |", "|---|---|"]
    lines += [f"| {name} | {badge(slug, branch, name)} |" for name in names]
    lines += [
        "",
        "Install the helpers:",
        "",
        f'    pip install "mnist-series @ git+https://github.com/{slug}@{branch}"',
        "",
    ]
    (root / "README.md").write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A synthetic checkout: pyproject.toml, two conforming notebooks, README.md."""
    write_pyproject(tmp_path, SLUG, BRANCH)
    (tmp_path / "notebooks").mkdir()
    for name in NAMES:
        nbformat.write(build_notebook(name), tmp_path / "notebooks" / name)
    write_readme(tmp_path, SLUG, BRANCH)
    return tmp_path


def lines_of(root: Path) -> list[str]:
    return [str(problem) for problem in nbtool.check(root)]


def edit_json(root: Path, name: str, change) -> None:
    path = root / "notebooks" / name
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def edit_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def cell_content(path: Path) -> list[tuple]:
    """What clean must never change: cell types, sources, tags, and notebook metadata it keeps."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(c["cell_type"], "".join(c["source"]), c["metadata"].get("tags")) for c in nb["cells"]] + [
        {k: v for k, v in nb["metadata"].items() if k not in ("papermill", "widgets")}
    ]


# --------------------------------------------------------------------------------------------------
# The real repository


def test_repo_has_at_least_five_notebooks():
    names = [path.name for path in nbtool.notebook_paths(ROOT)]
    assert len(names) >= 5, f"expected >= 5 notebooks in notebooks/, found {names}"
    misnamed = [name for name in names if not re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", name)]
    assert not misnamed, f"notebooks must be named notebooks/NN_name.ipynb: {misnamed}"


def test_repo_passes_check():
    problems = [str(problem) for problem in nbtool.check(ROOT)]
    assert not problems, "python tools/notebooks.py check:\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# A conforming synthetic repository passes, so every detection below is a real detection


def test_conforming_notebooks_pass(repo: Path, capsys):
    assert lines_of(repo) == []
    assert nbtool.main(["--root", str(repo), "check"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("OK: 2 notebooks"), out


def test_empty_notebook_folder_fails(repo: Path):
    for name in NAMES:
        (repo / "notebooks" / name).unlink()
    write_readme(repo, SLUG, BRANCH, names=())
    assert any("has no notebooks" in line for line in lines_of(repo))


# --------------------------------------------------------------------------------------------------
# Each kind of problem is detected, on the right file, with a fix


def _setup_cell(data: dict) -> dict:
    return next(c for c in data["cells"] if "setup" in c["metadata"].get("tags", []))


def _body_cell(data: dict) -> dict:
    return data["cells"][3]


def _install(slug: str, branch: str) -> str:
    return f"git+https://github.com/{slug}@{branch}"


A = "notebooks/01_alpha.ipynb"
B = "notebooks/02_beta.ipynb"

# id -> (the file every problem line names, how to break the repo, words one line must contain, whether clean fixes it)
BROKEN = {
    "invalid-nbformat": (
        B,
        lambda r: edit_json(r, NAMES[1], lambda d: d["cells"][0].update(outputs=[])),
        ["not valid nbformat"],
        False,
    ),
    "not-json": (
        B,
        lambda r: (r / "notebooks" / NAMES[1]).write_text('{"cells": [', encoding="utf-8"),
        ["cannot be read as JSON"],
        False,
    ),
    "old-nbformat-minor": (B, lambda r: edit_json(r, NAMES[1], lambda d: d.update(nbformat_minor=4)), ["4.5"], False),
    "outputs": (
        B,
        lambda r: edit_json(
            r,
            NAMES[1],
            lambda d: _body_cell(d).update(outputs=[{"output_type": "stream", "name": "stdout", "text": ["1 0\n"]}]),
        ),
        ["output", "clean"],
        True,
    ),
    "execution-count": (
        B,
        lambda r: edit_json(r, NAMES[1], lambda d: _body_cell(d).update(execution_count=7)),
        ["execution count 7", "clean"],
        True,
    ),
    "transient-cell-metadata": (
        B,
        lambda r: edit_json(
            r, NAMES[1], lambda d: _body_cell(d)["metadata"].update(execution={"iopub.status.busy": "2024-01-01"})
        ),
        ["transient", "execution", "clean"],
        True,
    ),
    "transient-notebook-metadata": (
        B,
        lambda r: edit_json(r, NAMES[1], lambda d: d["metadata"].update(papermill={"duration": 1.0}, widgets={})),
        ["transient", "papermill", "clean"],
        True,
    ),
    "missing-cell-id": (
        B,
        lambda r: edit_json(r, NAMES[1], lambda d: _body_cell(d).pop("id")),
        ["cell 3", "no cell id", "clean"],
        True,
    ),
    "duplicate-cell-id": (
        B,
        lambda r: edit_json(r, NAMES[1], lambda d: _body_cell(d).update(id=d["cells"][2]["id"])),
        ["cell 3", "duplicates the cell id of cell 2", "clean"],
        True,
    ),
    "no-title-line": (
        B,
        lambda r: edit_json(
            r, NAMES[1], lambda d: d["cells"][0].update(source=f"Beta\n\n{badge(SLUG, BRANCH, NAMES[1])}")
        ),
        ["cell 0", "Title"],
        False,
    ),
    "no-title-cell": (B, lambda r: edit_json(r, NAMES[1], lambda d: d["cells"].pop(0)), ["cell 0", "title"], False),
    "no-badge": (
        B,
        lambda r: edit_json(r, NAMES[1], lambda d: d["cells"][0].update(source="# Beta\n\nNo badge here.")),
        ["cell 0", "no Open-in-Colab badge", BADGE_IMAGE],
        False,
    ),
    "two-badges": (
        B,
        lambda r: edit_json(
            r,
            NAMES[1],
            lambda d: d["cells"][0].update(
                source="".join(d["cells"][0]["source"]) + "\n\n" + badge(SLUG, BRANCH, NAMES[1])
            ),
        ),
        ["cell 0", "2 Open-in-Colab badges"],
        False,
    ),
    "badge-wrong-slug": (
        B,
        lambda r: edit_text(r / B, f"github/{SLUG}/blob/{BRANCH}/{B}", f"github/someone/else/blob/{BRANCH}/{B}"),
        ["cell 0", "someone/else@main", "sync"],
        False,
    ),
    "badge-wrong-branch": (
        B,
        lambda r: edit_text(r / B, f"github/{SLUG}/blob/{BRANCH}/{B}", f"github/{SLUG}/blob/dev/{B}"),
        ["cell 0", f"{SLUG}@dev", "sync"],
        False,
    ),
    "no-setup-tag": (
        B,
        lambda r: edit_json(r, NAMES[1], lambda d: _setup_cell(d)["metadata"].update(tags=[])),
        ["no code cell tagged `setup`"],
        False,
    ),
    "setup-not-first-code-cell": (
        B,
        lambda r: edit_json(r, NAMES[1], lambda d: d["cells"].insert(1, dict(v4.new_code_cell("import os")))),
        ["cell 2", "not the first code cell"],
        False,
    ),
    "install-wrong-slug": (
        B,
        lambda r: edit_text(r / B, _install(SLUG, BRANCH), _install("someone/else", BRANCH)),
        ["cell 1", "install line names someone/else@main", "sync"],
        False,
    ),
    "install-wrong-branch": (
        B,
        lambda r: edit_text(r / B, _install(SLUG, BRANCH), _install(SLUG, "v0.1")),
        ["cell 1", f"install line names {SLUG}@v0.1", "sync"],
        False,
    ),
    "install-upgrades-torch": (
        B,
        lambda r: edit_text(r / B, "--quiet --no-deps ", "--quiet --upgrade torch "),
        ["cell 1", "--upgrade torch", "make it exactly"],
        False,
    ),
    "install-not-guarded": (
        B,
        lambda r: edit_json(
            r,
            NAMES[1],
            lambda d: _setup_cell(d).update(
                source=f'import sys\n%pip install --quiet --no-deps "mnist-series @ {_install(SLUG, BRANCH)}"'
            ),
        ),
        ["cell 1", "not guarded"],
        False,
    ),
    "no-parameters-cell": (
        B,
        lambda r: edit_json(r, NAMES[1], lambda d: d["cells"][2]["metadata"].update(tags=[])),
        ["no cell tagged `parameters`"],
        False,
    ),
    "two-parameters-cells": (
        B,
        lambda r: edit_json(r, NAMES[1], lambda d: _body_cell(d)["metadata"].update(tags=["parameters"])),
        ["2 cells are tagged `parameters`"],
        False,
    ),
    "no-accelerator": (
        B,
        lambda r: edit_json(r, NAMES[1], lambda d: d["metadata"].pop("accelerator")),
        ["accelerator"],
        False,
    ),
    "no-colab-metadata": (B, lambda r: edit_json(r, NAMES[1], lambda d: d["metadata"].pop("colab")), ["colab"], False),
    "colab-gpu-type": (
        B,
        lambda r: edit_json(r, NAMES[1], lambda d: d["metadata"]["colab"].update(gpuType="A100")),
        ["gpuType", "A100"],
        False,
    ),
    "colab-provenance": (
        B,
        lambda r: edit_json(r, NAMES[1], lambda d: d["metadata"]["colab"].update(provenance=[{"file_id": "x"}])),
        ["provenance"],
        False,
    ),
    "no-kernelspec": (
        B,
        lambda r: edit_json(r, NAMES[1], lambda d: d["metadata"].pop("kernelspec")),
        ["kernelspec"],
        False,
    ),
    "readme-missing": (
        "README.md",
        lambda r: (r / "README.md").unlink(),
        ["missing"],
        False,
    ),
    "readme-badge-wrong-slug": (
        "README.md",
        lambda r: edit_text(
            r / "README.md", f"github/{SLUG}/blob/{BRANCH}/{A}", f"github/someone/else/blob/{BRANCH}/{A}"
        ),
        ["line 5", "someone/else@main", "sync"],
        False,
    ),
    "readme-badge-wrong-branch": (
        "README.md",
        lambda r: edit_text(r / "README.md", f"github/{SLUG}/blob/{BRANCH}/{A}", f"github/{SLUG}/blob/dev/{A}"),
        ["line 5", f"{SLUG}@dev", "sync"],
        False,
    ),
    "readme-install-wrong-slug": (
        "README.md",
        lambda r: edit_text(r / "README.md", _install(SLUG, BRANCH), _install("someone/else", BRANCH)),
        ["install instruction", "someone/else@main", "sync"],
        False,
    ),
    "readme-badge-for-missing-notebook": (
        "README.md",
        lambda r: write_readme(r, SLUG, BRANCH, names=(*NAMES, "09_ghost.ipynb")),
        ["notebooks/09_ghost.ipynb", "does not exist"],
        False,
    ),
    "notebook-without-readme-badge": (
        "README.md",
        lambda r: write_readme(r, SLUG, BRANCH, names=NAMES[:1]),
        ["no Colab badge for notebooks/02_beta.ipynb", badge(SLUG, BRANCH, NAMES[1])],
        False,
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_problem_is_detected(repo: Path, case: str):
    file, breaks, words, _ = BROKEN[case]
    breaks(repo)
    lines = lines_of(repo)
    assert lines, f"{case}: check found nothing"
    strays = [line for line in lines if not line.startswith(f"{file}: ")]
    assert not strays, f"{case}: every problem should name {file}, got:\n" + "\n".join(lines)
    assert any(all(word in line for word in words) for line in lines), (
        f"{case}: no problem line contains all of {words}:\n" + "\n".join(lines)
    )


@pytest.mark.parametrize("case", [case for case, (*_, cleanable) in BROKEN.items() if cleanable])
def test_clean_fixes_output_problems(repo: Path, case: str):
    path = repo / B
    before = cell_content(path)
    untouched = (repo / A).read_text(encoding="utf-8")
    kept_ids = [c["id"] for c in json.loads(path.read_text(encoding="utf-8"))["cells"]]
    BROKEN[case][1](repo)
    assert lines_of(repo)

    changes = nbtool.clean(repo)
    assert len(changes) == 1 and changes[0].startswith(B), changes
    assert lines_of(repo) == []
    assert cell_content(path) == before  # sources, tags and kept metadata survive
    ids = [c["id"] for c in json.loads(path.read_text(encoding="utf-8"))["cells"]]
    assert ids[:3] == kept_ids[:3] and ids[4:] == kept_ids[4:]  # only a missing/duplicate id is replaced

    text = path.read_text(encoding="utf-8")
    assert nbtool.clean(repo) == []  # idempotent, and writes nothing the second time
    assert path.read_text(encoding="utf-8") == text
    assert (repo / A).read_text(encoding="utf-8") == untouched  # a clean notebook is not rewritten


def test_clean_strips_everything_papermill_leaves(repo: Path):
    path = repo / A
    nb = nbformat.read(path, as_version=4)
    for count, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = count + 1
        cell.outputs = [v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=count + 1)]
        cell.metadata["execution"] = {"iopub.execute_input": "2024-01-01T00:00:00Z"}
        cell.metadata["papermill"] = {"duration": 0.1, "status": "completed"}
    nb.metadata["papermill"] = {"parameters": {"EPOCHS": 1}}
    pristine = [c.id for c in nb.cells]
    nb.cells.insert(3, v4.new_code_cell("# Parameters\nEPOCHS = 3", metadata={"tags": ["injected-parameters"]}))
    nbformat.write(nb, path)
    # per code cell: outputs, execution count, transient metadata; the injected cell; the papermill metadata
    problems = [line for line in lines_of(repo) if line.startswith(A)]
    assert len(problems) == 3 * 3 + 1 + 1, problems
    assert any("injected-parameters" in line and "clean" in line for line in problems)

    nbtool.main(["--root", str(repo), "clean", str(path)])
    assert lines_of(repo) == []
    cleaned = nbformat.read(path, as_version=4)
    assert all(c.outputs == [] and c.execution_count is None for c in cleaned.cells if c.cell_type == "code")
    assert [c.id for c in cleaned.cells] == pristine


def test_check_cli_prints_one_line_per_problem(repo: Path, capsys):
    BROKEN["outputs"][1](repo)
    BROKEN["readme-badge-wrong-slug"][1](repo)
    assert nbtool.main(["--root", str(repo), "check"]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2, out
    assert out[0].startswith(f"{B}: cell 3 (id ") and "python tools/notebooks.py clean" in out[0]
    assert out[1].startswith("README.md: line 5: ") and "python tools/notebooks.py sync" in out[1]


def test_script_runs_from_the_command_line(repo: Path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(TOOL), "--root", str(repo), *args], capture_output=True, text=True)

    ok = run("check")
    assert ok.returncode == 0 and ok.stdout.startswith("OK:"), ok
    BROKEN["execution-count"][1](repo)
    bad = run("check")
    assert bad.returncode == 1 and bad.stdout.startswith(f"{B}: "), bad


# --------------------------------------------------------------------------------------------------
# sync


def test_sync_follows_pyproject(repo: Path, capsys):
    files = [repo / A, repo / B, repo / "README.md"]
    before = {path: path.read_text(encoding="utf-8") for path in files}
    assert nbtool.sync(repo) == []  # already in sync: nothing written
    assert {path: path.read_text(encoding="utf-8") for path in files} == before

    write_pyproject(repo, "fork-owner/fork-repo", "dev")
    lines = lines_of(repo)
    for name in (A, B, "README.md"):
        assert any(line.startswith(f"{name}: ") and "sync" in line for line in lines), (name, lines)
    assert any("install line names example-owner/example-repo@main" in line for line in lines)

    assert nbtool.main(["--root", str(repo), "sync"]) == 0
    printed = capsys.readouterr().out
    assert all(name in printed for name in (A, B, "README.md")), printed
    assert lines_of(repo) == []

    for path in files:
        expected = (
            before[path]
            .replace(f"/github/{SLUG}/blob/{BRANCH}/", "/github/fork-owner/fork-repo/blob/dev/")
            .replace(_install(SLUG, BRANCH), _install("fork-owner/fork-repo", "dev"))
        )
        # exactly the badge, link and install strings changed: ids, formatting, everything else as it was
        assert path.read_text(encoding="utf-8") == expected, path.name
    setup = _setup_cell(json.loads((repo / A).read_text(encoding="utf-8")))
    assert '"mnist-series @ git+https://github.com/fork-owner/fork-repo@dev"' in "".join(setup["source"])

    after = {path: path.stat().st_mtime_ns for path in files}
    assert nbtool.sync(repo) == []
    assert {path: path.stat().st_mtime_ns for path in files} == after


def test_copied_notebook_is_caught_and_synced(repo: Path):
    copy = repo / "notebooks" / "03_gamma.ipynb"
    shutil.copy(repo / A, copy)
    lines = lines_of(repo)
    gamma = "notebooks/03_gamma.ipynb"
    assert any(line.startswith(f"{gamma}: cell 0") and f"badge opens {A}" in line for line in lines), lines
    assert any(line.startswith("README.md: ") and f"no Colab badge for {gamma}" in line for line in lines), lines

    write_readme(repo, SLUG, BRANCH, names=(*NAMES, "03_gamma.ipynb"))
    assert [line for line in lines_of(repo) if not line.startswith(f"{gamma}: ")] == []
    changes = nbtool.sync(repo)
    assert len(changes) == 1 and changes[0].startswith(gamma), changes
    assert lines_of(repo) == []
    text = copy.read_text(encoding="utf-8")
    assert colab(SLUG, BRANCH, "03_gamma.ipynb") in text
    assert colab(SLUG, BRANCH, "02_beta.ipynb") in text  # the plain link keeps its target
    assert colab(SLUG, BRANCH, "01_alpha.ipynb") not in text
