"""Shuffled batches straight from tensors that already live on the device: no DataLoader, no per-sample work.

Taught in notebook 01, section 7 (batches by indexing) and notebook 03, section 3 (the post's loop).
"""

from __future__ import annotations

import math

import torch

from .data import Split, shift_images


class Batches:
    """One epoch of shuffled mini-batches each time it is iterated.

    Every epoch draws one permutation from ``generator`` (a CPU generator: the same shuffles on every device),
    lays the split out in that order with one gather, and yields consecutive slices of it. With ``shift``,
    each image is also moved by its own random offset of up to ``shift`` pixels (drawn right after the
    permutation). ``labels`` holds the current epoch's labels in batch order.
    """

    def __init__(self, split: Split, batch_size: int, generator: torch.Generator, shift: int = 0):
        self.split, self.batch_size, self.generator, self.shift = split, batch_size, generator, shift
        self.images = torch.empty_like(split.x)  # reused every epoch: no 188 MB allocation per epoch
        self.labels = torch.empty_like(split.y)

    def __len__(self) -> int:
        return math.ceil(len(self.split) / self.batch_size)

    def sizes(self) -> torch.Tensor:
        """The number of samples in each batch of an epoch (the last one may be short)."""
        sizes = torch.full((len(self),), float(self.batch_size), dtype=torch.float64)
        sizes[-1] = len(self.split) - self.batch_size * (len(self) - 1)
        return sizes

    def __iter__(self):
        """Draw the epoch's order and lay the split out in it now; the batches are slices of that copy."""
        device = self.split.x.device
        order = torch.randperm(len(self.split), generator=self.generator)
        shifts = None
        if self.shift:
            shifts = torch.randint(-self.shift, self.shift + 1, (len(order), 2), generator=self.generator)
            shifts = shifts.to(device, non_blocking=True)
        order = order.to(device, non_blocking=True)
        torch.index_select(self.split.x, 0, order, out=self.images)
        torch.index_select(self.split.y, 0, order, out=self.labels)
        return self._slices(shifts)

    def _slices(self, shifts: torch.Tensor | None):
        for start in range(0, len(self.split), self.batch_size):
            x = self.images[start : start + self.batch_size]
            if shifts is not None:
                x = shift_images(x, shifts[start : start + self.batch_size], self.shift)
            yield x, self.labels[start : start + self.batch_size]
