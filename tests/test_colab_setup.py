"""The setup cell of every notebook, run as Colab runs it and as a local checkout runs it.

In Colab it must install only this series' `helpers` package from the configured GitHub repository,
with --no-deps, so that Colab's own torch, torchvision, numpy and matplotlib stay exactly as they are.
Locally it must install nothing and make `import helpers` find the checkout.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import shlex
import sys
import types
from pathlib import Path

import nbformat
import pytest
import tomllib
from IPython.core.inputtransformer2 import TransformerManager
from nbformat import v4

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SYNTHETIC = "synthetic"
COLAB_PACKAGES = {"torch", "torchvision", "numpy", "matplotlib"}
FORBIDDEN_OPTIONS = {"--upgrade", "-U", "--force-reinstall", "--ignore-installed", "-I", "--upgrade-strategy"}

# The setup cell exactly as the series documents it.
DOCUMENTED_SETUP = """\
# Setup: in Colab, install this series' small `helpers` package from GitHub; Colab's own torch,
# torchvision, numpy and matplotlib are left exactly as they are (--no-deps). Locally, use the checkout.
import sys
from pathlib import Path

if "google.colab" in sys.modules:
    %pip install --quiet --no-deps "mnist-series @ git+https://github.com/{repository}@{branch}"
else:  # a local checkout: import `helpers` from it (a pip-installed copy works as well)
    checkout = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "helpers").is_dir()), None)
    if checkout:
        sys.path.insert(0, str(checkout))"""


def configured() -> tuple[str, str]:
    with (ROOT / "pyproject.toml").open("rb") as stream:
        section = tomllib.load(stream)["tool"]["mnist-series"]
    return section["repository"], section["branch"]


def repo_notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def setup_cells(path: Path) -> list:
    nb = nbformat.read(path, as_version=4)
    return [cell for cell in nb.cells if "setup" in cell.get("metadata", {}).get("tags", [])]


def setup_source(case: str, tmp_path: Path) -> str:
    """The source of the cell tagged `setup`: from a repo notebook, or from a synthetic one written to disk."""
    if case == SYNTHETIC:
        repository, branch = configured()
        nb = v4.new_notebook(
            cells=[
                v4.new_markdown_cell("# Synthetic"),
                v4.new_code_cell(
                    DOCUMENTED_SETUP.format(repository=repository, branch=branch), metadata={"tags": ["setup"]}
                ),
                v4.new_code_cell("EPOCHS = 1", metadata={"tags": ["parameters"]}),
            ]
        )
        path = tmp_path / "00_synthetic.ipynb"
        nbformat.write(nb, path)
    else:
        path = NOTEBOOKS / case
    cells = setup_cells(path)
    assert len(cells) == 1, f"{path.name}: expected exactly one cell tagged `setup`, found {len(cells)}"
    assert cells[0].cell_type == "code", f"{path.name}: the `setup` cell is a {cells[0].cell_type} cell"
    return cells[0].source


CASES = [SYNTHETIC, *(path.name for path in repo_notebooks())]


class RecordingShell:
    """Stands in for IPython's shell: records every call the transformed cell makes, runs nothing."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def run_line_magic(self, name, line, *args, **kwargs):
        self.calls.append(("run_line_magic", name, line))

    def run_cell_magic(self, name, line, cell):
        self.calls.append(("run_cell_magic", name, line, cell))

    def system(self, command):
        self.calls.append(("system", command))

    def getoutput(self, command, *args, **kwargs):
        self.calls.append(("getoutput", command))
        return []

    def __getattr__(self, name):  # anything else the cell might reach for is recorded too
        return lambda *args, **kwargs: self.calls.append((name, *args))


def run_setup_cell(source: str, shell: RecordingShell) -> None:
    code = TransformerManager().transform_cell(source)
    exec(compile(code, "<setup cell>", "exec"), {"__name__": "__main__", "get_ipython": lambda: shell})


@pytest.mark.parametrize("case", CASES)
def test_colab_branch_installs_only_the_helpers(case: str, tmp_path: Path, monkeypatch):
    source = setup_source(case, tmp_path)
    repository, branch = configured()
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    path_before = list(sys.path)
    monkeypatch.setattr(sys, "path", list(sys.path))

    shell = RecordingShell()
    run_setup_cell(source, shell)

    assert len(shell.calls) == 1, f"expected exactly one pip call, got {shell.calls}"
    kind, magic, arguments = shell.calls[0][0], shell.calls[0][1], shell.calls[0][2:]
    assert (kind, magic) == ("run_line_magic", "pip"), shell.calls
    (line,) = arguments
    assert line == f'install --quiet --no-deps "mnist-series @ git+https://github.com/{repository}@{branch}"'

    tokens = shlex.split(line)
    assert tokens[0] == "install"
    options = [token for token in tokens[1:] if token.startswith("-")]
    requirements = [token for token in tokens[1:] if not token.startswith("-")]
    assert "--no-deps" in options
    assert not FORBIDDEN_OPTIONS & set(options), options
    names = [re.split(r"[\s@<>=!~\[;]", requirement, maxsplit=1)[0].lower() for requirement in requirements]
    assert names == ["mnist-series"], names
    assert not COLAB_PACKAGES & set(names)
    assert requirements[0].endswith(f"git+https://github.com/{repository}@{branch}")
    assert sys.path == path_before, "in Colab the setup cell must not touch sys.path"


@pytest.mark.parametrize("case", CASES)
def test_local_branch_imports_helpers_from_the_checkout(case: str, tmp_path: Path, monkeypatch):
    source = setup_source(case, tmp_path)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.chdir(NOTEBOOKS)
    root = ROOT.resolve()
    # Take the checkout off the path (pytest or `python -m` may have put it there), so that only
    # the setup cell can make `helpers` importable from it; monkeypatch restores the original path.
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if Path(entry or ".").resolve() != root])
    saved = {name: module for name, module in sys.modules.items() if name == "helpers" or name.startswith("helpers.")}
    for name in saved:
        del sys.modules[name]
    try:
        shell = RecordingShell()
        run_setup_cell(source, shell)
        assert shell.calls == [], f"outside Colab the setup cell must install nothing, it called {shell.calls}"
        assert Path(sys.path[0]).resolve() == root, f"sys.path[0] is {sys.path[0]!r}, not the checkout"

        importlib.invalidate_caches()
        helpers = importlib.import_module("helpers")
        locations = [Path(location).resolve() for location in helpers.__path__]
        assert locations and locations[0] == root / "helpers", locations
        if getattr(helpers, "__file__", None):
            assert Path(helpers.__file__).resolve().parent == root / "helpers"
    finally:
        for name in [name for name in sys.modules if name == "helpers" or name.startswith("helpers.")]:
            del sys.modules[name]
        sys.modules.update(saved)


def test_repo_has_five_notebooks_with_the_documented_setup_cell():
    repository, branch = configured()
    documented = DOCUMENTED_SETUP.format(repository=repository, branch=branch)
    notebooks = repo_notebooks()
    with_setup = [path.name for path in notebooks if len(setup_cells(path)) == 1]
    assert len(with_setup) >= 5, f"expected >= 5 notebooks with one `setup` cell, found {with_setup}"
    assert with_setup == [path.name for path in notebooks], "every notebook needs exactly one `setup` cell"
    differing = [path.name for path in notebooks if setup_cells(path)[0].source != documented]
    assert not differing, f"setup cell differs from the documented one in {differing}"


def test_tool_template_is_the_documented_setup_cell():
    spec = importlib.util.spec_from_file_location(
        "mnist_series_tools_notebooks_template", ROOT / "tools" / "notebooks.py"
    )
    tool = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = tool
    try:
        spec.loader.exec_module(tool)
        config = tool.Config(repository="owner/repo", branch="feature-x")
        assert tool.setup_cell_source(config) == DOCUMENTED_SETUP.format(repository="owner/repo", branch="feature-x")
    finally:
        del sys.modules[spec.name]
