"""The learner's path, as in one Colab runtime: each notebook runs top to bottom, then again in the same kernel with
other parameters (the setup cell, under a stand-in ``google.colab``, installs nothing the second time), and every
"Try it" exercise lands as its notebook says it will.

The exercises live in ``tests/exercises/exNN.py``, one list per notebook: ``id`` (``NN-k``, bold in the notebook's
Try it), ``says`` (what the learner will see, in the notebook's own words), ``parameters`` (what the learner changes
in the parameters cell), ``code`` (what the learner types or changes, run after the notebook), ``check`` (the
promise, asserted in the same kernel) and, for the few that only show at full size and are cheap there,
``smoke: False``. Each exercise with parameters is one more run of the notebook in the same kernel.
"""

from __future__ import annotations

import copy
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from conftest import REPO
from nbclient import NotebookClient
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from helpers.series import NOTEBOOKS, ipc_kernels

STAND_IN = f"""
import sys, types
sys.path.insert(0, {str(REPO)!r})
import helpers  # imported earlier in this runtime: a Run all after the first one
colab = types.ModuleType("google.colab")  # a stand-in: the notebooks take their Colab paths
sys.modules["google.colab"] = colab
"""


def exercises() -> dict[str, list[dict]]:
    """Every notebook's exercises, by notebook name."""
    found = {name: [] for name in NOTEBOOKS}
    for path in sorted((REPO / "tests" / "exercises").glob("ex*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for exercise in module.EXERCISES:
            (name,) = [n for n in NOTEBOOKS if n.startswith(exercise["id"].split("-")[0] + "_")]
            found[name].append(exercise)
    return found


EXERCISES = exercises()


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_exercise_is_in_its_notebook_with_what_it_promises(name):
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    text = words(" ".join(c.source for c in nb.cells if c.cell_type == "markdown"))
    listed = re.findall(r"\*\*(\d\d-\d+)\b", text)
    assert listed == [e["id"] for e in EXERCISES[name]], "the Try it ids and tests/exercises disagree"
    for exercise in EXERCISES[name]:
        assert words(exercise["says"]) in text, exercise["id"]


def passes(name: str, data_dir: Path, artifacts: Path) -> list[tuple[dict, list[dict]]]:
    """(parameters, exercises run after that pass): the defaults with the code-only exercises, then one pass per
    exercise that changes parameters; always at least two passes, the second with other parameters."""
    base = {"data_dir": str(data_dir), "artifacts_dir": str(artifacts), "smoke": True}
    mine = EXERCISES[name]
    out = [(base, [e for e in mine if not e["parameters"]])]
    out += [({**base, "smoke": e.get("smoke", True), **e["parameters"]}, [e]) for e in mine if e["parameters"]]
    if len(out) == 1:
        out.append(({**base, "seed": 1}, []))
    return out


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_notebook_runs_again_in_the_same_runtime_and_its_exercises_land(name, notebook_data_dir, tmp_path):
    source = load_notebook_node(str(REPO / "notebooks" / f"{name}.ipynb"))  # as papermill reads it
    client = NotebookClient(source, kernel_name="python3", timeout=900, config=ipc_kernels(),
                            resources={"metadata": {"path": str(REPO / "notebooks")}})
    ran = []
    with client.setup_kernel():
        for parameters, mine in passes(name, notebook_data_dir, tmp_path / "artifacts"):
            nb = parameterize_notebook(copy.deepcopy(source), parameters, kernel_name="python3", language="python")
            if not ran:
                nb.cells.insert(0, nbformat.v4.new_code_cell(STAND_IN))
            for exercise in mine:
                nb.cells += [nbformat.v4.new_code_cell(exercise["code"]), nbformat.v4.new_code_cell(exercise["check"])]
            client.nb = nb
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)  # raises on the first error, with the cell and its traceback
            ran.append((parameters, [e["id"] for e in mine]))
    assert len(ran) >= 2 and ran[1][0] != ran[0][0]
    assert sorted(i for _, ids in ran for i in ids) == sorted(e["id"] for e in EXERCISES[name])
