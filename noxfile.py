"""Test environments beyond the pinned one of requirements.txt, with nox (https://nox.thea.codes).

    nox -s colab      # Google Colab's current stack; the package installed as the setup cell installs it
    nox -s minimums   # the oldest Python and libraries that pyproject.toml declares

Both run the tests that need no papermill (test_notebooks runs the series and nbval, test_learners_path and
test_speed_notebook run notebooks; test_reproduction trains on the real MNIST; test_lint runs ruff, which no stack
changes). In `colab` these include the drawing
pad's browser test (tests/test_browser.py, when Chromium and the real MNIST files are there) in classic Notebook
6.5.7 on Colab's widget stack; `colab` then runs the whole series in smoke mode with papermill on Colab's IPython
and ipykernel. The wheels come from PyPI: Linux torch wheels are CUDA builds, so each environment downloads
about 2.6 GB (nvidia-* libraries included).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["colab"]
ROOT = Path(__file__).resolve().parent

# Google Colab's runtime (Python 3.13): every package that the notebooks and `helpers` import and Colab preinstalls, at
# the version Colab ships, kept here only. Source: Colab's published pip freeze (github.com/googlecolab/backend-info),
# 2026-08-19, for ipywidgets, widgetsnbextension (the classic front end of ipywidgets 7), anywidget, tqdm and filelock;
# torch, torchvision, numpy, matplotlib, ipykernel and IPython as recorded here before (Colab's runtime as of 2026-11).
# Not pinned yet: Pillow and traitlets (imported by notebook 06 and helpers.canvas), whose Colab versions are not
# recorded here; pip takes what the pins above allow.
COLAB = ["torch==2.11.0", "torchvision==0.26.0", "numpy==2.1.3", "matplotlib==3.10.0", "ipykernel==6.17.1",
         "ipython==7.34.0", "ipywidgets==7.7.1", "widgetsnbextension==3.6.10", "anywidget==0.9.21", "tqdm==4.67.3",
         "filelock==3.32.3"]
# The front end closest to Colab's for the drawing pad's browser test (tests/test_browser.py): classic Jupyter
# Notebook 6.5.7, which runs ipywidgets 7 through widgetsnbextension.
CLASSIC_FRONT_END = ["notebook==6.5.7", "selenium>=4.20"]
# The floors of pyproject.toml's [project] dependencies and requires-python.
MINIMUMS = ["torch==2.4.0", "torchvision==0.19.0", "numpy==1.24.4", "matplotlib==3.7.0", "tqdm==4.64.0"]
# What the tests import besides the package and its pad's widget libraries.
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
                "--deselect=tests/test_cli.py::test_a_failing_notebook_is_reported_in_one_message"]


def git_url() -> str:
    """This checkout's committed HEAD as a git URL, standing in for the GitHub URL of the setup cell."""
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    return f"git+file://{ROOT}@{commit.stdout.strip()}"


# The notebooks' setup cell, run by IPython as Colab runs it (a stand-in google.colab module; the git URL of
# sys.argv[1] in place of GitHub's): the first run installs the package with --no-deps; run again once `helpers` has
# been imported (Run all a second time), it installs nothing, raises nothing and names the commit in use.
RUN_SETUP_CELL = """
import sys, types
from importlib.metadata import distribution
sys.path.insert(0, "tools")
import notebooks
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
record = next(f for f in distribution("mnist-series").files if f.name == "RECORD").locate()
installed = record.stat().st_mtime_ns
with capture_output() as said:
    second = shell.run_cell(cell)
assert second.success, second.error_in_exec
assert f"commit {commit[:12]} is in use; nothing installed" in said.stdout, said.stdout
assert record.stat().st_mtime_ns == installed, "the second run reinstalled the package"
print("setup cell: installed", sys.modules["helpers"].__file__, "; run again:", said.stdout.strip())
"""


@nox.session(python="3.13")
def colab(session: nox.Session) -> None:
    session.install("--only-binary=:all:", *COLAB)
    session.install(*TEST_TOOLS, "papermill>=2.6", *CLASSIC_FRONT_END, *COLAB)  # COLAB again: nothing may move it
    session.run("python", "-c", CHECK_PINS, *COLAB)
    session.run("python", "-P", "-c", RUN_SETUP_CELL, git_url())  # -P: the checkout is not on sys.path
    session.run("python", "-m", "pip", "check", success_codes=[0, 1])  # shows conflicts, as Colab's pip would
    session.run("python", "-P", "-c", "import helpers, torch, IPython; print('helpers from', helpers.__file__, "
                "'| torch', torch.__version__, '| IPython', IPython.__version__)")
    # `pytest`, not `python -m pytest`: the checkout stays off sys.path, so `helpers` is the installed copy.
    session.run("pytest", "-q", "-p", "no:cacheprovider", *NO_PAPERMILL, *session.posargs,
                env={"OMP_NUM_THREADS": "1"})
    # The series, as `python -m helpers run --smoke` runs it from the checkout (papermill needs the notebooks folder),
    # on $MNIST_DATA_DIR when set (CI sets it when it has the real files), else on small synthetic IDX files.
    tmp = Path(session.create_tmp())
    data = os.environ.get("MNIST_DATA_DIR") or str(tmp / "data")
    if not os.environ.get("MNIST_DATA_DIR"):
        session.run("python", "-c", f"import sys; sys.path.insert(0, 'tests'); from conftest import make_mnist; "
                    f"from pathlib import Path; make_mnist(Path({data!r}), 4096, 1024)")
    printed = session.run("python", "-m", "helpers", "run", "--smoke", "--data-dir", data, "--artifacts-dir",
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
    session.run("pytest", "-q", "-p", "no:cacheprovider", *NO_PAPERMILL, *session.posargs,
                env={"OMP_NUM_THREADS": "1"})
