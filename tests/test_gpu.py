"""The trainer on a CUDA GPU: the same numbers as on the CPU, and no host sync inside the loop.

These run only where PyTorch sees a GPU (a Colab GPU runtime, a lent GPU machine); CI has none and skips
them. ``benchmarks/gpu_check.sh`` runs them first.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from conftest import random_data as make_data

from benchmarks.reference import post_loop
from helpers.evaluation import evaluate
from helpers.models import Recipe, build_model
from helpers.training import Trainer, cumulative

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def random_data(device: str, n_train: int = 640):
    return make_data(n_train, 200, seed=7, device=device)


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


def steps_and_syncs(n_train: int) -> tuple[int, list[str]]:
    """The steps of a fit (3 epochs, batches of 32, validation at step 0 only) on ``n_train`` digits, and the host
    syncs it made: the warnings of CUDA's sync debug mode."""
    trainer = Trainer(build_model("seed_linear", 0), random_data("cuda", n_train),
                      Recipe(epochs=3, batch_size=32, lr=0.08), eval_every=10_000)
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            trainer.fit()  # the loop alone
    finally:
        torch.cuda.set_sync_debug_mode("default")
    return trainer.step, [str(w.message) for w in caught if "synchroniz" in str(w.message)]


def test_the_training_loop_does_not_wait_for_the_gpu_at_every_step():
    steps_and_syncs(640)  # once first: CUDA's and its libraries' first-use work is not the loop's
    steps, syncs = steps_and_syncs(640)  # 20 steps an epoch
    more_steps, more_syncs = steps_and_syncs(1280)  # 40 steps an epoch: the same epochs and validations
    assert (steps, more_steps) == (60, 120)
    # syncs per epoch or per validation are allowed; one per step would add 60 here
    assert len(more_syncs) == len(syncs), (len(syncs), len(more_syncs), more_syncs[:5])
