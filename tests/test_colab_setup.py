"""The setup cell (from tools/notebooks.py, which every notebook carries), run as Colab runs it and as a checkout does.

In Colab it installs only this series' `helpers` package, with --no-deps (Colab's torch, torchvision, numpy and
matplotlib stay as they are), never waits on a git password prompt, and stops at once with what to check when the
install failed (`%pip` never raises there). Run again once `helpers` is imported (Run all a second time, with other
parameters), it installs nothing, says which version and commit are in use, and goes on; it updates only when the
learner asks: after Runtime > Restart session, or with `update_helpers = True` (then it asks for that restart).
Locally it installs nothing and makes `import helpers` find the checkout.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
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
    `helpers` package there as pip does from a git URL: the package, and the distribution's metadata with the
    commit it came from (a new one for each install, as if the branch had moved on); without `site` the install
    silently fails."""

    def __init__(self, site: Path | None) -> None:
        self.site, self.calls, self.git_prompt = site, [], None

    def commit(self) -> str:
        return f"{len(self.calls):02d}" + "c0ffee" * 6 + "ab"  # 40 hex digits, different for each install

    def run_line_magic(self, name: str, line: str, *args, **kwargs) -> None:
        self.calls.append((name, line))
        self.git_prompt = os.environ.get("GIT_TERMINAL_PROMPT")
        if self.site:
            (self.site / "helpers").mkdir(exist_ok=True)
            (self.site / "helpers" / "__init__.py").write_text(f"INSTALLED = {len(self.calls)}\n")
            meta = self.site / "mnist_series-0.1.0.dist-info"
            meta.mkdir(exist_ok=True)
            (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: mnist-series\nVersion: 0.1.0\n")
            (meta / "direct_url.json").write_text(json.dumps(
                {"url": URL, "vcs_info": {"vcs": "git", "requested_revision": BRANCH, "commit_id": self.commit()}}))

    def __getattr__(self, name: str):  # anything else the cell might reach for is recorded too
        return lambda *args, **kwargs: self.calls.append((name, *args))


def run_setup_cell(shell: FakeShell, update_helpers: bool = False) -> None:
    source = tool.setup_source(REPOSITORY, BRANCH)
    assert source.count("\nupdate_helpers = False  #") == 1
    source = source.replace("\nupdate_helpers = False  #", f"\nupdate_helpers = {update_helpers}  #")
    code = TransformerManager().transform_cell(source)
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


def test_colab_installs_only_the_helpers_without_a_prompt(colab: Path, capsys):
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
    said = capsys.readouterr().out
    assert said == f"`helpers` 0.1.0, commit {shell.commit()[:12]} installed from {URL} (branch {BRANCH})\n"


def test_colab_failed_install_stops_with_what_to_check(colab: Path):
    shell = FakeShell(site=None)
    with pytest.raises(RuntimeError, match="Could not install `helpers`") as error:
        run_setup_cell(shell)
    assert len(shell.calls) == 1
    assert f"{URL} (branch {BRANCH})" in str(error.value)
    assert "opens in a browser" in str(error.value) and "online" in str(error.value)


def test_colab_run_all_again_installs_nothing_and_says_which_version_is_in_use(colab: Path, capsys):
    shell = FakeShell(colab)
    run_setup_cell(shell)
    helpers = importlib.import_module("helpers")  # the notebook's later cells import it
    commit = shell.commit()
    capsys.readouterr()
    for _ in range(2):  # the learner changes a parameter and runs all again, twice
        run_setup_cell(shell)  # raises nothing
        out = capsys.readouterr().out
        assert f"`helpers` 0.1.0, commit {commit[:12]} is in use; nothing installed" in out
        assert "Runtime > Restart session" in out and "update_helpers = True" in out  # how to update
    assert len(shell.calls) == 1, "a rerun must not install"
    assert sys.modules["helpers"] is helpers and helpers.INSTALLED == 1


def test_colab_after_a_restart_the_next_run_installs_the_newest(colab: Path, capsys):
    shell = FakeShell(colab)
    run_setup_cell(shell)
    importlib.import_module("helpers")
    del sys.modules["helpers"]  # Runtime > Restart session: a new interpreter, the installed files stay
    run_setup_cell(shell)
    assert len(shell.calls) == 2 and "--force-reinstall" in shell.calls[1][1]  # the same version number: forced
    assert f"commit {shell.commit()[:12]} installed" in capsys.readouterr().out
    assert importlib.import_module("helpers").INSTALLED == 2


def test_colab_update_flag_reinstalls_then_asks_for_a_restart(colab: Path, capsys):
    shell = FakeShell(colab)
    run_setup_cell(shell)
    importlib.import_module("helpers")
    with pytest.raises(RuntimeError, match=r"set update_helpers = False, choose Runtime > Restart session, then run"):
        run_setup_cell(shell, update_helpers=True)  # the learner asks for the newest while the old one is loaded
    assert len(shell.calls) == 2
    assert f"`helpers` 0.1.0, commit {shell.commit()[:12]} installed" in capsys.readouterr().out
    assert sys.modules["helpers"].INSTALLED == 1  # still the old one, until the restart

    del sys.modules["helpers"]  # the restart; the flag still True: installs once more and goes on
    run_setup_cell(shell, update_helpers=True)
    assert len(shell.calls) == 3 and importlib.import_module("helpers").INSTALLED == 3


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
