"""The "Try it" exercises of every notebook, as real Python, and the learner's path that runs them.

Each exercise is one function in ``exNN.py``, decorated with ``@exercise``. Its arguments are the names it takes from
the notebook (the cells it follows defined them); its body is what the learner types, then a line ``# check``, then
the assertion of what the notebook promises. The body runs, as two cells, in the notebook's own kernel after the
notebook ran: the function is never called, only read. ``says`` is the promise in the notebook's own words (a test
finds it in the notebook's Try it), ``parameters`` what the learner changes in the parameters cell, ``smoke=False``
an exercise whose promise holds only at full size (checked in the full-size pass of CI only where it is cheap), and
``measured`` what it showed at the size the learner runs, measured once, with the machine and date.

``learners_path`` executes a notebook as a learner does in one runtime: Run all, then again with other parameters
(one pass per exercise that changes them), each pass followed by its exercises.
"""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tools.series import NOTEBOOKS

CHECK = "# check"


@dataclass(frozen=True)
class Exercise:
    id: str  # NN-k: notebook NN's k-th exercise
    says: str  # the promise, word for word as the notebook's Try it writes it
    parameters: dict  # what the learner changes in the parameters cell ({}: nothing)
    needs: tuple[str, ...]  # the notebook's names the code uses
    code: str  # what the learner types, in a new cell after the notebook
    check: str  # the promise, asserted in the same kernel
    smoke: bool  # False: the promise holds only at full size
    measured: str  # what it showed at the learner's size: the numbers, the machine, the date

    @property
    def notebook(self) -> str:
        return next(name for name in NOTEBOOKS if name.startswith(self.id.split("-")[0] + "_"))


def _body(function: Callable) -> tuple[str, str]:
    """The function's body as two pieces of source, split at its ``# check`` line."""
    source = textwrap.dedent(inspect.getsource(function))
    definition = ast.parse(source).body[0]
    lines = source.splitlines()
    start = definition.body[0].lineno - 1
    while start > 0 and lines[start - 1].strip().startswith("#"):  # comments above the first statement
        start -= 1
    body = textwrap.dedent("\n".join(lines[start:]))
    marks = [n for n, line in enumerate(body.splitlines()) if line.strip() == CHECK]
    if len(marks) != 1:
        raise ValueError(f"{function.__name__}: needs exactly one `{CHECK}` line between the code and the check")
    code, check = body.split(f"\n{CHECK}\n") if marks[0] else ("", body.split("\n", 1)[1])
    return code.strip("\n"), check.strip("\n")


REGISTERED: list[Exercise] = []


def exercise(id: str, *, says: str, measured: str, parameters: dict | None = None, smoke: bool = True):
    """Register the decorated function as exercise ``id`` (see the module's docstring)."""

    def register(function: Callable) -> Callable:
        code, check = _body(function)
        needs = tuple(inspect.signature(function).parameters)
        REGISTERED.append(Exercise(id, says, dict(parameters or {}), needs, code, check, smoke, measured))
        return function

    return register


def exercises() -> dict[str, list[Exercise]]:
    """Every notebook's exercises, in order, by notebook name."""
    for path in sorted(Path(__file__).parent.glob("ex[0-9][0-9].py")):
        importlib.import_module(f"{__name__}.{path.stem}")
    found = {name: [] for name in NOTEBOOKS}
    for registered in sorted(REGISTERED, key=lambda e: tuple(int(n) for n in e.id.split("-"))):
        if registered not in found[registered.notebook]:
            found[registered.notebook].append(registered)
    return found


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def passes(name: str, base: dict, full_size: bool = False) -> list[tuple[dict, list[Exercise]]]:
    """(parameters, the exercises run after that pass): the notebook as it is with the exercises that change no
    parameter, then one pass per exercise that changes some; always at least two passes, the second with other
    parameters (a second Run all in the same runtime). ``full_size``: the learner's size, every exercise; else smoke
    size, and an exercise marked ``smoke=False`` runs at full size in its own pass."""
    mine = exercises()[name]
    smoke = {"smoke": not full_size}
    out = [({**base, **smoke}, [e for e in mine if not e.parameters])]
    out += [({**base, "smoke": not full_size and e.smoke, **e.parameters}, [e]) for e in mine if e.parameters]
    if len(out) == 1:
        out.append(({**base, **smoke, "seed": 1}, []))
    return out


STAND_IN = """
import sys, types
import helpers  # imported earlier in this runtime: a Run all after the first one
sys.modules["google.colab"] = types.ModuleType("google.colab")  # a stand-in: the notebooks take their Colab paths
"""


def learners_path(
    name: str, data_dir: str | Path, artifacts: str | Path, *, full_size: bool = False, timeout: int = 1800
) -> list:
    """Run notebook ``name`` as a learner does in one Colab runtime (see ``passes``), in one kernel; each pass's
    exercises as two cells after it (``code``, then ``check``). Returns the executed notebook of every pass, with
    the exercise cells tagged ``exercise`` and ``exercise-check`` and their ids in the cells' metadata. Raises on
    the first cell that fails, naming it."""
    import nbformat
    from nbclient import NotebookClient
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from tools.series import ipc_kernels

    folder = Path(__file__).resolve().parents[2] / "notebooks"
    source = load_notebook_node(str(folder / f"{name}.ipynb"))  # as papermill reads it
    client = NotebookClient(
        source,
        kernel_name="python3",
        timeout=timeout,
        config=ipc_kernels(),
        resources={"metadata": {"path": str(folder)}},
    )
    base = {"data_dir": str(Path(data_dir).resolve()), "artifacts_dir": str(Path(artifacts).resolve())}  # the kernel
    # runs in notebooks/
    executed = []
    with client.setup_kernel():
        for parameters, mine in passes(name, base, full_size):
            nb = parameterize_notebook(copy.deepcopy(source), parameters, kernel_name="python3", language="python")
            if not executed:
                nb.cells.insert(0, nbformat.v4.new_code_cell(STAND_IN, metadata={"tags": ["stand-in"]}))
            for e in mine:
                nb.cells.append(
                    nbformat.v4.new_code_cell(  # the names the exercise takes from the notebook
                        f"assert not (_missing := [n for n in {list(e.needs)!r} if n not in globals()]), _missing",
                        metadata={"tags": ["exercise-needs"], "exercise": e.id},
                    )
                )
                nb.cells.append(nbformat.v4.new_code_cell(e.code, metadata={"tags": ["exercise"], "exercise": e.id}))
                nb.cells.append(
                    nbformat.v4.new_code_cell(e.check, metadata={"tags": ["exercise-check"], "exercise": e.id})
                )
            client.nb = nb
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)  # raises CellExecutionError with the cell and its traceback
            nb.metadata["learners_path"] = {"parameters": parameters, "exercises": [e.id for e in mine]}
            executed.append(nb)
    return executed
