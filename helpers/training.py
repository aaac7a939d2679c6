"""Training: the seed post's procedure, kept exactly, made fast, and made safe to interrupt.

What the post computes is kept: cross-entropy, the recipe's optimiser, a new shuffle every epoch,
validation over the whole validation set every ``eval_every`` steps (after the backward pass, before
the update, as the post does), and the post's training metrics: loss and error averaged over every
sample seen since step 0.

What makes it fast: the data already lives on the device, a batch is picked by indexing with the
epoch's permutation (no DataLoader), each step's loss and scores stay on the device and are tallied
once per epoch (no ``.item()`` in the loop), plain SGD updates the weights in one call, and evaluation
runs in batches of 10,000 under inference mode.

What makes it safe: a checkpoint (model, optimiser, random generator, history) is written atomically
at the end of every epoch; running again resumes from it and finishes exactly as an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from itertools import repeat
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from . import checkpoints
from .data import Mnist, fingerprint, load_mnist, shift_images
from .environment import device_name, pick_device
from .evaluation import evaluate
from .models import MODELS, Recipe, build_model, count_parameters, default_recipe

CHECKPOINT_FORMAT = 1
TRAIN_CURVE_POINTS = 2000  # metrics.json keeps about this many points of the per-step training curve


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
    smoke: bool = False
    holdout: int = 0  # 0: validate on the official test digits; N: on the last N training digits
    target_error: float | None = None  # stop at the first validation with an error (%) at or below this

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or self.model not in MODELS:
            raise ParameterError(f"model={self.model!r} is unknown: choose one of {', '.join(map(repr, MODELS))}")
        _check_positive("epochs", self.epochs, int)
        _check_positive("batch_size", self.batch_size, int)
        _check_positive("lr", self.lr, float)
        _check_positive("eval_every", self.eval_every, int, none_means=None)
        _check_positive("target_error", self.target_error, float, none_means="no early stop")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ParameterError(f"seed={self.seed!r} is not accepted: seed must be a whole number >= 0")
        if not isinstance(self.smoke, bool):
            raise ParameterError(f"smoke={self.smoke!r} is not accepted: smoke must be True or False")
        if isinstance(self.holdout, bool) or not isinstance(self.holdout, int) or self.holdout < 0:
            raise ParameterError(f"holdout={self.holdout!r} is not accepted: holdout must be a whole number >= 0")

    @property
    def recipe(self) -> Recipe:
        recipe = default_recipe(self.model).with_overrides(self.epochs, self.batch_size, self.lr)
        return recipe.with_overrides(epochs=1) if self.smoke else recipe

    def describe(self) -> dict:
        """The config with its recipe spelled out: what ``config.json`` records and the run id hashes."""
        return {**asdict(self), "recipe": self.recipe.as_dict()}


def check_resume(resume) -> None:
    if not isinstance(resume, bool):
        raise ParameterError(f"resume={resume!r} is not accepted: resume must be True or False")


# --------------------------------------------------------------------------------------------------
# The training loop


def _optimizer(model: nn.Module, recipe: Recipe, total_steps: int):
    if recipe.optimizer == "sgd":
        optimizer = torch.optim.SGD(
            model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
            nesterov=recipe.nesterov, weight_decay=recipe.weight_decay,
        )
    elif recipe.optimizer == "adamw":
        optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    else:
        raise ValueError(f"recipe optimizer {recipe.optimizer!r} is unknown: use 'sgd' or 'adamw'")
    if recipe.schedule == "constant":
        return optimizer, None
    if recipe.schedule == "onecycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=recipe.lr, total_steps=total_steps, pct_start=recipe.warmup,
            anneal_strategy="linear", cycle_momentum=False, div_factor=10.0, final_div_factor=100.0,
        )
        return optimizer, scheduler
    raise ValueError(f"recipe schedule {recipe.schedule!r} is unknown: use 'constant' or 'onecycle'")


@dataclass
class History:
    """Per-step training records and the validation points, all on the model's device until read."""

    batch_loss: torch.Tensor  # float64 [total_steps]: mean loss of each step's batch
    batch_correct: torch.Tensor  # float64 [total_steps]: correct predictions in each step's batch
    batch_size: torch.Tensor  # float64 [total_steps]: samples in each step's batch
    val_step: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_error: list[float] = field(default_factory=list)
    val_seconds: list[float] = field(default_factory=list)  # training-loop time when each validation ran

    def cumulative(self, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The post's training metrics for steps 0..steps-1: loss and error (%) over all samples seen so far."""
        seen = self.batch_size[:steps].cumsum(0)
        loss = (self.batch_loss[:steps] * self.batch_size[:steps]).cumsum(0) / seen
        error = (1 - self.batch_correct[:steps].cumsum(0) / seen) * 100
        return loss, error


class Trainer:
    """Trains one model on data that is already on its device. ``fit`` runs epochs; checkpoints come from
    ``state_dict`` and go back in with ``load_state_dict``."""

    def __init__(self, model: nn.Module, data: Mnist, recipe: Recipe, *, seed: int = 0, eval_every: int = 500,
                 target_error: float | None = None):
        self.model, self.data, self.recipe = model.to(data.device), data, recipe
        self.eval_every, self.target_error = eval_every, target_error
        self.device = data.device
        n = len(data.train)
        self.steps_per_epoch = math.ceil(n / recipe.batch_size)
        self.total_steps = recipe.epochs * self.steps_per_epoch
        self.optimizer, self.scheduler = _optimizer(self.model, recipe, self.total_steps)
        self.parameters = [p for p in self.model.parameters() if p.requires_grad]
        self.weights = [p.detach() for p in self.parameters]  # the same tensors, outside autograd: for _update
        plain = recipe.optimizer == "sgd" and recipe.momentum == 0 and recipe.weight_decay == 0
        self.plain_sgd = plain and self.scheduler is None  # see _update
        self.generator = torch.Generator().manual_seed(seed)  # CPU: the same shuffles on every device
        self.xs, self.ys = torch.empty_like(data.train.x), torch.empty_like(data.train.y)  # epoch's shuffle
        sizes = torch.full((self.steps_per_epoch,), float(recipe.batch_size), dtype=torch.float64)
        sizes[-1] = n - recipe.batch_size * (self.steps_per_epoch - 1)
        zeros = torch.zeros(self.total_steps, dtype=torch.float64, device=self.device)
        self.history = History(zeros, zeros.clone(), sizes.repeat(recipe.epochs).to(self.device))
        self.epoch = 0  # epochs completed
        self.step = 0  # optimiser steps taken
        self.train_seconds = 0.0
        self.stopped_early = False
        # bfloat16 where the hardware has it natively: CPUs, and GPUs from Ampere on (not a T4, which emulates it).
        native = self.device.type == "cpu" or torch.cuda.get_device_capability(self.device)[0] >= 8
        bf16 = recipe.bf16 and native
        self.autocast = torch.autocast(self.device.type, dtype=torch.bfloat16) if bf16 else nullcontext()

    @property
    def finished(self) -> bool:
        return self.epoch >= self.recipe.epochs or self.stopped_early

    def _validate(self, epoch_start: float) -> None:
        loss, error = evaluate(self.model, self.data.val)
        h = self.history
        h.val_step.append(self.step)
        h.val_loss.append(loss.item())  # one sync per validation, never per step
        h.val_error.append(error.item())
        h.val_seconds.append(self.train_seconds + time.perf_counter() - epoch_start)
        if self.target_error is not None and h.val_error[-1] <= self.target_error:
            self.stopped_early = True

    def _shuffle(self) -> torch.Tensor | None:
        """Lay this epoch's shuffled copy of the training set into ``self.xs``/``self.ys``, so that every
        batch is a contiguous slice. The order (and each image's shift, with augmentation) is drawn on the
        CPU, so a seed gives the same epochs on every device."""
        train = self.data.train
        order = torch.randperm(len(train), generator=self.generator)
        shifts = None
        if self.recipe.shift:
            k = self.recipe.shift
            shifts = torch.randint(-k, k + 1, (len(order), 2), generator=self.generator)
            shifts = shifts.to(self.device, non_blocking=True)
        order = order.to(self.device, non_blocking=True)
        torch.index_select(train.x, 0, order, out=self.xs)
        torch.index_select(train.y, 0, order, out=self.ys)
        return shifts

    def _update(self) -> None:
        """``optimizer.step()``. For plain SGD at a constant learning rate (the post's optimiser) the update
        ``w -= lr * grad`` is made here in one call: exactly what ``torch.optim.SGD`` computes, without its
        per-call bookkeeping (hooks, profiler ranges, group set-up), which costs about 20 us, a fifth of the
        post's whole step on a CPU. A test checks that both give the same weights bit for bit."""
        grads = [p.grad for p in self.parameters]
        if self.plain_sgd and all(g is not None for g in grads):
            torch._foreach_add_(self.weights, grads, alpha=-self.recipe.lr)
        else:
            self.optimizer.step()

    def fit_epoch(self) -> None:
        """One epoch of the post's loop, fast."""
        model, recipe, h = self.model, self.recipe, self.history
        bs, params, eval_every = recipe.batch_size, self.parameters, self.eval_every
        start = time.perf_counter()
        shifts = self._shuffle()
        model.train()
        first = self.step
        losses, logits_seen = [], []  # detached results stay on the device: no per-step sync
        batches = zip(self.xs.split(bs), self.ys.split(bs), shifts.split(bs) if shifts is not None else repeat(None))
        for x, y, shift in batches:
            if shift is not None:
                x = shift_images(x, shift, recipe.shift)
            with self.autocast:
                logits = model(x)
                loss = F.cross_entropy(logits, y, label_smoothing=recipe.label_smoothing)
            for p in params:  # optimizer.zero_grad(), without its per-call bookkeeping
                p.grad = None
            loss.backward()
            losses.append(loss.detach())
            logits_seen.append(logits.detach())
            if self.step % eval_every == 0:
                self._validate(start)  # before the update, like the post
            self._update()
            if self.scheduler is not None:
                self.scheduler.step()
            self.step += 1
            if self.stopped_early:
                break
        # The epoch's training records, computed in a few large operations instead of per step.
        done = self.step - first
        predictions = torch.cat(logits_seen).argmax(1)
        hits = (predictions == self.ys[: len(predictions)]).double()
        per_step = torch.arange(len(hits), device=self.device) // bs
        h.batch_loss[first : self.step] = torch.stack(losses)
        h.batch_correct[first : self.step] = torch.zeros(done, dtype=torch.float64, device=self.device).index_add_(
            0, per_step, hits
        )
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.train_seconds += time.perf_counter() - start
        self.epoch += 1

    # -- checkpoints --------------------------------------------------------------------------------

    def state_dict(self) -> dict:
        h = self.history
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "generator": self.generator.get_state(),
            "epoch": self.epoch,
            "step": self.step,
            "stopped_early": self.stopped_early,
            "train_seconds": self.train_seconds,
            "batch_loss": h.batch_loss.cpu(),
            "batch_correct": h.batch_correct.cpu(),
            "val_step": list(h.val_step),
            "val_loss": list(h.val_loss),
            "val_error": list(h.val_error),
            "val_seconds": list(h.val_seconds),
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"].cpu())
        self.epoch, self.step = state["epoch"], state["step"]
        self.stopped_early, self.train_seconds = state["stopped_early"], state["train_seconds"]
        h = self.history
        h.batch_loss.copy_(state["batch_loss"])
        h.batch_correct.copy_(state["batch_correct"])
        h.val_step[:], h.val_loss[:], h.val_error[:] = state["val_step"], state["val_loss"], state["val_error"]
        h.val_seconds[:] = state["val_seconds"]

    # -- results ------------------------------------------------------------------------------------

    def results(self) -> dict:
        """Final metrics (validation after the last step) and the history that the plots use."""
        loss, error = evaluate(self.model, self.data.val)
        h, steps = self.history, self.step
        train_loss, train_error = h.cumulative(steps)
        stride = max(1, steps // TRAIN_CURVE_POINTS)
        keep = sorted(set(range(0, steps, stride)) | {s for s in h.val_step if s < steps} | {steps - 1})
        keep_t = torch.tensor(keep, device=train_loss.device)
        return {
            "steps": steps,
            "val_error": error.item(),
            "val_loss": loss.item(),
            "train_error": train_error[-1].item(),
            "train_loss": train_loss[-1].item(),
            "last_periodic_val_error": h.val_error[-1],
            "reached_target": self.stopped_early,
            "train_seconds": round(self.train_seconds, 3),
            "history": {
                "train": {
                    "step": keep,
                    "loss": train_loss[keep_t].tolist(),
                    "error": train_error[keep_t].tolist(),
                },
                "val": {
                    "step": h.val_step + [steps],
                    "loss": h.val_loss + [loss.item()],
                    "error": h.val_error + [error.item()],
                    "seconds": [round(t, 3) for t in h.val_seconds + [self.train_seconds]],
                },
            },
        }


# --------------------------------------------------------------------------------------------------
# Runs on disk: where they live, resuming them, finishing them


@dataclass
class RunResult:
    model: nn.Module
    metrics: dict
    run_dir: Path
    data: Mnist


def run_id(config: RunConfig, data_fingerprint: str) -> str:
    blob = json.dumps({**config.describe(), "data": data_fingerprint}, sort_keys=True).encode()
    return hashlib.sha1(blob).hexdigest()[:10]


def _differences(old: dict, new: dict) -> str:
    keys = sorted(set(old) | set(new))
    return ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys if old.get(k) != new.get(k))


def _announce_other_runs(model_dir: Path, this_run: Path, config: RunConfig) -> None:
    others = [p for p in (model_dir / "runs").glob("*/config.json") if p.parent != this_run]
    if not others or this_run.exists():
        return
    latest = max(others, key=lambda p: p.stat().st_mtime)
    old = checkpoints.load_json(latest).get("config", {})
    diff = _differences(old, asdict(config)) or "the data"
    print(f"A run with another configuration exists in {latest.parent} ({diff}); it is kept as it is. "
          f"Starting this configuration in its own folder {this_run}.")


def _set_aside(run_dir: Path, why: str) -> None:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    kept = run_dir.with_name(f"{run_dir.name}-replaced-{stamp}")
    run_dir.rename(kept)
    print(f"{why}: the earlier run was moved to {kept} (nothing deleted); starting afresh.")


def train(
    config: RunConfig,
    *,
    data_dir: str = "data",
    artifacts_dir: str | Path = "artifacts",
    device: str | torch.device = "auto",
    resume: bool = True,
    progress: bool = True,
    data: Mnist | None = None,
) -> RunResult:
    """Train (or resume, or just load) the run that ``config`` describes; return the model and metrics.

    Files: ``<artifacts_dir>/<model>/runs/<run id>/`` holds ``config.json``, ``checkpoint.pt`` (every
    epoch) and ``metrics.json``; ``<artifacts_dir>/<model>/metrics.json`` is a copy of the latest
    finished run's metrics. A finished run is loaded, not retrained, unless ``resume=False``.
    """
    check_resume(resume)
    device = pick_device(device)
    if data is None:
        data = load_mnist(data_dir, device, smoke=config.smoke, holdout=config.holdout)
    data = Mnist(data.train.to(device), data.val.to(device), data.description)
    recipe, data_id = config.recipe, fingerprint(data)
    rid = run_id(config, data_id)
    model_dir = Path(artifacts_dir) / config.model
    run_dir = model_dir / "runs" / rid
    ckpt_path = run_dir / "checkpoint.pt"
    _announce_other_runs(model_dir, run_dir, config)

    model = build_model(config.model, config.seed)
    trainer = Trainer(model, data, recipe, seed=config.seed, eval_every=config.eval_every,
                      target_error=config.target_error)
    if ckpt_path.exists() and not resume:
        _set_aside(run_dir, "resume=False")
    elif ckpt_path.exists():
        state = checkpoints.load_checkpoint(ckpt_path, device)
        if state.get("format") != CHECKPOINT_FORMAT or state.get("run_id") != rid:
            _set_aside(run_dir, f"{ckpt_path} belongs to another configuration")
        else:
            trainer.load_state_dict(state["trainer"])
            verb = "Loaded the finished run" if trainer.finished else "Resuming"
            print(f"{verb} from {ckpt_path} (epoch {trainer.epoch}/{recipe.epochs}, step {trainer.step:,}).")
    run_dir.mkdir(parents=True, exist_ok=True)
    description = {"config": asdict(config), "recipe": recipe.as_dict(), "data": data.description,
                   "data_fingerprint": data_id, "run_id": rid}
    checkpoints.save_json(description, run_dir / "config.json")

    bar = None
    if progress and not trainer.finished:
        from tqdm.auto import tqdm

        bar = tqdm(total=trainer.total_steps, initial=trainer.step, unit="step", mininterval=1.0,
                   desc=f"{config.model}", dynamic_ncols=True)
    while not trainer.finished:
        before = trainer.step
        trainer.fit_epoch()
        checkpoints.save_checkpoint({"format": CHECKPOINT_FORMAT, "run_id": rid, "trainer": trainer.state_dict()},
                                    ckpt_path)
        if bar is not None:
            bar.update(trainer.step - before)
            h = trainer.history
            bar.set_postfix(epoch=trainer.epoch, val_err=f"{h.val_error[-1]:.2f}%", refresh=False)
    if bar is not None:
        bar.close()

    metrics = {
        "model": config.model,
        "run_id": rid,
        "epochs": recipe.epochs,
        "batch_size": recipe.batch_size,
        "lr": recipe.lr,
        "eval_every": config.eval_every,
        "recipe": recipe.as_dict(),
        **trainer.results(),
        "parameters": count_parameters(model),
        "device": device.type,
        "device_name": device_name(device),
        "seed": config.seed,
        "smoke": config.smoke,
        "holdout": config.holdout,
        "target_error": config.target_error,
        "data": data.description,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
    }
    metrics["history"] = metrics.pop("history")  # keep the long lists at the end of the file
    _publish(metrics, run_dir, model_dir)
    return RunResult(model, metrics, run_dir, data)


def _publish(metrics: dict, run_dir: Path, model_dir: Path) -> None:
    checkpoints.save_json(metrics, run_dir / "metrics.json")
    latest = model_dir / "metrics.json"
    if latest.exists():
        previous = checkpoints.load_json(latest).get("run_id")
        if previous and previous != metrics["run_id"]:
            print(f"{latest} now describes run {metrics['run_id']}; run {previous} keeps its own copy "
                  f"in {model_dir / 'runs' / previous}.")
    checkpoints.save_json(metrics, latest)
