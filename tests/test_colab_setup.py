"""The setup cell (from tools/notebooks.py, which every notebook carries), run as Colab runs it and as a checkout does.

In Colab it installs only this series' `helpers` package, with --no-deps (Colab's torch, torchvision, numpy and
matplotlib stay as they are), never waits on a git password prompt, stops at once with what to check when the
install failed (`%pip` never raises there), and asks for a restart when an older `helpers` is already loaded.
Locally it installs nothing and makes `import helpers` find the checkout.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shlex
import sys
import types
from pathlib import Path

import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("notebook_tool", ROOT / "tools" / "notebooks.py")
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)
REPOSITORY, BRANCH = tool.slug()
URL = f"https://github.com/{REPOSITORY}"


class FakeShell:
    """Stands in for IPython's shell. Its `%pip` records the call and, when `site` is given, "installs" a
    `helpers` package there (as pip writes into site-packages); without `site` the install silently fails."""

    def __init__(self, site: Path | None) -> None:
        self.site, self.calls, self.git_prompt = site, [], None

    def run_line_magic(self, name: str, line: str, *args, **kwargs) -> None:
        self.calls.append((name, line))
        self.git_prompt = os.environ.get("GIT_TERMINAL_PROMPT")
        if self.site:
            (self.site / "helpers").mkdir(exist_ok=True)
            (self.site / "helpers" / "__init__.py").write_text("INSTALLED = True\n")

    def __getattr__(self, name: str):  # anything else the cell might reach for is recorded too
        return lambda *args, **kwargs: self.calls.append((name, *args))


def run_setup_cell(shell: FakeShell) -> None:
    code = TransformerManager().transform_cell(tool.setup_source(REPOSITORY, BRANCH))
    exec(compile(code, "<setup cell>", "exec"), {"__name__": "__main__", "get_ipython": lambda: shell})


@pytest.fixture
def no_helpers_loaded():
    """No `helpers` module imported during the test; the ones imported before are back after it."""
    def take() -> dict:
        return {name: sys.modules.pop(name) for name in list(sys.modules) if name.split(".")[0] == "helpers"}

    saved = take()
    yield
    take()
    sys.modules.update(saved)


@pytest.fixture
def colab(tmp_path: Path, monkeypatch, no_helpers_loaded) -> Path:
    """A Colab-like interpreter in which `helpers` cannot be imported until something installs it into the
    returned site folder."""
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(site), *(p for p in sys.path if not (Path(p or ".") / "helpers").exists())])
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "")])
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "1")
    importlib.invalidate_caches()
    assert importlib.util.find_spec("helpers") is None
    return site


def test_colab_installs_only_the_helpers_without_a_prompt(colab: Path):
    shell = FakeShell(colab)
    run_setup_cell(shell)

    ((magic, line),) = shell.calls
    assert magic == "pip"
    assert line == f'install --quiet --no-deps --force-reinstall "mnist-series @ git+{URL}@{BRANCH}"'
    tokens = shlex.split(line)
    assert tokens[0] == "install" and "--no-deps" in tokens  # --force-reinstall thus reinstalls only mnist-series
    assert [t for t in tokens[1:] if not t.startswith("-")] == [f"mnist-series @ git+{URL}@{BRANCH}"]
    assert not {"-U", "--upgrade", "-I", "--ignore-installed", "--upgrade-strategy"} & set(tokens)
    assert shell.git_prompt == "0", "git could wait for a username and stall Run all"
    assert importlib.import_module("helpers").INSTALLED
    assert sys.path[0] == str(colab), "in Colab the setup cell must not touch sys.path"


def test_colab_failed_install_stops_with_what_to_check(colab: Path):
    shell = FakeShell(site=None)
    with pytest.raises(RuntimeError, match="Could not install `helpers`") as error:
        run_setup_cell(shell)
    assert len(shell.calls) == 1
    assert f"{URL} (branch {BRANCH})" in str(error.value)
    assert "opens in a browser" in str(error.value) and "online" in str(error.value)


def test_colab_rerun_after_helpers_was_imported_asks_for_a_restart(colab: Path):
    shell = FakeShell(colab)
    run_setup_cell(shell)
    importlib.import_module("helpers")  # the notebook's later cells import it
    with pytest.raises(RuntimeError, match=r"Runtime > Restart session, then run the notebook again"):
        run_setup_cell(shell)  # the learner runs the setup cell again, e.g. to get an update
    assert len(shell.calls) == 2  # the new version is installed, for after the restart


def test_local_checkout_installs_nothing_and_imports_helpers_from_it(monkeypatch, no_helpers_loaded):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.chdir(ROOT / "notebooks")
    root = ROOT.resolve()
    # Take the checkout off the path (pytest or `python -m` may have put it there), so that only the setup cell
    # can make `helpers` importable from it; monkeypatch restores the path.
    monkeypatch.setattr(sys, "path", [p for p in sys.path if Path(p or ".").resolve() != root])

    shell = FakeShell(site=None)
    run_setup_cell(shell)
    assert shell.calls == [], "outside Colab the setup cell must install nothing"
    assert Path(sys.path[0]).resolve() == root

    importlib.invalidate_caches()
    helpers = importlib.import_module("helpers")
    assert Path(helpers.__file__).resolve() == root / "helpers" / "__init__.py"
