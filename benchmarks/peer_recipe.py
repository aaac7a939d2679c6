"""The fastest public MNIST recipe we know of, re-implemented here as the baseline for time to 99 %.

Source: Tuomas Oikarinen, "Training a NN to 99% accuracy on MNIST in 0.76 seconds",
https://github.com/tuomaso/train_mnist_fast, notebook ``8_Final_00s76.ipynb`` and ``data_saver.py``
(MIT licence, Copyright (c) 2024 Tuomas Oikarinen). This file is our own code, written from reading that
notebook; it keeps every choice the notebook makes:

- Data: torchvision's ``ToTensor`` then ``Normalize((0.1307,), (0.3081,))``, all of it held in memory as
  ``N x 1 x 28 x 28`` tensors; the training digits are shuffled once when they are saved and then read in that
  fixed order (one epoch, so no reshuffle). The official 60,000 training and 10,000 test digits.
- Model: ``Conv2d(1, 24, 5)`` -> max-pool 2 -> ReLU -> ``Conv2d(24, 32, 3)`` -> max-pool 2 -> ReLU -> flatten
  (800) -> ``Linear(800, 256)`` -> ReLU -> ``Linear(256, 10)`` -> log-softmax; PyTorch's default initialisation.
- Loss: negative log-likelihood of the log-softmax (the same as cross-entropy on the logits).
- Optimiser: Adam, lr 1e-2, betas (0.7, 0.9) (eps and weight decay at PyTorch's defaults).
- Schedule: ``OneCycleLR(max_lr=1e-2, total_steps=235, cycle_momentum=False)``, everything else at PyTorch's
  defaults: 30 % warm-up, cosine annealing, starting at lr / 25 and ending at lr / 25 / 10,000;
  ``scheduler.step()`` after every ``optimizer.step()``.
- Batch 256, one epoch: 235 steps (the last batch holds 96 digits). Float32, no augmentation, no regularisation.

How the notebook measures: ``%%timeit`` over ``main()``, which builds the model and optimiser, trains the epoch
and scores the test digits once at the end (loading the data is not timed); its README reports 99.04 % mean test
accuracy over 30 runs (each run differs only in its initial weights) and 0.76 s on a laptop GPU.

How we measure (``train_peer`` here and ``benchmarks/bench_time_to_99.py`` for our recipe alike): the clock runs
over the training loop only: taking the batch, forward, loss, backward, optimiser and schedule steps. It stops
while the model is scored, so validating often (every few steps, to resolve when 99 % is first reached) costs the
recipe nothing; preparing the data and building the model are not timed either. A validation at step ``s``
scores the weights after ``s`` updates, and its time is the loop time spent on those ``s`` steps. The seed picks
the initial weights (in ``torch.random.fork_rng``, like ``helpers.models.build_model``) and the one-time shuffle.
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn
from torch.nn import functional as F

MEAN, STD = 0.1307, 0.3081  # the notebook's Normalize((0.1307,), (0.3081,))
BATCH_SIZE = 256
EPOCHS = 1
LR = 1e-2
BETAS = (0.7, 0.9)


class PeerNet(nn.Module):
    """The notebook's network: two convolutions (pooling before the ReLU), two linear layers, log-softmax out."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 24, 5)  # 28 -> 24, pooled to 12
        self.conv2 = nn.Conv2d(24, 32, 3)  # 12 -> 10, pooled to 5
        self.fc1 = nn.Linear(32 * 5 * 5, 256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return F.log_softmax(self.fc2(x), dim=1)


def build_peer(seed: int = 0) -> PeerNet:
    """The notebook's network with seeded default initial weights (the global random state is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return PeerNet()


def normalise(x: torch.Tensor) -> torch.Tensor:
    """Our flat ``N x 784`` pixels in [0, 1] -> the notebook's ``N x 1 x 28 x 28`` normalised images."""
    return ((x - MEAN) / STD).reshape(len(x), 1, 28, 28).contiguous()


@torch.no_grad()
def test_error(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 10_000) -> float:
    """Error (%) over a whole split (the notebook uses batches of 2,000; the batch size does not change it)."""
    was_training = model.training
    model.eval()
    wrong = sum(int((model(x[i : i + batch_size]).argmax(1) != y[i : i + batch_size]).sum())
                for i in range(0, len(x), batch_size))
    model.train(was_training)
    return 100.0 * wrong / len(y)


def train_peer(data, seed: int = 0, eval_every: int = 10, eval_from: int = 0) -> dict:
    """Train the peer's recipe on ``data`` (a ``helpers.data.Mnist``: train and val splits) and score it on
    ``data.val`` at every step that is a multiple of ``eval_every`` (from step ``eval_from`` on) and after the
    last step. Returns the loop time (evaluation excluded) and the validation history: steps, error (%),
    seconds of loop time at each validation, in the shape of the trainer's ``metrics["history"]["val"]``."""
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(data.train), generator=g).to(data.device)  # the one-time shuffle of data_saver.py
    x_train, y_train = normalise(data.train.x[order]), data.train.y[order]
    x_val, y_val = normalise(data.val.x), data.val.y
    model = build_peer(seed).to(data.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, betas=BETAS)
    steps = EPOCHS * math.ceil(len(x_train) / BATCH_SIZE)  # 235 on the 60,000 training digits
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LR, total_steps=steps, cycle_momentum=False)
    history = {"step": [], "error": [], "seconds": []}
    batches = math.ceil(len(x_train) / BATCH_SIZE)
    loop_seconds, start = 0.0, time.perf_counter()

    def validate(step: int) -> None:  # the clock stops while the model is scored
        nonlocal loop_seconds, start
        if data.device.type == "cuda":
            torch.cuda.synchronize(data.device)
        loop_seconds += time.perf_counter() - start
        history["step"].append(step)
        history["error"].append(test_error(model, x_val, y_val))
        history["seconds"].append(round(loop_seconds, 4))
        start = time.perf_counter()

    model.train()
    for step in range(steps):
        if step >= eval_from and step % eval_every == 0:
            validate(step)
        i = step % batches
        x, y = x_train[BATCH_SIZE * i : BATCH_SIZE * (i + 1)], y_train[BATCH_SIZE * i : BATCH_SIZE * (i + 1)]
        optimizer.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
    validate(steps)
    return {"model": model, "steps": steps, "loop_seconds": loop_seconds, "val_error": history["error"][-1],
            "history": history}
