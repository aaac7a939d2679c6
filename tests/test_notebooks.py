"""Every notebook runs headlessly with papermill; nbval re-executes the results and compares the outputs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

from conftest import REPO

from tools import site
from tools.series import NOTEBOOKS, run_series


def outputs_of(path: Path) -> list[dict]:
    nb = json.loads(path.read_text())
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


# Smoke-run test error (%) of each model, seed 0: on real MNIST as measured on the project's 2-core CPU
# (52.34, 17.87, 26.86, 43.55: one epoch of 4,096 digits is a tiny part of each recipe), and an upper bound on
# the tests' synthetic digits (measured 29.98, 0, 0, 0).
SMOKE_ERRORS = {"seed_linear": (52.34, 40.0), "softmax": (17.87, 5.0), "mlp": (26.86, 5.0), "cnn": (43.55, 5.0)}


def test_series_runs_headlessly_then_reexecutes_with_the_same_outputs(tmp_path, notebook_data_dir, capfd):
    artifacts = tmp_path / "artifacts"
    executed = run_series(smoke=True, data_dir=notebook_data_dir, artifacts_dir=artifacts)
    printed = capfd.readouterr()
    assert "WARNING" not in printed.err and "without encryption" not in printed.err, printed.err[-2000:]  # quiet

    assert [p.stem for p in executed] == list(NOTEBOOKS)
    for path in executed:
        assert not [o for o in outputs_of(path) if o["output_type"] == "error"], path.name
        assert any("image/png" in o.get("data", {}) for o in outputs_of(path)) or path.stem in (
            "02_model", "03_training"), f"{path.name} drew no figure"
    real = (Path(notebook_data_dir) / "MNIST" / "raw" / "train-images-idx3-ubyte").stat().st_size == 47_040_016
    for model, (on_mnist, on_synthetic) in SMOKE_ERRORS.items():
        metrics = json.loads((artifacts / model / "metrics.json").read_text())
        assert metrics["smoke"] is True and metrics["epochs"] == 1 and metrics["steps"] == 4096 // metrics["batch_size"]
        if real:  # seed 0, one epoch on 4,096 digits: what the project's CPU measured, give or take 3 points
            assert abs(metrics["val_error"] - on_mnist) <= 3.0, (model, metrics["val_error"])
        else:
            assert metrics["val_error"] <= on_synthetic, (model, metrics["val_error"])
    figures = {p.name for p in (artifacts / "figures").glob("*.png")}
    assert {"01_sample_digits.png", "04_seed_linear_error_curves.png", "05_compare_curves.png"} <= figures

    # The series' website (tools/site.py), built from these executed copies and checked in headless Chromium: every
    # page loads without a console error, every image loads, every internal link resolves, each notebook's page links
    # to that notebook in Colab, as a download and on GitHub, its answers stay closed until opened, the search finds
    # a word that only one notebook uses, and no page scrolls sideways at phone width.
    stats = site.build(artifacts, tmp_path / "site")
    assert stats["warnings"] == [], "\n".join(stats["warnings"])
    if site.missing_browser():
        print(f"the website's browser checks are skipped: {site.missing_browser()}")
        warnings.warn(f"the website's browser checks were skipped: {site.missing_browser()}", stacklevel=1)
    else:
        failures = site.check(tmp_path / "site")
        assert not failures, "\n".join(failures)

    # nbval runs each executed copy again, with its injected parameters, on fresh artifacts (so the models
    # are retrained from scratch), and compares the outputs of the cells tagged nbval-check-output.
    copies = tmp_path / "executed"
    shutil.move(artifacts / "notebooks", copies)
    shutil.rmtree(artifacts)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider",
         "--nbval-sanitize-with", str(REPO / "tests" / "nbval_sanitize.cfg"), "-q", "--rootdir", str(copies),
         *[str(copies / f"{name}.ipynb") for name in NOTEBOOKS]],
        capture_output=True, text=True, cwd=copies, timeout=1800,
    )
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary


def printed(path: Path) -> str:
    return "".join("".join(o.get("text", "")) for o in outputs_of(path) if o["output_type"] == "stream")


def test_notebook_04_plots_the_run_that_03_made_whatever_its_parameters(tmp_path, notebook_data_dir):
    artifacts = tmp_path / "artifacts"
    (made,) = run_series(smoke=True, data_dir=notebook_data_dir, artifacts_dir=artifacts, notebooks=("03_training",),
                         extra_parameters={"lr": 0.05})
    assert "your loop" in printed(made)  # the hand-written loop ran and matched the trainer (asserted in 03)
    metrics = json.loads((artifacts / "seed_linear" / "metrics.json").read_text())
    assert metrics["lr"] == 0.05

    (plotted,) = run_series(smoke=True, data_dir=notebook_data_dir, artifacts_dir=artifacts, notebooks=("04_plotting",))
    text = printed(plotted)
    assert f"plotting run {metrics['run_id']} of seed_linear" in text and "lr 0.05" in text
    assert "training one now" not in text
    assert json.loads((artifacts / "seed_linear" / "metrics.json").read_text())["run_id"] == metrics["run_id"]

    # With no finished run to plot, 04 trains one with the model's own recipe, and says so.
    (alone,) = run_series(smoke=True, data_dir=notebook_data_dir, artifacts_dir=tmp_path / "fresh",
                          notebooks=("04_plotting",))
    text = printed(alone)
    assert "No finished run of seed_linear" in text and "lr 0.08" in text
