"""The CUDA-graph prototype (benchmarks/cuda_graphs.py) computes what the trainer computes.

On the CPU its steps run eagerly: these tests pin that they are the trainer's arithmetic (same losses, hits,
validations and weights). The capture itself can only be checked where PyTorch sees a GPU.
"""

from __future__ import annotations

import pytest
import torch
from conftest import random_data
from cuda_graphs import GraphedSteps, blocks

from helpers.models import Recipe, build_model
from helpers.training import Trainer


def both(device: str, epochs: int = 3, eval_every: int = 7, largest_block: int = 4):
    data = random_data(320, 100, seed=5, device=device)
    trainer = Trainer(build_model("seed_linear", 1), data, Recipe(epochs=epochs, batch_size=32, lr=0.08), seed=2,
                      eval_every=eval_every)  # the caller's threads, as GraphedSteps uses
    trainer.fit()
    graphed = GraphedSteps(build_model("seed_linear", 1), data, epochs=epochs, batch_size=32, lr=0.08, seed=2,
                           eval_every=eval_every, largest_block=largest_block)
    graphed.fit()
    return trainer, graphed


def test_blocks_cover_any_stretch_with_powers_of_two():
    assert blocks(0, 256) == []
    assert blocks(499, 256) == [256, 128, 64, 32, 16, 2, 1]
    assert blocks(7, 4) == [4, 2, 1]
    assert all(sum(blocks(n, 8)) == n and max(blocks(n, 8)) <= 8 for n in range(1, 100))


def test_the_steps_are_the_trainers_arithmetic_on_the_cpu():
    trainer, graphed = both("cpu")
    assert graphed.step == trainer.step == 30
    for key in ("loss", "correct"):
        assert torch.equal(graphed.history[key], trainer.history[key])
    assert graphed.history["val_step"] == trainer.history["val_step"]
    assert graphed.history["val_error"] == trainer.history["val_error"]
    for a, b in zip(trainer.model.parameters(), graphed.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_models_with_state_or_a_short_last_batch_are_refused():
    with pytest.raises(ValueError, match="no batch norm"):
        GraphedSteps(build_model("cnn"), random_data(320, 100), epochs=1, batch_size=32, lr=0.1)
    with pytest.raises(ValueError, match="do not split into batches of 48"):
        GraphedSteps(build_model("seed_linear"), random_data(320, 100), epochs=1, batch_size=48, lr=0.1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_captured_graphs_replay_the_trainers_numbers_on_the_gpu():
    trainer, graphed = both("cuda", epochs=4, eval_every=9, largest_block=8)
    assert graphed.graphs and graphed.capture_seconds > 0
    assert graphed.history["val_step"] == trainer.history["val_step"]
    assert torch.allclose(graphed.history["loss"], trainer.history["loss"], rtol=1e-5)
    assert torch.equal(graphed.history["correct"], trainer.history["correct"])
    for a, b in zip(trainer.model.parameters(), graphed.model.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-5)
