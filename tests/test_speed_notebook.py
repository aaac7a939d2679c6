"""Notebook 07 (the speed ladder) runs headlessly in smoke mode, and what its rungs compute is what the
benchmarks compute: rung 0 (torchvision's dataset), rung 1 (the post's loop), rung 7 and rung 8 (the trainer) against
``benchmarks/reference.py``'s ``post_loop``, the trainer's rung against ``helpers.training.train``, and its
peer's recipe against ``benchmarks/peer_recipe.py``. No timing is asserted here."""

from __future__ import annotations

import json

import pytest
import torch

from benchmarks.peer_recipe import train_peer
from benchmarks.reference import post_loop
from helpers.data import load_mnist
from helpers.models import build_model
from helpers.training import RunConfig, train
from tools.series import run_series


def as_tensor(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def test_notebook_07_rungs_compute_what_the_benchmarks_compute(tmp_path, notebook_data_dir):
    artifacts = tmp_path / "artifacts"
    run_series(smoke=True, data_dir=notebook_data_dir, artifacts_dir=artifacts, notebooks=("07_speed",))
    ladder = json.loads((artifacts / "speed" / "ladder.json").read_text())  # strict JSON: json.loads would take NaN
    rungs = ladder["rungs"]
    assert ladder["smoke"] is True
    assert set(rungs) == {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}  # the CPU ladder; 10 (compile) not in smoke
    assert all(isinstance(r["seconds"], float) and len(r["train_loss"]) == ladder["steps"] for r in rungs.values())

    data = load_mnist(notebook_data_dir, "cpu", smoke=True)
    assert ladder["steps"] == len(data.train) // ladder["batch_size"]  # one epoch: post_loop trains whole epochs
    reference = post_loop(build_model("seed_linear", ladder["seed"]), data, epochs=1, batch_size=ladder["batch_size"],
                          lr=ladder["lr"], eval_every=ladder["eval_every"], seed=ladder["seed"])
    for name in ("0", "1", "7", "8"):
        rung = rungs[name]
        # post_loop keeps its running metrics in float32, the notebook in float64: equal to float32's rounding
        assert torch.allclose(as_tensor(rung["train_loss"]), as_tensor(reference["train_loss"]), rtol=1e-5), name
        assert torch.allclose(as_tensor(rung["train_error"]), as_tensor(reference["train_error"]), atol=1e-4), name
        assert rung["val_step"] == reference["val_step"], name
        assert rung["val_error"] == pytest.approx(reference["val_error"], abs=1e-4), name
        assert rung["val_loss"] == pytest.approx(reference["val_loss"], rel=1e-5), name
        assert rung["final_val_error"] == pytest.approx(reference["final_val_error"], abs=1e-4), name

    # The trainer's rung (8) is helpers.training's trainer, as train() runs it: the same steps and validations.
    config = RunConfig(model="seed_linear", eval_every=ladder["eval_every"], seed=ladder["seed"], smoke=True)
    assert (config.recipe.epochs, config.recipe.batch_size, config.recipe.lr) == (1, ladder["batch_size"], ladder["lr"])
    metrics = train(config, data=data, artifacts_dir=tmp_path / "trainer", device="cpu").metrics
    assert metrics["steps"] == ladder["steps"]
    periodic = len(rungs["8"]["val_step"])  # the trainer also records the validation after its last step
    assert metrics["history"]["val"]["step"][:periodic] == rungs["8"]["val_step"]
    assert metrics["history"]["val"]["error"][:periodic] == pytest.approx(rungs["8"]["val_error"], abs=1e-4)
    assert metrics["val_error"] == pytest.approx(rungs["8"]["final_val_error"], abs=1e-4)

    # The peer's recipe, written in the notebook's cells, is benchmarks/peer_recipe.py's.
    race = json.loads((artifacts / "speed" / "race.json").read_text())
    theirs = train_peer(data, seed=ladder["seed"], eval_every=20)["history"]
    assert race["peer"]["step"] == theirs["step"]
    assert race["peer"]["error"] == pytest.approx(theirs["error"], abs=0.2)  # two digits of the 1,024 in smoke
