"""Parameters, declared once: each field of a config carries its default, what it accepts and its help, and the
checks, the error messages and the command line (``add_arguments``) are made from that declaration."""

from __future__ import annotations

import argparse
import math
from dataclasses import MISSING, asdict, dataclass, field, fields, replace

from .models import MODELS, Recipe


class ParameterError(ValueError):
    """A parameter has a value the series cannot use; the message names it and what is accepted."""


@dataclass(frozen=True)
class Accepts:
    """What one parameter accepts: a ``kind`` (bool, int, float or str), from ``least`` up (``positive``: above 0),
    one of ``choices``, or None when ``none`` says what None means."""

    kind: type
    least: float | None = None
    positive: bool = False
    choices: tuple = ()
    none: str = ""

    def __str__(self) -> str:
        if self.choices:
            text = "one of " + ", ".join(map(repr, self.choices))
        elif self.kind is bool:
            text = "True or False"
        else:
            text = ("a positive " if self.positive else "a ") + ("whole number" if self.kind is int else "number")
            text += f" >= {self.least}" if self.least is not None else ""
        return text + (f" (or None for {self.none})" if self.none else "")

    def allows(self, value) -> bool:
        if value is None:
            return bool(self.none)
        if self.kind in (bool, str):
            return type(value) is self.kind and (not self.choices or value in self.choices)
        numbers = (int, float) if self.kind is float else (int,)
        return (isinstance(value, numbers) and not isinstance(value, bool) and math.isfinite(value)
                and value >= (self.least or 0) and (value > 0 or not self.positive))


def knob(default, help: str, accepts: Accepts):
    """A dataclass field that is a parameter: its default, its help (for the command line) and what it accepts."""
    return field(default=default, metadata={"help": help, "accepts": accepts})


def check(name: str, value, accepts: Accepts) -> None:
    """One line that names the parameter and what it accepts, when ``value`` is not accepted."""
    if not accepts.allows(value):
        raise ParameterError(f"{name}={value!r} is not accepted: {name} must be {accepts}")


class Checked:
    """A mixin for dataclasses of knobs: every field is checked when the object is made."""

    def __post_init__(self) -> None:
        for spec in fields(self):
            check(spec.name, getattr(self, spec.name), spec.metadata["accepts"])


def add_arguments(parser: argparse.ArgumentParser, config: type, only: tuple[str, ...] = ()) -> None:
    """One ``--option`` per knob of the dataclass ``config`` (or those named in ``only``): ``--no-NAME`` for a flag
    that is on by default."""
    for spec in (spec for spec in fields(config) if spec.name in (only or [spec.name])):
        accepts, default = spec.metadata["accepts"], spec.default if spec.default is not MISSING else None
        name, help = spec.name.replace("_", "-"), spec.metadata["help"]
        if accepts.kind is bool:
            flag, action = (f"--no-{name}", "store_false") if default else (f"--{name}", "store_true")
            parser.add_argument(flag, dest=spec.name, action=action, help=help + (" (on unless given)" * default))
        else:
            shown = f"None: {accepts.none}" if default is None else default
            parser.add_argument(f"--{name}", dest=spec.name, type=accepts.kind, default=default,
                                help=f"{help}{f': {accepts}' * bool(accepts.choices)} (default: {shown})")


RECIPE = "the model's own recipe"
POSITIVE_INT = Accepts(int, positive=True)
FLAG = Accepts(bool)


@dataclass(frozen=True)
class RunConfig(Checked):
    """Everything that decides what a training run computes. Two runs with equal configs on the same
    data give the same results on the CPU; checkpoints are only ever resumed into an equal config."""

    model: str = knob("seed_linear", "the model and its recipe (notebook 02 lists them)",
                      Accepts(str, choices=tuple(MODELS)))
    epochs: int | None = knob(None, "epochs to train", Accepts(int, positive=True, none=RECIPE))
    batch_size: int | None = knob(None, "samples per step", Accepts(int, positive=True, none=RECIPE))
    lr: float | None = knob(None, "learning rate", Accepts(float, positive=True, none=RECIPE))
    eval_every: int = knob(500, "validate on the whole validation set every this many steps", POSITIVE_INT)
    seed: int = knob(0, "initial weights and shuffles", Accepts(int, least=0))
    smoke: bool = knob(False, "the same work on the first 4,096 / 1,024 digits, one epoch", FLAG)

    @property
    def recipe(self) -> Recipe:
        """The model's recipe with this config's epochs, batch size and lr where given (smoke: 1 epoch by default)."""
        epochs = 1 if self.smoke and self.epochs is None else self.epochs
        changes = {"epochs": epochs, "batch_size": self.batch_size, "lr": self.lr}
        return replace(MODELS[self.model].recipe, **{k: v for k, v in changes.items() if v is not None})

    def describe(self) -> dict:
        """The config with its recipe spelled out: what the checkpoint and metrics record and the run id hashes."""
        return {**asdict(self), "recipe": self.recipe.as_dict()}


@dataclass(frozen=True)
class RunOptions(Checked):
    """Where a run reads and writes, and how it behaves; none of it changes what the run computes."""

    data_dir: str = knob("data", "folder that holds MNIST/raw, downloaded there when missing ('data': $MNIST_DATA_DIR "
                         "when it is set)", Accepts(str))
    artifacts_dir: str = knob("artifacts", "checkpoints, metrics, figures and executed notebooks go here", Accepts(str))
    device: str = knob("auto", "auto (a GPU when there is one), cpu, cuda or cuda:N", Accepts(str))
    resume: bool = knob(True, "resume the run's checkpoint; --no-resume starts afresh, moving the earlier run aside "
                        "(never deleted)", FLAG)
    progress: bool = knob(True, "show a progress bar", FLAG)


@dataclass(frozen=True)
class LadderConfig(Checked):
    """Notebook 07's own parameters, checked the same way."""

    repeats: int = knob(3, "timings of each rung; the fastest is kept", POSITIVE_INT)
    race: bool = knob(True, "race three recipes to 99 % accuracy", FLAG)
