"""The seed post's training loop, written plainly (our code, its method): the yardstick for the fast trainer.

It keeps the post's habits on purpose: a DataLoader that collates 32 samples at a time, two ``.item()``
host syncs every step, and validation in batches of 32. The benchmark times it against
``helpers.training.Trainer``, and the tests check that both compute the same numbers.
"""

from __future__ import annotations

import time

import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler, TensorDataset

from .data import Mnist


class EpochShuffle(Sampler[int]):
    """What ``shuffle=True`` does (a fresh random order every epoch), one ``randperm`` per epoch.

    PyTorch's own ``RandomSampler`` draws a second, unused permutation at the end of each epoch, so its
    orders drift from a plain one-permutation-per-epoch loop; this sampler keeps the two in step.
    """

    def __init__(self, n: int, generator: torch.Generator):
        self.n, self.generator = n, generator

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        return iter(torch.randperm(self.n, generator=self.generator).tolist())


def post_loop(model: nn.Module, data: Mnist, *, epochs: int = 25, batch_size: int = 32, lr: float = 0.08,
              eval_every: int = 500, seed: int = 0) -> dict:
    """Train ``model`` as the post does and return its records.

    The shuffle draws one permutation per epoch from a CPU generator seeded with ``seed`` (see
    ``EpochShuffle``), exactly as ``Trainer`` does, so the two loops see the same batches.
    """
    train_set = TensorDataset(data.train.x, data.train.y)
    sampler = EpochShuffle(len(train_set), torch.Generator().manual_seed(seed))
    train_loader = DataLoader(train_set, batch_size=batch_size, sampler=sampler)
    val_loader = DataLoader(TensorDataset(data.val.x, data.val.y), batch_size=batch_size, shuffle=False)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def validate() -> tuple[float, float]:
        loss_sum, correct, seen = 0.0, 0, 0
        with torch.no_grad():
            for x, y in val_loader:
                out = model(x)
                loss_sum += criterion(out, y).item() * len(y)
                correct += (out.argmax(1) == y).sum().item()
                seen += len(y)
        return loss_sum / seen, (1 - correct / seen) * 100

    step, seen, loss_sum, correct = 0, 0, 0.0, 0
    train_loss, train_error, val_step, val_loss, val_error = [], [], [], [], []
    start = time.perf_counter()
    for _ in range(epochs):
        for x, y in train_loader:
            optimizer.zero_grad()
            out = model(x)
            loss = criterion(out, y)
            loss.backward()
            seen += len(y)
            loss_sum += loss.item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            train_loss.append(loss_sum / seen)
            train_error.append((1 - correct / seen) * 100)
            if step % eval_every == 0:
                v_loss, v_error = validate()
                val_step.append(step)
                val_loss.append(v_loss)
                val_error.append(v_error)
            optimizer.step()
            step += 1
    seconds = time.perf_counter() - start
    final_loss, final_error = validate()
    return {
        "steps": step,
        "train_seconds": seconds,
        "train_loss": train_loss,
        "train_error": train_error,
        "val_step": val_step,
        "val_loss": val_loss,
        "val_error": val_error,
        "final_val_loss": final_loss,
        "final_val_error": final_error,
    }
