"""What a training run computes, checked before any work: a bad parameter stops with one line that names it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from .models import MODELS, Recipe


class ParameterError(ValueError):
    """A parameter has a value the series cannot use; the message names it and what is accepted."""


def _check_positive(name: str, value, kind: type, none_means: str | None = "the model's own recipe") -> None:
    if value is None and none_means:
        return
    allowed = (int, float) if kind is float else (int,)
    if isinstance(value, bool) or not isinstance(value, allowed) or not (value > 0 and math.isfinite(value)):
        what = "a positive number" if kind is float else "a positive whole number"
        suffix = f" (or None for {none_means})" if none_means else ""
        raise ParameterError(f"{name}={value!r} is not accepted: {name} must be {what}{suffix}")


def _check_whole(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParameterError(f"{name}={value!r} is not accepted: {name} must be a whole number >= 0")


def check_flag(name: str, value) -> None:
    if not isinstance(value, bool):
        raise ParameterError(f"{name}={value!r} is not accepted: {name} must be True or False")


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides what a training run computes. Two runs with equal configs on the same
    data give the same results on the CPU; checkpoints are only ever resumed into an equal config."""

    model: str = "seed_linear"
    epochs: int | None = None  # None: the model's recipe
    batch_size: int | None = None
    lr: float | None = None
    eval_every: int = 500
    seed: int = 0
    smoke: bool = False  # the first 4,096 training and 1,024 validation digits, one epoch unless epochs says more

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or self.model not in MODELS:
            raise ParameterError(f"model={self.model!r} is unknown: choose one of {', '.join(map(repr, MODELS))}")
        _check_positive("epochs", self.epochs, int)
        _check_positive("batch_size", self.batch_size, int)
        _check_positive("lr", self.lr, float)
        _check_positive("eval_every", self.eval_every, int, none_means=None)
        _check_whole("seed", self.seed)
        check_flag("smoke", self.smoke)

    @property
    def recipe(self) -> Recipe:
        """The model's recipe with this config's epochs, batch size and lr where given (smoke: 1 epoch by default)."""
        epochs = 1 if self.smoke and self.epochs is None else self.epochs
        changes = {"epochs": epochs, "batch_size": self.batch_size, "lr": self.lr}
        return replace(MODELS[self.model].recipe, **{k: v for k, v in changes.items() if v is not None})

    def describe(self) -> dict:
        """The config with its recipe spelled out: what the checkpoint and metrics record and the run id hashes."""
        return {**asdict(self), "recipe": self.recipe.as_dict()}
