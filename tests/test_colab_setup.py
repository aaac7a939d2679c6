"""The setup cell (from tools/notebooks.py, which every notebook carries), run as Colab runs it and as a checkout does.

It is a Colab form of a few lines (only its title shows). In Colab, and only while `helpers` cannot be imported, it
installs this series' package with --no-deps (Colab's torch, torchvision, numpy and matplotlib stay as they are), and
stops at once with one line that says what to check when the install failed (`%pip` never raises there). A second Run
all in the same runtime, or a run after Runtime > Restart session, finds `helpers` and installs nothing. Elsewhere it
installs nothing.
"""

from __future__ import annotations

import importlib
import importlib.util
import shlex
import sys
import types
from pathlib import Path

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from tools import notebooks as tool

REPOSITORY, BRANCH = tool.slug()
URL = f"https://github.com/{REPOSITORY}"
SOURCE = tool.setup_source(REPOSITORY, BRANCH)


class FakeShell:
    """Stands in for IPython's shell. Its `%pip` records the call and, when `site` is given, "installs" a `helpers`
    package there; without `site` the install silently fails, as `%pip` does."""

    def __init__(self, site: Path | None) -> None:
        self.site, self.calls = site, []

    def run_line_magic(self, name: str, line: str, *args, **kwargs) -> None:
        self.calls.append((name, line))
        if self.site:
            (self.site / "helpers").mkdir(exist_ok=True)
            (self.site / "helpers" / "__init__.py").write_text(f"INSTALLED = {len(self.calls)}\n")

    def __getattr__(self, name: str):  # anything else the cell might reach for is recorded too
        return lambda *args, **kwargs: self.calls.append((name, *args))


def run_setup_cell(shell: FakeShell) -> None:
    code = TransformerManager().transform_cell(SOURCE)
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
def without_helpers(tmp_path: Path, monkeypatch, no_helpers_loaded) -> Path:
    """An interpreter in which `helpers` cannot be imported until something installs it into the returned folder."""
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(site), *(p for p in sys.path if not (Path(p or ".") / "helpers").exists())])
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "")])
    importlib.invalidate_caches()
    assert importlib.util.find_spec("helpers") is None
    return site


@pytest.fixture
def colab(without_helpers: Path, monkeypatch) -> Path:
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    return without_helpers


def test_the_cell_is_a_short_form():
    lines = SOURCE.splitlines()
    assert lines[0].startswith("# @title ") and len([line for line in lines if line.strip()]) <= 8
    assert tool.SETUP_METADATA["cellView"] == "form" and tool.SETUP_METADATA["jupyter"]["source_hidden"] is True


def test_colab_installs_only_the_helpers(colab: Path, capsys):
    shell = FakeShell(colab)
    run_setup_cell(shell)
    ((magic, line),) = shell.calls
    assert magic == "pip"
    tokens = shlex.split(line)
    assert tokens[0] == "install" and "--no-deps" in tokens  # Colab's torch, numpy, ... are never touched
    assert [t for t in tokens[1:] if not t.startswith("-")] == [f"mnist-series @ git+{URL}@{BRANCH}"]
    assert not {"-U", "--upgrade", "-I", "--ignore-installed", "--force-reinstall", "--upgrade-strategy"} & set(tokens)
    assert importlib.import_module("helpers").INSTALLED == 1
    assert sys.path[0] == str(colab), "the setup cell must not touch sys.path"
    assert capsys.readouterr().out == ""


def test_colab_failed_install_stops_with_one_line_of_what_to_check(colab: Path):
    shell = FakeShell(site=None)
    with pytest.raises(RuntimeError, match="helpers did not install") as error:
        run_setup_cell(shell)
    assert len(shell.calls) == 1 and "\n" not in str(error.value)
    assert "online" in str(error.value) and "run this cell again" in str(error.value)


def test_colab_run_all_again_and_after_a_restart_installs_nothing(colab: Path, capsys):
    shell = FakeShell(colab)
    run_setup_cell(shell)
    helpers = importlib.import_module("helpers")  # the notebook's later cells import it
    for _ in range(2):  # the learner changes a parameter and runs all again, twice
        run_setup_cell(shell)
    assert len(shell.calls) == 1 and sys.modules["helpers"] is helpers
    del sys.modules["helpers"]  # Runtime > Restart session: a new interpreter, the installed files stay
    run_setup_cell(shell)
    assert len(shell.calls) == 1, "helpers can be imported: nothing to install"
    assert importlib.import_module("helpers").INSTALLED == 1
    assert capsys.readouterr().out == ""


def test_outside_colab_it_installs_nothing(without_helpers: Path, monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    shell = FakeShell(without_helpers)
    run_setup_cell(shell)
    assert shell.calls == [], "outside Colab the setup cell must install nothing"
