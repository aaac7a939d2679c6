"""The trainer on a CUDA GPU: the same numbers as on the CPU, and no host sync inside the loop.

These run only where PyTorch sees a GPU (a Colab GPU runtime, a lent GPU machine); CI has none and skips
them. ``benchmarks/gpu_check.sh`` runs them first.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from conftest import random_data as make_data
from reference import post_loop

from helpers.evaluation import evaluate
from helpers.models import Recipe, build_model
from helpers.training import Trainer, cumulative

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def random_data(device: str):
    return make_data(640, 200, seed=7, device=device)


def fit(trainer: Trainer) -> float:
    trainer.fit()
    return evaluate(trainer.model, trainer.data.val)[1].item()


def test_the_gpu_trains_what_the_cpu_trains():
    recipe = Recipe(epochs=3, batch_size=32, lr=0.08)
    runs = {}
    for device in ("cpu", "cuda"):
        trainer = Trainer(build_model("seed_linear", 1), random_data(device), recipe, seed=3, eval_every=7)
        runs[device] = (trainer, fit(trainer))
    (cpu, cpu_error), (gpu, gpu_error) = runs["cpu"], runs["cuda"]
    assert gpu.history["val_step"] == cpu.history["val_step"]
    for a, b in zip(cpu.model.parameters(), gpu.model.parameters(), strict=True):
        assert torch.allclose(a, b.cpu(), atol=1e-4)
    assert torch.allclose(cpu.history["loss"], gpu.history["loss"].cpu(), rtol=1e-4)
    assert gpu_error == pytest.approx(cpu_error, abs=0.5)


def test_the_gpu_loop_matches_the_posts_loop_on_the_gpu():
    data = random_data("cuda")
    reference = post_loop(build_model("seed_linear", 2).cuda(), data, epochs=2, eval_every=5, seed=4)
    trainer = Trainer(build_model("seed_linear", 2), data, Recipe(epochs=2, batch_size=32, lr=0.08), seed=4,
                      eval_every=5)
    final_error = fit(trainer)
    _, error = cumulative(trainer.history, trainer.step)
    assert torch.allclose(error.cpu(), torch.tensor(reference["train_error"], dtype=torch.float64), atol=1e-3)
    assert final_error == pytest.approx(reference["final_val_error"], abs=0.51)


def test_the_training_loop_does_not_wait_for_the_gpu_at_every_step():
    data = random_data("cuda")  # 20 steps an epoch
    trainer = Trainer(build_model("seed_linear", 0), data, Recipe(epochs=3, batch_size=32, lr=0.08),
                      eval_every=10_000)  # validation (two .item() calls) at step 0 only
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            trainer.fit()  # the loop alone
    finally:
        torch.cuda.set_sync_debug_mode("default")
    syncs = [w for w in caught if "synchroniz" in str(w.message)]
    assert trainer.step == 60
    assert len(syncs) < 20, [str(w.message) for w in syncs[:5]]  # a sync a step would give 60 or more
