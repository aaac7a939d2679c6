"""The seed post's training loop, written plainly (our code, its method): the yardstick for the fast trainer.

It keeps the post's habits on purpose: a DataLoader that collates 32 samples at a time, ``.to(device)``
on every batch, two ``.item()`` host syncs every step, the running metrics written into a tensor one
element at a time, and validation in batches of 32. The benchmark times it against
``helpers.training.Trainer``, and the tests check that both compute the same numbers.
"""

from __future__ import annotations

import time

import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler, TensorDataset

from helpers.data import Mnist


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
    """Train ``model`` as the post does and return its records. The same loop as notebook 03, section 3 writes
    in its cells (there without a DataLoader, with the permutation sliced directly).

    The shuffle draws one permutation per epoch from a CPU generator seeded with ``seed`` (see
    ``EpochShuffle``), exactly as ``Trainer`` does, so the two loops see the same batches.
    """
    train_set = TensorDataset(data.train.x, data.train.y)
    sampler = EpochShuffle(len(train_set), torch.Generator().manual_seed(seed))
    train_loader = DataLoader(train_set, batch_size=batch_size, sampler=sampler)
    val_loader = DataLoader(TensorDataset(data.val.x, data.val.y), batch_size=batch_size, shuffle=False)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    device = data.train.x.device
    total_steps = epochs * len(train_loader)
    train_out = torch.zeros(total_steps, 2)  # per step: cumulative loss and error, written one by one
    val_out = torch.zeros(-(-total_steps // eval_every), 2)

    def validate(row: int) -> None:
        loss_sum, correct, seen = 0.0, 0, 0
        with torch.no_grad():
            for x, y in val_loader:
                x, y = x.to(device), y.to(device)
                out = model(x)
                loss_sum += criterion(out, y).item() * len(y)
                correct += (torch.argmax(out, dim=1) == y).sum().item()
                seen += len(y)
                val_out[row, 0] = loss_sum / seen
                val_out[row, 1] = (1 - correct / seen) * 100

    step, seen, loss_sum, correct, val_steps = 0, 0, 0.0, 0, []
    start = time.perf_counter()
    for _ in range(epochs):
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            out = model(x)
            loss = criterion(out, y)
            loss.backward()
            seen += len(y)
            loss_sum += loss.item() * len(y)
            correct += (torch.argmax(out, dim=1) == y).sum().item()
            train_out[step, 0] = loss_sum / seen
            train_out[step, 1] = (1 - correct / seen) * 100
            if step % eval_every == 0:
                validate(len(val_steps))
                val_steps.append(step)
            optimizer.step()
            step += 1
    seconds = time.perf_counter() - start
    final = len(val_out)
    val_out = torch.cat([val_out, torch.zeros(1, 2)])
    validate(final)
    return {
        "steps": step,
        "train_seconds": seconds,
        "train_loss": train_out[:, 0].tolist(),
        "train_error": train_out[:, 1].tolist(),
        "val_step": val_steps,
        "val_loss": val_out[:final, 0].tolist(),
        "val_error": val_out[:final, 1].tolist(),
        "final_val_loss": val_out[final, 0].item(),
        "final_val_error": val_out[final, 1].item(),
    }
