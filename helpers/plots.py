"""Every figure of the series. Each function returns a matplotlib Figure; ``save`` writes it as a PNG."""

from __future__ import annotations

import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from .data import IMAGE_SIZE, NUM_CLASSES


def save(fig: Figure, path: str | os.PathLike, dpi: int = 110) -> None:
    """Save ``fig`` as a PNG, creating its folder. (The notebook still shows the figure inline.)"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")


def digit_grid(images: torch.Tensor, labels=None, predictions=None, columns: int = 10, title: str | None = None,
               cell: float = 1.0, titles: list[str] | None = None) -> Figure:
    """Digits in a grid; each titled with its label, 'label -> prediction' when predictions are given, or
    its entry of ``titles``. Drawn as the tensors hold them: white ink (high values) on black (0)."""
    images = images.detach().float().cpu().reshape(-1, IMAGE_SIZE, IMAGE_SIZE).numpy()
    n = len(images)
    rows = max(1, -(-n // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * cell, rows * cell * 1.15), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set(xticks=[], yticks=[])  # a thin frame shows each image's edge
        if k >= n:
            ax.axis("off")
            continue
        ax.imshow(images[k], cmap="gray", vmin=0, vmax=images.max() or 1)
        if labels is not None and predictions is not None:
            ax.set_title(f"{int(labels[k])} \u2192 {int(predictions[k])}", fontsize=9, color="firebrick")
        elif labels is not None:
            ax.set_title(str(int(labels[k])), fontsize=9)
        elif titles is not None:
            ax.set_title(titles[k], fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _train_and_val(history: dict, key: str, ylabel: str, title: str) -> Figure:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    train, val = history["train"], history["val"]
    ax.plot(train["step"], train[key], label=f"training {key} (cumulative since step 0)")
    ax.plot(val["step"], val[key], marker="o", markersize=3, label=f"validation {key}")
    ax.set(xlabel="step", ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def error_curves(history: dict, title: str = "Training and validation error") -> Figure:
    """The seed post's figure: cumulative training error and periodic validation error against the step."""
    fig = _train_and_val(history, "error", "error (%)", title)
    val_error, ax = history["val"]["error"], fig.axes[0]
    top = max(20.0, min(100.0, 1.1 * max(val_error[min(1, len(val_error) - 1) :])))  # the first validation left out
    ax.set_ylim(0, top)
    if max(val_error) > top:
        ax.text(0.01, 0.97, f"axis cut at {top:.0f} %: the first steps' errors lie above it",
                transform=ax.transAxes, fontsize=8, color="grey", va="top")
    return fig


def loss_curves(history: dict, title: str = "Training and validation loss") -> Figure:
    """Cumulative training loss and periodic validation loss (cross-entropy) against the step."""
    return _train_and_val(history, "loss", "cross-entropy", title)


def confusion(matrix: torch.Tensor, title: str = "Confusion matrix") -> Figure:
    """Counts of true digit (rows) against predicted digit (columns); the diagonal holds the hits."""
    matrix = matrix.cpu()
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    off_diagonal = matrix.clone().fill_diagonal_(0)
    image = ax.imshow(off_diagonal.numpy(), cmap="Reds")
    for i in range(NUM_CLASSES):
        for j in range(NUM_CLASSES):
            value = int(matrix[i, j])
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize=8,
                        color="navy" if i == j else "black", fontweight="bold" if i == j else "normal")
    ax.set(xlabel="predicted digit", ylabel="true digit", xticks=range(NUM_CLASSES), yticks=range(NUM_CLASSES),
           title=title)
    fig.colorbar(image, ax=ax, label="mistakes (off the diagonal)")
    fig.tight_layout()
    return fig


class LiveErrors:
    """The seed post's figure while training runs. In a notebook, ``update`` redraws it in place (an IPython display
    handle, in Colab and Jupyter alike) at most every ``every`` seconds, and ``close`` draws the last state; outside
    a notebook (a terminal, a log) a progress bar moves instead. Used by notebook 03 and by ``training.train``."""

    def __init__(self, total_steps: int, title: str = "Training and validation error", every: float = 2.0):
        from IPython import get_ipython

        self.title, self.every, self.drawn_at, self.history, self.handle = title, every, -float("inf"), None, None
        self.total, self.step, self.train = total_steps, 0, None
        self.bar = None
        if getattr(get_ipython(), "kernel", None) is None:  # no notebook to draw in
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total_steps, unit="step", mininterval=0, miniters=1, dynamic_ncols=True,
                            desc=title.split(":")[0])

    def update(self, step: int, val_step: list, val_error: list, train=None) -> None:
        """Progress to ``step``, with the validation errors so far and the training curve: ``(steps, errors)`` of
        the cumulative training error, or a function that returns them (called only when the figure is drawn)."""
        self.step, self.train = step, train if callable(train) or train is None else tuple(map(list, train))
        self.history = {"val": {"step": list(val_step), "error": list(val_error)}}  # copies: the lists grow
        if self.bar is not None:
            self.bar.update(step - self.bar.n)
            if val_error:
                self.bar.set_postfix(val_err=f"{val_error[-1]:.2f}%", refresh=False)
        elif time.monotonic() - self.drawn_at >= self.every:
            self._draw()

    def _draw(self) -> None:
        from IPython.display import display

        steps, errors = self.train() if callable(self.train) else self.train or ((), ())
        self.history["train"] = {"step": list(steps), "error": list(errors)}
        fig = error_curves(self.history, title=f"{self.title}\nstep {self.step:,} of {self.total:,}")
        if self.step < self.total:
            fig.axes[0].axvline(self.step, color="grey", linewidth=0.8, linestyle=":")
            fig.axes[0].set_xlim(0, self.total)
        if (steps[-1] if len(steps) else -1) < self.step - 1:
            fig.axes[0].text(0.99, 0.90, "training curve: tallied at the end of each epoch", ha="right", va="top",
                             transform=fig.axes[0].transAxes, fontsize=8, color="grey")
        if self.handle is None:
            self.handle = display(fig, display_id=True)
        else:
            self.handle.update(fig)
        plt.close(fig)
        self.drawn_at = time.monotonic()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.history is not None:
            self._draw()
