"""The trainer on a CUDA GPU: the same numbers as on the CPU, and no host sync inside the loop.

These run only where PyTorch sees a GPU (a Colab GPU runtime, a lent GPU machine); CI has none and skips
them. ``benchmarks/gpu_check.sh`` runs them first.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest
import torch

from helpers.data import Mnist, Split
from helpers.models import Recipe, build_model
from helpers.training import Trainer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from reference import post_loop  # noqa: E402

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def random_data(device: str, n_train: int = 640, n_val: int = 200) -> Mnist:
    g = torch.Generator().manual_seed(7)
    x = torch.rand(n_train + n_val, 784, generator=g)
    y = torch.randint(0, 10, (n_train + n_val,), generator=g)
    x, y = x.to(device), y.to(device)
    return Mnist(Split(x[:n_train], y[:n_train]), Split(x[n_train:], y[n_train:]), f"random on {device}")


def fit(trainer: Trainer) -> dict:
    trainer.fit()
    return trainer.results()


def test_the_gpu_trains_what_the_cpu_trains():
    recipe = Recipe(epochs=3, batch_size=32, lr=0.08)
    runs = {}
    for device in ("cpu", "cuda"):
        trainer = Trainer(build_model("seed_linear", 1), random_data(device), recipe, seed=3, eval_every=7)
        runs[device] = (trainer, fit(trainer))
    (cpu, cpu_results), (gpu, gpu_results) = runs["cpu"], runs["cuda"]
    assert gpu.history.val_step == cpu.history.val_step
    for a, b in zip(cpu.model.parameters(), gpu.model.parameters(), strict=True):
        assert torch.allclose(a, b.cpu(), atol=1e-4)
    assert torch.allclose(cpu.history.batch_loss, gpu.history.batch_loss.cpu(), rtol=1e-4)
    assert gpu_results["val_error"] == pytest.approx(cpu_results["val_error"], abs=0.5)


def test_the_gpu_loop_matches_the_posts_loop_on_the_gpu():
    data = random_data("cuda")
    reference = post_loop(build_model("seed_linear", 2).cuda(), data, epochs=2, eval_every=5, seed=4)
    trainer = Trainer(build_model("seed_linear", 2), data, Recipe(epochs=2, batch_size=32, lr=0.08), seed=4,
                      eval_every=5)
    results = fit(trainer)
    _, error = trainer.history.cumulative(trainer.step)
    assert torch.allclose(error.cpu(), torch.tensor(reference["train_error"], dtype=torch.float64), atol=1e-3)
    assert results["val_error"] == pytest.approx(reference["final_val_error"], abs=0.51)


def test_the_training_loop_does_not_wait_for_the_gpu_at_every_step():
    data = random_data("cuda")  # 20 steps an epoch
    trainer = Trainer(build_model("seed_linear", 0), data, Recipe(epochs=3, batch_size=32, lr=0.08),
                      eval_every=10_000)  # validation (two .item() calls) at step 0 only
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            trainer.fit()  # the loop alone: results() reads the history back on purpose
    finally:
        torch.cuda.set_sync_debug_mode("default")
    syncs = [w for w in caught if "synchroniz" in str(w.message)]
    assert trainer.step == 60
    assert len(syncs) < 20, [str(w.message) for w in syncs[:5]]  # a sync a step would give 60 or more
