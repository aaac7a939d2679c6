"""Training: the seed post's procedure, kept exactly, made fast, and made safe to interrupt.

What the post computes is kept: cross-entropy, the recipe's optimiser, a new shuffle every epoch,
validation over the whole validation set every ``eval_every`` steps (after the backward pass, before
the update, as the post does), and the post's training metrics: loss and error averaged over every
sample seen since step 0. Notebook 03 writes this loop in its own cells and checks that ``Trainer``
gives the same numbers.

What makes it fast: the data already lives on the device and a batch is a slice of the epoch's
permutation (``helpers.batches``), each step's loss and scores stay on the device and are tallied once
per epoch (no ``.item()`` in the loop), and evaluation runs in batches of 10,000 under inference mode.

What makes it safe: a checkpoint is written atomically at the end of every epoch; running again resumes
from it and finishes exactly as an uninterrupted run (``helpers.runs`` keeps the run folders).
"""

from __future__ import annotations

import math
import platform
import signal
import threading
import time
from collections import Counter
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from . import checkpoints
from .batches import Batches
from .config import ParameterError, RunConfig, check_flag
from .data import Mnist, fingerprint, load_mnist
from .environment import device_name, native_bf16, pick_device
from .evaluation import evaluate
from .models import MODELS, Recipe, build_model, count_parameters, default_recipe
from .runs import RunBusyError, RunFolder, check_artifacts_dir
from .step_threads import StepThreads

__all__ = ["ParameterError", "RunBusyError", "RunConfig", "Trainer", "TrainingDiverged", "build_optimizer", "train",
           "latest_run"]

TRAIN_CURVE_POINTS = 2000  # metrics.json keeps about this many points of the per-step training curve


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite: the learning rate is too large for this model."""


def build_optimizer(model: nn.Module, recipe: Recipe, total_steps: int):
    """The recipe's optimiser (SGD, with momentum and weight decay when the recipe has them; or Adam) and its
    learning-rate schedule (None for a constant rate). Taught in notebook 05, section 3 (written out for the CNN
    and checked against this function); notebook 03, section 3 uses plain ``torch.optim.SGD``, the post's case."""
    if recipe.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                                    nesterov=recipe.nesterov, weight_decay=recipe.weight_decay)
    elif recipe.optimizer == "adam":  # cnn_fast's (notebook 05, section 10)
        optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr, betas=recipe.betas,
                                     weight_decay=recipe.weight_decay)
    else:
        raise ValueError(f"recipe optimizer {recipe.optimizer!r} is unknown: use 'sgd' or 'adam'")
    if recipe.schedule == "constant":
        return optimizer, None
    if recipe.schedule == "onecycle":  # a linear warm-up to lr, then a linear decay to almost 0
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
    val_seconds: list[float] = field(default_factory=list)  # training time before each validation, scoring excluded

    def cumulative(self, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The post's training metrics for steps 0..steps-1: loss and error (%) over all samples seen so far.
        Taught in notebook 03, sections 2 (the definition) and 3 (the running sums, checked against this)."""
        seen = self.batch_size[:steps].cumsum(0)
        loss = (self.batch_loss[:steps] * self.batch_size[:steps]).cumsum(0) / seen
        error = (1 - self.batch_correct[:steps].cumsum(0) / seen) * 100
        return loss, error


class Trainer:
    """Trains one model on data that is already on its device: ``fit()`` runs every epoch of the recipe.
    Checkpoints come from ``state_dict`` and go back in with ``load_state_dict``.

    The fast version of the loop that notebook 03, section 3 writes out; that section checks that both give the
    same numbers for one epoch."""

    def __init__(self, model: nn.Module, data: Mnist, recipe: Recipe, *, seed: int = 0, eval_every: int = 500,
                 target_error: float | None = None, threads: int | str | None = None):
        self.device = data.device
        self.threads = threads if self.device.type == "cpu" else None  # the steps' CPU threads: n, "auto" or None
        self.step_threads = StepThreads(self.threads, not_counted=lambda: self.eval_seconds)
        self.model, self.data, self.recipe = model.to(self.device), data, recipe
        self.eval_every, self.target_error = eval_every, target_error
        self.generator = torch.Generator().manual_seed(seed)  # CPU: the same shuffles on every device
        self.batches = Batches(data.train, recipe.batch_size, self.generator, recipe.shift)
        self.total_steps = recipe.epochs * len(self.batches)
        self.optimizer, self.scheduler = build_optimizer(self.model, recipe, self.total_steps)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.plain_sgd = (recipe.optimizer == "sgd" and recipe.momentum == 0 and recipe.weight_decay == 0
                          and self.scheduler is None)
        self.precision = "bf16" if recipe.bf16 and native_bf16(self.device) else "fp32"
        bf16 = torch.autocast(self.device.type, dtype=torch.bfloat16)
        self.autocast = bf16 if self.precision == "bf16" else nullcontext()
        zeros = torch.zeros(self.total_steps, dtype=torch.float64, device=self.device)
        sizes = self.batches.sizes().repeat(recipe.epochs).to(self.device)
        self.history = History(zeros, zeros.clone(), sizes)
        self.epoch = 0  # epochs completed
        self.step = 0  # optimiser steps taken
        self.train_seconds = 0.0  # the loop's time, validations included
        self.eval_seconds = 0.0  # of which scoring the model
        self.stopped_early = False
        self.progress = None  # anything with .update(): a progress bar, moved every step

    @property
    def finished(self) -> bool:
        return self.epoch >= self.recipe.epochs or self.stopped_early

    def fit(self, after_epoch=None) -> None:
        """Train to the end of the recipe (or to ``target_error``); ``after_epoch(trainer)`` runs after each epoch."""
        while not self.finished:
            self.fit_epoch()
            if after_epoch is not None:
                after_epoch(self)

    def fit_epoch(self) -> None:
        """One epoch, on the trainer's CPU threads (``threads``: a number, or "auto": timed while training, see
        ``helpers.step_threads``); the caller's setting comes back afterwards."""
        start = time.perf_counter()
        if self.device.type != "cpu":
            self._epoch(iter(self.batches), start)  # iter() lays out the epoch's shuffled copy
            return
        with self.step_threads.epoch(self.batches, self.step) as steps:
            self._epoch(steps, start)

    def _epoch(self, batches, start: float) -> None:
        """One epoch of the post's loop: forward, loss, backward, (validate), update."""
        first = self.step
        losses, scores = [], []  # kept on the device: no host sync per step
        self.model.train()
        for x, y in batches:
            with self.autocast:
                logits = self.model(x)
                loss = F.cross_entropy(logits, y, label_smoothing=self.recipe.label_smoothing)
            for p in self.params:  # optimizer.zero_grad()
                p.grad = None
            loss.backward()
            losses.append(loss.detach())
            scores.append(logits.detach())
            if self.step % self.eval_every == 0:
                self._validate(start)  # before the update, like the post
            self._update()
            self.step += 1
            if self.progress is not None:
                self.progress.update()
            if self.stopped_early:
                break
        self._record_epoch(first, losses, scores)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.train_seconds += time.perf_counter() - start
        self.epoch += 1

    def _update(self) -> None:
        """``optimizer.step()`` and the schedule's step. For plain SGD at a constant learning rate (the post's
        optimiser) the update ``w -= lr * grad`` is written out: the same numbers as ``torch.optim.SGD`` (a test
        checks it bit for bit) without its per-call bookkeeping, which costs as much as this tiny model's step.
        Notebook 03, section 3 shows ``optimizer.step()`` and the same update by hand."""
        if self.plain_sgd:
            with torch.no_grad():
                for p in self.params:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-self.recipe.lr)
            return
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()

    def _validate(self, epoch_start: float) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)  # the steps so far count as training, not as scoring
        begin = time.perf_counter()
        with self.step_threads.between_steps():  # not on a probe's trial count
            loss, error = evaluate(self.model, self.data.val)
        h = self.history
        h.val_step.append(self.step)
        h.val_loss.append(loss.item())  # one sync per validation, never per step
        h.val_error.append(error.item())
        h.val_seconds.append(self.train_seconds + begin - epoch_start - self.eval_seconds)  # scoring not counted
        self.eval_seconds += time.perf_counter() - begin
        if not math.isfinite(h.val_loss[-1]):
            self._diverged(self.step, h.val_loss[-1], "validation loss")
        if self.target_error is not None and h.val_error[-1] <= self.target_error:
            self.stopped_early = True

    def _record_epoch(self, first: int, losses: list, scores: list) -> None:
        """The epoch's per-step loss and hits, computed in a few large operations instead of once per step."""
        losses = torch.stack(losses).double()
        hits = (torch.cat(scores).argmax(1) == self.batches.labels[: sum(len(s) for s in scores)]).double()
        step_of_sample = torch.arange(len(hits), device=self.device) // self.recipe.batch_size
        h = self.history
        h.batch_loss[first : self.step] = losses
        h.batch_correct[first : self.step] = torch.zeros_like(losses).index_add_(0, step_of_sample, hits)
        finite = torch.isfinite(losses)
        if not finite.all():  # one sync per epoch
            bad = int((~finite).nonzero()[0])
            self._diverged(first + bad, losses[bad].item(), "training loss")

    def _diverged(self, step: int, value: float, what: str) -> None:
        raise TrainingDiverged(f"training diverged: the {what} became {value} at step {step:,} with lr "
                               f"{self.recipe.lr}. Fix: use a smaller lr")

    # -- checkpoints --------------------------------------------------------------------------------

    def state_dict(self) -> dict:
        h = self.history
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "generator": self.generator.get_state(),
            "epoch": self.epoch,
            "epochs": self.recipe.epochs,
            "step": self.step,
            "stopped_early": self.stopped_early,
            "train_seconds": self.train_seconds,
            "eval_seconds": self.eval_seconds,
            "precision": self.precision,
            "step_threads": self.step_threads.state_dict(),
            "batch_loss": h.batch_loss.cpu(),
            "batch_correct": h.batch_correct.cpu(),
            "val": [h.val_step, h.val_loss, h.val_error, h.val_seconds],
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"].cpu())
        self.epoch, self.step = state["epoch"], state["step"]
        self.stopped_early, self.train_seconds = state["stopped_early"], state["train_seconds"]
        self.eval_seconds = state["eval_seconds"]
        if "step_threads" in state:  # checkpoints written before the timed choice have none
            self.step_threads.load_state_dict(state["step_threads"])
        h = self.history
        h.batch_loss.copy_(state["batch_loss"])
        h.batch_correct.copy_(state["batch_correct"])
        h.val_step, h.val_loss, h.val_error, h.val_seconds = (list(v) for v in state["val"])

    # -- results ------------------------------------------------------------------------------------

    def _threads_report(self) -> dict | None:
        """On a CPU: the thread setting, how many steps ran with each count and what the probes chose."""
        if self.device.type != "cpu":
            return None
        st = self.step_threads
        return {"setting": st.threads, "steps_on": {str(n): st.steps_on[n] for n in sorted(st.steps_on)},
                "probes": len(st.probes), "chosen": {str(n): c for n, c in sorted(Counter(
                    p["chosen"] for p in st.probes).items())}}

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
            "eval_seconds": round(self.eval_seconds, 3),
            "precision": self.precision,
            "cpu_threads": self._threads_report(),
            "history": {
                "train": {"step": keep, "loss": train_loss[keep_t].tolist(), "error": train_error[keep_t].tolist()},
                "val": {
                    "step": h.val_step + [steps],
                    "loss": h.val_loss + [loss.item()],
                    "error": h.val_error + [error.item()],
                    "seconds": [round(t, 3) for t in h.val_seconds + [self.train_seconds - self.eval_seconds]],
                },
            },
        }


# --------------------------------------------------------------------------------------------------
# A run: data, model, trainer and run folder together


@dataclass
class RunResult:
    model: nn.Module
    metrics: dict
    run_dir: Path
    data: Mnist


@contextmanager
def _sigterm_as_interrupt():
    """While training, SIGTERM (a stopped job, a closing terminal) ends the run like the stop button does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def train(
    config: RunConfig,
    *,
    data_dir: str = "data",
    artifacts_dir: str | Path = "artifacts",
    device: str | torch.device = "auto",
    resume: bool = True,
    progress: bool = True,
    data: Mnist | None = None,
    threads: int | str | None = None,
) -> RunResult:
    """Train (or resume, or just load) the run that ``config`` describes; return the model and metrics.

    A finished run is loaded, not retrained, unless ``resume=False`` (which moves the earlier run aside).
    Taught in notebook 03, section 4. See ``helpers.runs`` for the files. ``threads``: CPU threads for the
    training steps, a number or "auto" (timed while training: ``helpers.step_threads``); None: the model's own
    choice, ``MODELS[name].cpu_threads``. ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` in the environment win.
    """
    check_flag("resume", resume)
    check_flag("progress", progress)
    if threads not in (None, "auto") and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ParameterError(f"threads={threads!r} is not accepted: threads must be a whole number >= 1, 'auto' "
                             "(timed while training) or None (the model's own choice)")
    device = pick_device(device)
    artifacts_dir = check_artifacts_dir(artifacts_dir)
    if data is None:
        data = load_mnist(data_dir, device, smoke=config.smoke, holdout=config.holdout)
    elif (data.smoke, data.holdout) != (config.smoke, config.holdout):
        raise ParameterError(f"data was loaded with smoke={data.smoke}, holdout={data.holdout} but the config says "
                             f"smoke={config.smoke}, holdout={config.holdout}: load it with the config's values")
    data = data.to(device)
    model = build_model(config.model, config.seed)
    trainer = Trainer(model, data, config.recipe, seed=config.seed, eval_every=config.eval_every,
                      target_error=config.target_error, threads=threads or MODELS[config.model].cpu_threads)
    data_fingerprint = fingerprint(data)
    run = RunFolder(artifacts_dir, config, data_fingerprint)
    with run.claimed(), _sigterm_as_interrupt():
        if not resume and any(run.path.iterdir()):
            run.set_aside("resume=False")
        state = run.load_state(device, trainer.precision)
        if state is not None:
            trainer.load_state_dict(state)
            verb = "Loaded the finished run" if trainer.finished else "Resuming"
            print(f"{verb} from {run.checkpoint} (epoch {trainer.epoch}/{trainer.recipe.epochs}, "
                  f"step {trainer.step:,}).")
        else:
            print(f"Training {config.model} in {run.path} (other runs of {config.model} are kept as they are).")
        metrics = run.finished_metrics() if trainer.finished else None
        if metrics is None:
            run.write_config({"config": asdict(config), "recipe": trainer.recipe.as_dict(),
                              "data": data.description, "data_fingerprint": data_fingerprint})
            _fit_with_checkpoints(trainer, run, config, progress)
            metrics = _metrics(config, trainer, run, data)
            if not math.isfinite(metrics["val_loss"]):  # the very last update blew up
                raise TrainingDiverged(f"training diverged: the validation loss after the last step is "
                                       f"{metrics['val_loss']} with lr {trainer.recipe.lr}. Fix: use a smaller lr")
        run.publish(metrics)
    return RunResult(model, metrics, run.path, data)


def _fit_with_checkpoints(trainer: Trainer, run: RunFolder, config: RunConfig, progress: bool) -> None:
    if progress and not trainer.finished:
        from tqdm.auto import tqdm

        trainer.progress = tqdm(total=trainer.total_steps, initial=trainer.step, unit="step", mininterval=0.5,
                                desc=config.model, dynamic_ncols=True)

    def after_epoch(t: Trainer) -> None:
        run.save_state(t.state_dict())
        if t.progress is not None:
            t.progress.set_postfix(epoch=t.epoch, val_err=f"{t.history.val_error[-1]:.2f}%")

    try:
        trainer.fit(after_epoch)
    except TrainingDiverged as err:
        default = default_recipe(config.model).lr
        raise TrainingDiverged(f"{err} (the {config.model} recipe's own lr is {default}: lr=None uses it). The run "
                               f"is not finished; its last good epoch, if any, stays in {run.checkpoint}") from None
    except KeyboardInterrupt:
        saved = (f"the checkpoint of epoch {trainer.epoch} is kept in {run.checkpoint}" if trainer.epoch
                 else "no epoch had finished, so nothing was saved")
        print(f"\nInterrupted at step {trainer.step:,}: {saved}. Run the same cell or command again to resume.")
        raise
    finally:
        if trainer.progress is not None:
            trainer.progress.close()
            trainer.progress = None


def _metrics(config: RunConfig, trainer: Trainer, run: RunFolder, data: Mnist) -> dict:
    recipe, results = trainer.recipe, trainer.results()
    history = results.pop("history")
    return {
        "model": config.model,
        "run_id": run.id,
        "epochs": recipe.epochs,
        "batch_size": recipe.batch_size,
        "lr": recipe.lr,
        "eval_every": config.eval_every,
        "recipe": recipe.as_dict(),
        **results,
        "parameters": count_parameters(trainer.model),
        "device": trainer.device.type,
        "device_name": device_name(trainer.device),
        "seed": config.seed,
        "smoke": config.smoke,
        "holdout": config.holdout,
        "target_error": config.target_error,
        "data": data.description,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "history": history,  # the long lists last
    }


def latest_run(artifacts_dir: str | Path, model: str, *, data_dir: str = "data", device: str | torch.device = "auto",
               data: Mnist | None = None) -> RunResult | None:
    """The latest finished run of ``model`` under ``artifacts_dir`` (what ``<artifacts_dir>/<model>/metrics.json``
    describes), loaded from its checkpoint with its own configuration; None when no run of it has finished.
    Used by notebook 04, section 1."""
    latest = Path(artifacts_dir).expanduser() / model / "metrics.json"
    if not latest.exists():
        return None
    run_dir = latest.parent / "runs" / checkpoints.load_json(latest)["run_id"]
    config = RunConfig(**checkpoints.load_json(run_dir / "config.json")["config"])
    if data is not None and (data.smoke, data.holdout) != (config.smoke, config.holdout):
        data = None  # the run was trained on other data: load that
    return train(config, data_dir=data_dir, artifacts_dir=artifacts_dir, device=device, progress=False, data=data)
