"""Run the whole notebook series headlessly with papermill, in order, keeping the executed copies.

    python -m tools.series [--smoke] [--data-dir DIR] [--artifacts-dir DIR]   # 01 -> 07, into DIR/notebooks/

The series' own tooling, like tools/notebooks.py and tools/site.py: a learner in Colab never needs it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

from helpers.config import RunConfig, RunOptions, add_arguments
from helpers.data import resolve_data_dir

NOTEBOOKS = ("01_preprocessing", "02_model", "03_training", "04_plotting", "05_beyond", "06_your_digits", "07_speed")


class SeriesError(RuntimeError):
    """A notebook of the series failed; the message names it, the error, and the executed copy to open."""


def ipc_kernels():
    """Configuration for kernels that talk over local IPC sockets instead of TCP: nothing leaves the machine, so a
    kernel has no unencrypted TCP traffic to warn about (it did, once per notebook). The sockets get an absolute
    path of their own in Jupyter's runtime folder, so kernels started side by side, from any folder, never meet."""
    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets.config import Config

    runtime = Path(jupyter_runtime_dir())
    runtime.mkdir(parents=True, exist_ok=True)
    sockets = runtime / f"kernel-{os.getpid()}-{secrets.token_hex(4)}-ipc"
    return Config({"KernelManager": {"transport": "ipc", "ip": str(sockets)}})


def run_series(
    smoke: bool = False,
    data_dir: str | os.PathLike = "data",
    artifacts_dir: str | os.PathLike = "artifacts",
    notebooks: tuple[str, ...] = NOTEBOOKS,
    extra_parameters: dict | None = None,
) -> list[Path]:
    """Execute each notebook (01 -> 07) with papermill; the executed copies go to ``<artifacts_dir>/notebooks``.

    Paths are made absolute first, because each notebook runs with ``notebooks/`` as its working folder.
    Stops at the first notebook that fails (papermill keeps its executed copy, error included).
    """
    import papermill as pm  # only needed here: the notebooks themselves do not depend on it

    # Colab's ipykernel (6.17) loads its debugger as a kernel starts, and on Python 3.11+ the debugger then warns
    # about frozen modules, once per notebook; a headless run attaches no debugger, so its file check is off.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

    source = Path(__file__).resolve().parent.parent / "notebooks"
    data_dir = resolve_data_dir(data_dir).resolve()
    artifacts_dir = Path(artifacts_dir).expanduser().resolve()
    executed_dir = artifacts_dir / "notebooks"
    executed_dir.mkdir(parents=True, exist_ok=True)
    parameters = {"data_dir": str(data_dir), "artifacts_dir": str(artifacts_dir), "smoke": smoke,
                  **(extra_parameters or {})}
    outputs = []
    for name in notebooks:
        notebook = source / f"{name}.ipynb"
        output = executed_dir / f"{name}.ipynb"
        start = time.perf_counter()
        print(f"[{name}] running ...", flush=True)
        try:
            pm.execute_notebook(str(notebook), str(output), parameters=parameters, cwd=str(source),
                                progress_bar=False, kernel_name="python3", config=ipc_kernels())
        except pm.PapermillExecutionError as err:
            raise SeriesError(f"{name} stopped in cell {err.exec_count} with {err.ename}: {err.evalue}\n"
                              f"The executed notebook, error included, is {output}") from None
        print(f"[{name}] done in {time.perf_counter() - start:.1f} s -> {output}", flush=True)
        outputs.append(output)
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.series", description="execute notebooks 01 to 07 in "
                                     "order with papermill")
    add_arguments(parser, RunConfig, only=("smoke",))
    add_arguments(parser, RunOptions, only=("data_dir", "artifacts_dir"))
    try:
        run_series(**vars(parser.parse_args(argv)))
    except SeriesError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
