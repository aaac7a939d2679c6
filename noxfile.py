"""Test environments beyond the pinned one of requirements.txt, with nox (https://nox.thea.codes).

    nox -s colab      # Google Colab's current stack; the package installed as the setup cell installs it
    nox -s minimums   # the oldest Python and libraries that pyproject.toml declares

Both run the tests that need no papermill (test_notebooks runs the series and nbval, test_learners_path and
test_speed_notebook run notebooks; test_reproduction trains on the real MNIST; test_lint runs ruff, which no stack
changes) against the package installed in the session, not the checkout's `helpers/`: they run in a copy of the
checkout made without it. In `colab` these include the drawing
pad's browser test (tests/test_browser.py, when Chromium and the real MNIST files are there) in classic Notebook
6.5.7 on Colab's widget stack; `colab` then runs the whole series in smoke mode with papermill on Colab's IPython
and ipykernel. The wheels come from PyPI: Linux torch wheels are CUDA builds, so each environment downloads
about 2.6 GB (nvidia-* libraries included).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["colab"]
ROOT = Path(__file__).resolve().parent

# Google Colab's runtime (Python 3.13): every package that the notebooks and `helpers` import and Colab preinstalls, at
# the version Colab ships, kept here only. Source: Colab's published pip freeze (github.com/googlecolab/backend-info,
# pip-freeze.txt), 2026-08-19, for ipywidgets, widgetsnbextension (the classic front end of ipywidgets 7), anywidget,
# tqdm, filelock, Pillow and traitlets (imported by notebook 06 and helpers.canvas), and jupyter_client and nbformat
# (what runs a notebook's kernel and reads its file); torch, torchvision, numpy, matplotlib, ipykernel and IPython as
# recorded here before (Colab's runtime as of 2026-11).
COLAB = ["torch==2.11.0", "torchvision==0.26.0", "numpy==2.1.3", "matplotlib==3.10.0", "ipykernel==6.17.1",
         "ipython==7.34.0", "ipywidgets==7.7.1", "widgetsnbextension==3.6.10", "anywidget==0.9.21", "tqdm==4.67.3",
         "filelock==3.32.3", "pillow==11.3.0", "traitlets==5.7.1", "jupyter_client==7.4.9", "nbformat==5.11.1"]
# The front end closest to Colab's for the drawing pad's browser test (tests/test_browser.py): classic Jupyter
# Notebook 6.5.7, which runs ipywidgets 7 through widgetsnbextension.
CLASSIC_FRONT_END = ["notebook==6.5.7", "selenium>=4.20"]
# The floors of pyproject.toml's [project] dependencies and requires-python.
MINIMUMS = ["torch==2.4.0", "torchvision==0.19.0", "numpy==1.24.4", "matplotlib==3.7.0", "tqdm==4.64.0"]
# What the tests import besides the package and its pad's widget libraries (nbformat: Colab's, pinned above).
TEST_TOOLS = ["pytest>=8", "pytest-xdist>=3.6", "nbformat>=5.10", "nbstripout>=0.8"]
# Fails, naming them, when installed versions differ from the pins given as arguments.
CHECK_PINS = """
import sys
from importlib.metadata import version
moved = [f"{pin} wanted, {version(pin.split('==')[0])} installed" for pin in sys.argv[1:]
         if version(pin.split("==")[0]) != pin.split("==")[1]]
sys.exit(f"not Colab's versions: {moved}" if moved else None)
"""
NO_PAPERMILL = ["--ignore=tests/test_notebooks.py", "--ignore=tests/test_reproduction.py",
                "--ignore=tests/test_learners_path.py", "--ignore=tests/test_speed_notebook.py",
                "--ignore=tests/test_lint.py",
                "--deselect=tests/test_cli.py::test_a_failing_notebook_is_reported_in_one_message",
                # The website's build and checks: Sphinx is no part of these stacks. (Under IPython 7, whose
                # extensions folder is on sys.path with a `tests` package in it, `tests.exercises` cannot be found.)
                "--ignore=tests/test_site.py"]
# Tests of the checkout's own `helpers/` folder, which the sessions' copy of the checkout has not: its README's table
# against the notebooks (no stack changes that), and the setup cell's local branch, which imports `helpers` from it.
CHECKOUT_ONLY = ["--ignore=tests/test_taught.py",
                 "--deselect=tests/test_colab_setup.py::test_local_checkout_installs_nothing_and_imports_helpers_from_it"]
# The real MNIST files, for the tests that use them: the copy of the checkout has no ../shared/data beside it.
REAL_DATA = {"MNIST_DATA_DIR": os.environ.get("MNIST_DATA_DIR", str(ROOT.parent / "shared" / "data"))}
# Fails unless `helpers` is imported from the session's site-packages when the current folder is on sys.path first
# (as pytest's `pythonpath = ["."]` puts it): the installed package, never a checkout's folder.
CHECK_INSTALLED = """
import sysconfig
from pathlib import Path
import helpers
site = Path(sysconfig.get_paths()["purelib"]).resolve()
assert Path(helpers.__file__).resolve().is_relative_to(site), f"helpers from {helpers.__file__}, not from {site}"
print("helpers from", helpers.__file__)
"""


def checkout_without_the_package(session: nox.Session) -> Path:
    """A copy of the checkout without `helpers/` (nor environments, git data, runs or data): in it, `import helpers`
    finds only the installed package, while the tests, `benchmarks` and `tools` import by name as in the checkout."""
    copy = Path(session.create_tmp()) / "checkout"
    shutil.rmtree(copy, ignore_errors=True)
    skipped = {"helpers", ".git", ".venv", ".nox", ".mnist", ".device", "artifacts", "data", "build"}

    def ignore(folder: str, names: list[str]) -> list[str]:
        top = Path(folder) == ROOT
        return [n for n in names if (top and n in skipped) or n in ("__pycache__", "artifacts", "data")
                or n.endswith((".egg-info", "_cache"))]

    shutil.copytree(ROOT, copy, ignore=ignore)
    return copy


def git_url() -> str:
    """This checkout's committed HEAD as a git URL, standing in for the GitHub URL of the setup cell."""
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    return f"git+file://{ROOT}@{commit.stdout.strip()}"


# The notebooks' setup cell, run by IPython as Colab runs it (a stand-in google.colab module; the git URL of
# sys.argv[1] in place of GitHub's), in the copy of the checkout without `helpers/`: the first run installs the
# package, from that commit, with --no-deps; run again once `helpers` has been imported (Run all a second time), it
# installs nothing and raises nothing.
RUN_SETUP_CELL = """
import json, sys, types
from importlib.metadata import distribution
from tools import notebooks
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output
sys.modules["google.colab"] = types.ModuleType("google.colab")
repository, branch = notebooks.slug()
cell = notebooks.setup_source(repository, branch).replace(f"git+https://github.com/{repository}@{branch}", sys.argv[1])
commit = sys.argv[1].rsplit("@", 1)[1]
shell = start_ipython()
first = shell.run_cell(cell)
assert first.success, first.error_in_exec
shell.run_cell("import helpers")
source = json.loads(distribution("mnist-series").read_text("direct_url.json"))
assert source["vcs_info"]["commit_id"] == commit, source
record = next(f for f in distribution("mnist-series").files if f.name == "RECORD").locate()
installed = record.stat().st_mtime_ns
with capture_output() as said:
    second = shell.run_cell(cell)
assert second.success, second.error_in_exec
assert record.stat().st_mtime_ns == installed, "the second run reinstalled the package"
print("setup cell: installed", sys.modules["helpers"].__file__, "; run again:", said.stdout.strip())
"""


@nox.session(python="3.13")
def colab(session: nox.Session) -> None:
    session.install("--only-binary=:all:", *COLAB)
    session.install(*TEST_TOOLS, "papermill>=2.6", *CLASSIC_FRONT_END, *COLAB)  # COLAB again: nothing may move it
    session.run("python", "-c", CHECK_PINS, *COLAB)
    with session.chdir(checkout_without_the_package(session)):  # `import helpers` finds the installed copy only
        session.run("python", "-c", RUN_SETUP_CELL, git_url())
        session.run("python", "-m", "pip", "check", success_codes=[0, 1])  # shows conflicts, as Colab's pip would
        session.run("python", "-c", CHECK_INSTALLED)
        session.run("python", "-c", "import torch, IPython; print('torch', torch.__version__, '| IPython', "
                    "IPython.__version__)")
        session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *NO_PAPERMILL, *CHECKOUT_ONLY,
                    *session.posargs, env={"OMP_NUM_THREADS": "1", **REAL_DATA})
    # The series, as `python -m tools.series --smoke` runs it from the checkout (papermill needs the notebooks folder),
    # on $MNIST_DATA_DIR when set (CI sets it when it has the real files), else on small synthetic IDX files.
    tmp = Path(session.create_tmp())
    data = os.environ.get("MNIST_DATA_DIR") or str(tmp / "data")
    if not os.environ.get("MNIST_DATA_DIR"):
        session.run("python", "-c", f"from pathlib import Path; from tests.conftest import make_mnist; "
                    f"make_mnist(Path({data!r}), 4096, 1024)")
    printed = session.run("python", "-m", "tools.series", "--smoke", "--data-dir", data, "--artifacts-dir",
                          str(tmp / "runs"), env={"OMP_NUM_THREADS": "1"}, silent=True)
    print(printed, end="")
    noise = [line for line in printed.splitlines() if not line.startswith("[")]  # all but "[01_...] running/done"
    if noise:
        session.error(f"the headless run printed more than its progress, e.g.: {noise[:4]}")


@nox.session(python="3.11")
def minimums(session: nox.Session) -> None:
    session.install("--only-binary=:all:", *MINIMUMS)
    session.install(*TEST_TOOLS, "anywidget", "ipython")  # IPython: the setup cell is transformed as Jupyter does
    session.install("--no-deps", ".")
    session.run("python", "-c", "import torch, numpy; print('torch', torch.__version__, '| numpy', numpy.__version__)")
    with session.chdir(checkout_without_the_package(session)):  # `import helpers` finds the installed copy only
        session.run("python", "-c", CHECK_INSTALLED)
        session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *NO_PAPERMILL, *CHECKOUT_ONLY,
                    *session.posargs, env={"OMP_NUM_THREADS": "1", **REAL_DATA})
