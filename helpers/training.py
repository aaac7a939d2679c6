"""Training: the seed post's loop, kept exactly (cross-entropy, a new shuffle every epoch, validation every
``eval_every`` steps between the backward pass and the update, the post's cumulative training metrics), made fast
(``Trainer``) and safe to interrupt (``train``). Notebook 03 writes the loop out and checks both against it."""

from __future__ import annotations

import math
import platform
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from . import plots
from .config import FLAG, ParameterError, RunConfig, check
from .data import Mnist, fingerprint, load_mnist, shift_images
from .environment import cpu_threads, device_name, native_bf16, pick_device
from .evaluation import evaluate
from .models import MODELS, Recipe, build_model, count_parameters
from .runs import RunFolder, check_artifacts_dir, load_checkpoint, load_json


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite: the learning rate is too large for this model."""


def build_optimizer(model: nn.Module, recipe: Recipe, total_steps: int):
    """The recipe's optimiser (SGD, with momentum and weight decay when the recipe has them; or Adam) and its
    learning-rate schedule (None for a constant rate)."""
    if recipe.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                                    nesterov=recipe.nesterov, weight_decay=recipe.weight_decay)
    elif recipe.optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr, betas=recipe.betas,
                                     weight_decay=recipe.weight_decay)
    else:
        raise ValueError(f"recipe optimizer {recipe.optimizer!r} is unknown: use 'sgd' or 'adam'")
    if recipe.schedule == "constant":
        return optimizer, None
    if recipe.schedule == "onecycle":  # a linear warm-up to lr, then a linear decay to almost 0
        return optimizer, torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=recipe.lr, total_steps=total_steps, pct_start=recipe.warmup,
            anneal_strategy="linear", cycle_momentum=False, div_factor=10.0, final_div_factor=100.0)
    raise ValueError(f"recipe schedule {recipe.schedule!r} is unknown: use 'constant' or 'onecycle'")


def cumulative(history: dict, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The post's training metrics after each of the first ``steps`` steps: loss and error (%) over every sample
    seen since step 0."""
    seen = history["size"][:steps].cumsum(0)
    loss = (history["loss"][:steps] * history["size"][:steps]).cumsum(0) / seen
    return loss, 100 * (1 - history["correct"][:steps].cumsum(0) / seen)


class Trainer:
    """Trains a model on data that already lives on its device; ``fit()`` runs the recipe to its end.

    The loop of notebook 03, section 3, made fast: an epoch's batches are slices of one shuffled copy of the
    training set; each step's loss and scores stay on the device and are tallied once per epoch (nothing is read
    back per step); validation scores the whole split in large batches; plain SGD updates each weight with one
    ``add_``. ``seconds`` is the training time so far, scoring left out."""

    def __init__(self, model: nn.Module, data: Mnist, recipe: Recipe, *, seed: int = 0, eval_every: int = 500,
                 threads: int | None = None):
        self.model, self.data, self.recipe, self.device = model.to(data.device), data, recipe, data.device
        self.eval_every, self.threads = eval_every, threads  # threads: CPU threads (None: as they are)
        self.threads_used = None  # what fit() trained on (OMP_NUM_THREADS wins over threads)
        self.generator = torch.Generator().manual_seed(seed)  # on the CPU: the same shuffles on every device
        per_epoch = math.ceil(len(data.train) / recipe.batch_size)
        self.total_steps = recipe.epochs * per_epoch
        self.optimizer, self.scheduler = build_optimizer(self.model, recipe, self.total_steps)
        self.params = list(self.model.parameters())
        self.plain_sgd = recipe.optimizer == "sgd" and not (recipe.momentum or recipe.weight_decay or self.scheduler)
        self.precision = "bf16" if recipe.bf16 and native_bf16(self.device) else "fp32"
        self.autocast = torch.autocast(self.device.type, torch.bfloat16) if self.precision == "bf16" else nullcontext()
        self.x, self.y = torch.empty_like(data.train.x), torch.empty_like(data.train.y)  # the epoch's shuffled copy
        size = torch.full((per_epoch,), float(recipe.batch_size), dtype=torch.float64)
        size[-1] = len(data.train) - recipe.batch_size * (per_epoch - 1)
        zeros = torch.zeros(self.total_steps, dtype=torch.float64, device=self.device)
        self.history = {"loss": zeros, "correct": zeros.clone(), "size": size.repeat(recipe.epochs).to(self.device),
                        "val_step": [], "val_loss": [], "val_error": [], "val_seconds": []}
        self.epoch = self.step = 0
        self.seconds = 0.0
        self.show, self.show_every, self.show_at = None, 0.5, 0.0  # show(trainer): progress, after each validation
        # and every show_every seconds (a bar, a live figure), counted on the host, off the training clock

    def fit(self, after_epoch=None) -> None:
        """Train to the end of the recipe; ``after_epoch(trainer)`` runs after each epoch (a checkpoint)."""
        with cpu_threads(self.threads if self.device.type == "cpu" else None):
            self.threads_used = torch.get_num_threads()
            while self.epoch < self.recipe.epochs:
                self.train_epoch()
                if after_epoch is not None:
                    after_epoch(self)

    def train_epoch(self) -> None:
        """One epoch of the post's loop: forward, loss, backward, validate (every ``eval_every`` steps), update."""
        start, first, losses, scores = self.clock(), self.step, [], []
        self.model.train()
        for x, y in self.batches():
            with self.autocast:
                logits = self.model(x)
                loss = F.cross_entropy(logits, y, label_smoothing=self.recipe.label_smoothing)
            for p in self.params:  # optimizer.zero_grad() without its bookkeeping: a sixth of the post's tiny step
                p.grad = None
            loss.backward()
            losses.append(loss.detach())  # kept on the device: no host sync per step
            scores.append(logits.detach())
            if self.step % self.eval_every == 0:  # after the backward pass, before the update, like the post
                start = self.off_the_clock(start, self.validate)
            self.update()
            self.step += 1
            if self.show is not None and time.monotonic() >= self.show_at:
                start = self.off_the_clock(start, self.report)
        self.tally(first, losses, scores)
        self.seconds += self.clock() - start
        self.epoch += 1

    def batches(self):
        """The epoch's order (one permutation) laid out with one gather; each batch is a slice of that copy. With
        the recipe's ``shift``, each image also moves by its own random offset (drawn right after the order)."""
        order, s, b = torch.randperm(len(self.x), generator=self.generator), self.recipe.shift, self.recipe.batch_size
        shifts = torch.randint(-s, s + 1, (len(order), 2), generator=self.generator).to(self.device) if s else None
        order = order.to(self.device)
        torch.index_select(self.data.train.x, 0, order, out=self.x)
        torch.index_select(self.data.train.y, 0, order, out=self.y)
        for i in range(0, len(order), b):
            yield (shift_images(self.x[i : i + b], shifts[i : i + b], s) if s else self.x[i : i + b]), self.y[i : i + b]

    def update(self) -> None:
        """``optimizer.step()``, and the schedule's step. For plain SGD at a constant rate, ``w -= lr * w.grad`` is
        written out: the same numbers as ``torch.optim.SGD`` (a test checks it bit for bit) without its per-call
        bookkeeping, which costs as much as the post's whole tiny step."""
        if not self.plain_sgd:
            self.optimizer.step()
            if self.scheduler is not None:
                self.scheduler.step()
            return
        with torch.no_grad():
            for p in self.params:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-self.recipe.lr)

    def validate(self) -> None:
        """Score the model on the whole validation split (one sync), noting the training seconds so far."""
        loss, error = (value.item() for value in evaluate(self.model, self.data.val))
        for key, value in zip(("val_step", "val_loss", "val_error", "val_seconds"),
                              (self.step, loss, error, self.seconds)):
            self.history[key].append(value)
        if not math.isfinite(loss):
            self.diverged(self.step, loss, "validation loss")
        self.report()

    def report(self) -> None:
        """Show the progress so far, if anyone is watching, and note when to show it next."""
        if self.show is not None:
            self.show(self)
        self.show_at = time.monotonic() + self.show_every

    def off_the_clock(self, start: float, work) -> float:
        """Count the training time since ``start``, then run ``work()`` (scoring, drawing) uncounted; a new start."""
        self.seconds += self.clock() - start
        work()
        return self.clock()

    def tally(self, first: int, losses: list, scores: list) -> None:
        """The epoch's per-step loss and hits, in a few large operations; one sync to catch a blow-up."""
        losses = torch.stack(losses).double()
        hits = (torch.cat(scores).argmax(1) == self.y[: sum(map(len, scores))]).double()
        step_of_sample = torch.arange(len(hits), device=self.device) // self.recipe.batch_size
        self.history["loss"][first : self.step] = losses
        self.history["correct"][first : self.step] = torch.zeros_like(losses).index_add_(0, step_of_sample, hits)
        bad = (~torch.isfinite(losses)).nonzero().flatten().tolist()
        if bad:
            self.diverged(first + bad[0], losses[bad[0]].item(), "training loss")

    def clock(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)  # the work queued so far counts where it was queued
        return time.perf_counter()

    def diverged(self, step: int, value: float, what: str):
        raise TrainingDiverged(f"training diverged: the {what} became {value} at step {step:,} with lr "
                               f"{self.recipe.lr}. Fix: use a smaller lr")


# --------------------------------------------------------------------------------------------------
# A run: data, model, trainer and run folder together


@dataclass
class RunResult:
    model: nn.Module
    metrics: dict
    run_dir: Path
    data: Mnist


def train(config: RunConfig, *, data_dir: str = "data", artifacts_dir: str | Path = "artifacts",
          device: str | torch.device = "auto", resume: bool = True, progress: bool = True,
          data: Mnist | None = None) -> RunResult:
    """Train, resume or just load the run ``config`` describes: parameters and paths checked first, then the run
    folder (``helpers.runs``), the checkpoint to resume from, the recipe to its end with a checkpoint after every
    epoch, the metrics. A finished run is loaded, not retrained; ``resume=False`` moves an earlier run aside.
    ``progress``: the error figure drawn live in a notebook, a progress bar elsewhere."""
    check("resume", resume, FLAG)
    check("progress", progress, FLAG)
    device, artifacts_dir = pick_device(device), check_artifacts_dir(artifacts_dir)
    if data is None:
        data = load_mnist(data_dir, device, smoke=config.smoke)
    elif data.smoke != config.smoke:
        raise ParameterError(f"data was loaded with smoke={data.smoke} but the config says smoke={config.smoke}: "
                             "load it with the config's value")
    data = data.to(device)
    trainer = Trainer(build_model(config.model, config.seed), data, config.recipe, seed=config.seed,
                      eval_every=config.eval_every, threads=MODELS[config.model].cpu_threads)
    run = RunFolder(artifacts_dir, config.model, {**config.describe(), "data": fingerprint(data)})
    with run.claimed():
        if not resume:
            run.set_aside("resume=False")
        checkpoint = run.load(device, trainer.precision)
        if checkpoint is not None:
            _restore(trainer, checkpoint)
            verb = "Loaded the finished run" if trainer.epoch == config.recipe.epochs else "Resuming"
            print(f"{verb} from {run.checkpoint} (epoch {trainer.epoch}/{config.recipe.epochs}, "
                  f"step {trainer.step:,}).")
        else:
            print(f"Training {config.model} in {run.path} (other runs of {config.model} are kept as they are).")
        metrics = run.finished_metrics() if trainer.epoch == config.recipe.epochs else None
        finished_now = metrics is None
        if finished_now:
            metrics = _metrics(config, trainer, run, _fit(trainer, run, progress))
        run.publish(metrics, finished_now)
    return RunResult(trainer.model, metrics, run.path, data)


def _fit(trainer: Trainer, run: RunFolder, progress: bool) -> tuple[float, float]:
    """``trainer.fit()`` with a checkpoint after every epoch, progress shown, and what to do when it stops; returns
    the validation loss and error after the last step."""
    live = plots.LiveErrors(trainer.total_steps, f"{run.config['model']}: training and validation error") if progress \
        else None
    per_epoch = trainer.total_steps // trainer.recipe.epochs

    def curve() -> tuple[list, list]:  # read from the device only when a figure is drawn
        tallied = min(trainer.step, trainer.epoch * per_epoch)  # the training curve is tallied once per epoch
        every = list(range(0, tallied, max(1, tallied // 1000)))
        every += [tallied - 1] if every and every[-1] != tallied - 1 else []  # up to the last tallied step
        return every, cumulative(trainer.history, tallied)[1][every].tolist()

    def show(t: Trainer) -> None:
        live.update(t.step, t.history["val_step"], t.history["val_error"], curve)

    def after_epoch(t: Trainer) -> None:
        run.save(_checkpoint(t))
        t.report()

    trainer.show = show if live is not None else None
    try:
        trainer.fit(after_epoch)
        loss, error = (value.item() for value in evaluate(trainer.model, trainer.data.val))
        if not math.isfinite(loss):  # the very last update blew up
            trainer.diverged(trainer.step, loss, "validation loss after the last step")
        if live is not None:  # the figure's last state shows the validation after the last step too
            live.update(trainer.step, [*trainer.history["val_step"], trainer.step],
                        [*trainer.history["val_error"], error], curve)
        return loss, error
    except TrainingDiverged as err:
        own = MODELS[run.config["model"]].recipe.lr
        raise TrainingDiverged(f"{err} (the {run.config['model']} recipe's own lr is {own}: lr=None uses it). The run "
                               f"is not finished; its last good epoch, if any, stays in {run.checkpoint}") from None
    except KeyboardInterrupt:
        saved = (f"the checkpoint of epoch {trainer.epoch} is kept in {run.checkpoint}" if trainer.epoch
                 else "no epoch had finished, so nothing was saved")
        print(f"\nInterrupted at step {trainer.step:,}: {saved}. Run the same cell or command again to resume.")
        raise
    finally:
        trainer.show = None
        if live is not None:
            live.close()


def _checkpoint(t: Trainer) -> dict:
    """Everything a run needs to go on exactly where it stopped, as one flat dict (``RunFolder.save`` adds config)."""
    return {"model": t.model.state_dict(), "optimizer": t.optimizer.state_dict(),
            "scheduler": t.scheduler.state_dict() if t.scheduler is not None else None,
            "generator": t.generator.get_state(), "epoch": t.epoch, "step": t.step, "seconds": t.seconds,
            "precision": t.precision,
            "history": {k: v.cpu() if isinstance(v, torch.Tensor) else v for k, v in t.history.items()}}


def _restore(t: Trainer, checkpoint: dict) -> None:
    t.model.load_state_dict(checkpoint["model"])
    t.optimizer.load_state_dict(checkpoint["optimizer"])
    if t.scheduler is not None:
        t.scheduler.load_state_dict(checkpoint["scheduler"])
    t.generator.set_state(checkpoint["generator"].cpu())
    t.epoch, t.step, t.seconds = checkpoint["epoch"], checkpoint["step"], checkpoint["seconds"]
    t.history = {k: v.to(t.device) if isinstance(v, torch.Tensor) else v for k, v in checkpoint["history"].items()}


def _metrics(config: RunConfig, t: Trainer, run: RunFolder, final: tuple[float, float]) -> dict:
    """What ``metrics.json`` records: the final numbers (validation scored after the last step), the recipe, the
    machine, and about 2,000 points of the training curve with every validation, for the plots."""
    (loss, error), h, steps = final, t.history, t.step
    train_loss, train_error = cumulative(h, steps)
    keep = sorted(set(range(0, steps, max(1, steps // 2000))) | set(h["val_step"]) | {steps - 1})
    index = torch.tensor(keep, device=train_loss.device)
    return {
        "model": config.model, "run_id": run.id, "epochs": t.recipe.epochs, "batch_size": t.recipe.batch_size,
        "lr": t.recipe.lr, "eval_every": config.eval_every, "recipe": t.recipe.as_dict(), "steps": steps,
        "val_error": error, "val_loss": loss, "train_error": train_error[-1].item(),
        "train_loss": train_loss[-1].item(),
        "train_seconds": round(t.seconds, 3), "precision": t.precision, "parameters": count_parameters(t.model),
        "device": t.device.type, "device_name": device_name(t.device, t.threads_used), "seed": config.seed,
        "smoke": config.smoke, "data": t.data.description,
        "torch_version": torch.__version__, "python_version": platform.python_version(),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "history": {  # the long lists last
            "train": {"step": keep, "loss": train_loss[index].tolist(), "error": train_error[index].tolist()},
            "val": {"step": h["val_step"] + [steps], "loss": h["val_loss"] + [loss], "error": h["val_error"] + [error],
                    "seconds": [round(s, 3) for s in h["val_seconds"] + [t.seconds]]},
        },
    }


def load_run(artifacts_dir: str | Path, model: str, *, data_dir: str = "data", device: str | torch.device = "auto",
             data: Mnist | None = None) -> RunResult | None:
    """The latest finished run of ``model`` (``<artifacts_dir>/<model>/metrics.json``), read only: its metrics and
    its trained model, and the data it was trained on. No lock is taken and nothing is trained or written. None
    when no run of ``model`` has finished."""
    latest = Path(artifacts_dir).expanduser() / model / "metrics.json"
    if not latest.exists():
        return None
    metrics = load_json(latest)
    device = pick_device(device)
    run_dir = latest.parent / "runs" / metrics["run_id"]
    net = build_model(model, metrics["seed"]).to(device)
    net.load_state_dict(load_checkpoint(run_dir / "checkpoint.pt", device)["model"])
    if data is None or data.smoke != metrics["smoke"]:
        data = load_mnist(data_dir, device, smoke=metrics["smoke"])
    return RunResult(net.eval(), metrics, run_dir, data.to(device))
