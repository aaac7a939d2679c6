"""Scoring a model on a whole split, in large batches, without gradients."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .data import NUM_CLASSES, Split

EVAL_BATCH = 10_000  # large batches: a handful of big matrix products instead of hundreds of small ones


@torch.inference_mode()
def logits_of(model: nn.Module, x: torch.Tensor, batch_size: int = EVAL_BATCH) -> torch.Tensor:
    """The model's class scores for every row of ``x`` (evaluation mode, then back to the mode it was in)."""
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
    finally:
        model.train(was_training)


@torch.inference_mode()
def evaluate(model: nn.Module, split: Split, batch_size: int = EVAL_BATCH) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cross-entropy and error in percent over the whole split, as tensors on its device (no sync)."""
    logits = logits_of(model, split.x, batch_size)
    loss = F.cross_entropy(logits, split.y)
    error = (logits.argmax(1) != split.y).sum() * (100.0 / len(split))
    return loss, error


def predict(model: nn.Module, split: Split) -> torch.Tensor:
    """The predicted digit for every image of the split."""
    return logits_of(model, split.x).argmax(1)


def confusion_matrix(predictions: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``10 x 10`` counts: row = true digit, column = predicted digit."""
    flat = labels.long() * NUM_CLASSES + predictions.long()
    return torch.bincount(flat, minlength=NUM_CLASSES * NUM_CLASSES).reshape(NUM_CLASSES, NUM_CLASSES).cpu()


def misclassified(predictions: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Indices of the images the model got wrong, in data order."""
    return (predictions != labels).nonzero().flatten().cpu()
