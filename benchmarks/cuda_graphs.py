"""A prototype for a GPU session to measure (issue 16): the post's recipe as replays of captured CUDA graphs.

Not used by the trainer: nothing of it has run on a GPU yet, and the series' GPU path must not change before it
has been measured. On a GPU the post's model is all overhead: a step is a dozen kernel launches of a few
microseconds of work each. A CUDA graph records the kernels of a block of steps once and replays them with one
launch. For that, every step must be the same device work:

- the batch is gathered from the epoch's shuffled copy (laid out as ``Trainer.batches`` does, the same shuffles) at a
  position kept in a device tensor, which the step itself advances;
- each step's loss and hits are written into the history at a step index kept on the device (the post's
  cumulative metrics come from those, as in ``Trainer.history``);
- the update is plain SGD at a constant learning rate (``p -= lr * grad``), the post's optimiser.

The validations stay outside the graphs, every ``eval_every`` steps; validating before a step instead of after its
backward pass sees the same weights only when the forward pass changes no state, so models with buffers (batch
norm) are refused. Graphs of 1, 2, 4, ... steps are captured once, and each stretch between validations is
replayed as a sum of them. Where CUDA is not there, the same steps run eagerly, which is how the CPU tests check
that this is the trainer's arithmetic (``tests/test_cuda_graphs.py``).

    python benchmarks/bench_cuda_graphs.py --data-dir .mnist          # on a GPU machine
"""

from __future__ import annotations

import time

import torch
from torch import nn
from torch.nn import functional as F

from helpers.data import Mnist
from helpers.evaluation import evaluate


def blocks(steps: int, largest: int) -> list[int]:
    """``steps`` as a sum of powers of two no larger than ``largest``, largest first: the graphs to replay."""
    out = []
    size = largest
    while steps:
        while size > steps:
            size //= 2
        out.append(size)
        steps -= size
    return out


class GraphedSteps:
    """The post's recipe (plain SGD, constant lr, batches of ``batch_size``) trained by replaying CUDA graphs."""

    def __init__(self, model: nn.Module, data: Mnist, *, epochs: int, batch_size: int, lr: float, seed: int = 0,
                 eval_every: int = 500, largest_block: int = 256):
        if any(True for _ in model.buffers()):
            raise ValueError("this prototype covers models whose forward pass changes no state (no batch norm)")
        if len(data.train) % batch_size:
            raise ValueError(f"{len(data.train)} training digits do not split into batches of {batch_size}: the "
                             "prototype has no short last batch")
        self.device = data.train.x.device
        self.model, self.data, self.lr = model.to(self.device), data, lr
        self.epochs, self.batch_size, self.eval_every = epochs, batch_size, eval_every
        self.generator = torch.Generator().manual_seed(seed)
        self.images, self.labels = torch.empty_like(data.train.x), torch.empty_like(data.train.y)
        self.steps_per_epoch = len(data.train) // batch_size
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        zeros = torch.zeros(epochs * self.steps_per_epoch, dtype=torch.float64, device=self.device)
        self.history = {"loss": zeros, "correct": zeros.clone(), "val_step": [], "val_loss": [], "val_error": []}
        self.position = torch.zeros((), dtype=torch.long, device=self.device)  # first sample of the next batch
        self.step_index = torch.zeros((), dtype=torch.long, device=self.device)
        self.offsets = torch.arange(batch_size, device=self.device)
        self.largest_block = largest_block
        self.graphs: dict[int, torch.cuda.CUDAGraph] = {}
        self.capture_seconds = 0.0
        self.train_seconds = 0.0  # validations included, capture not
        self.step = 0

    def lay_out(self) -> None:
        """The epoch's shuffled copy, drawn and gathered as ``Trainer.batches`` does."""
        order = torch.randperm(len(self.images), generator=self.generator).to(self.device)
        torch.index_select(self.data.train.x, 0, order, out=self.images)
        torch.index_select(self.data.train.y, 0, order, out=self.labels)

    def one_step(self) -> None:
        """Forward, loss, backward, update and bookkeeping, all on the device with no value read back."""
        rows = self.position + self.offsets
        x, y = self.images.index_select(0, rows), self.labels.index_select(0, rows)
        logits = self.model(x)
        loss = F.cross_entropy(logits, y)
        grads = torch.autograd.grad(loss, self.params)
        with torch.no_grad():
            for p, g in zip(self.params, grads, strict=True):
                p.add_(g, alpha=-self.lr)
            where = self.step_index.view(1)
            self.history["loss"].index_copy_(0, where, loss.detach().double().view(1))
            self.history["correct"].index_copy_(0, where, (logits.argmax(1) == y).sum().double().view(1))
            self.position.add_(self.batch_size)
            self.step_index.add_(1)

    def capture(self) -> None:
        """Record graphs of 1, 2, 4, ... ``largest_block`` steps (CUDA only). The warm-up steps that capture needs
        are undone: weights, position, step index and history come back as they were."""
        if self.device.type != "cuda" or self.graphs:
            return
        start = time.perf_counter()
        saved = [t.detach().clone() for t in (*self.params, self.position, self.step_index,
                                              self.history["loss"], self.history["correct"])]
        generator_state = self.generator.get_state()
        self.lay_out()  # an epoch's layout to warm up on; the generator is rewound below
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                self.position.zero_()
                self.one_step()
        torch.cuda.current_stream().wait_stream(side)
        pool = torch.cuda.graph_pool_handle()
        size = 1
        while size <= self.largest_block:
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, pool=pool):
                for _ in range(size):
                    self.one_step()
            self.graphs[size] = graph
            size *= 2
        with torch.no_grad():
            for t, s in zip((*self.params, self.position, self.step_index, self.history["loss"],
                             self.history["correct"]), saved, strict=True):
                t.copy_(s)
        self.generator.set_state(generator_state)
        torch.cuda.synchronize(self.device)
        self.capture_seconds = time.perf_counter() - start

    def _run(self, steps: int) -> None:
        for size in blocks(steps, self.largest_block):
            if self.graphs:
                self.graphs[size].replay()
            else:
                for _ in range(size):
                    self.one_step()
        self.step += steps

    def fit(self) -> None:
        """Every epoch: lay out the shuffled copy, then stretches of steps with a validation before every
        ``eval_every``-th step (the same weights the trainer validates after that step's backward pass)."""
        self.capture()
        start = time.perf_counter()
        for _ in range(self.epochs):
            self.lay_out()  # the epoch's shuffle, laid out in the same memory every epoch
            self.position.zero_()
            end = self.step + self.steps_per_epoch
            while self.step < end:
                if self.step % self.eval_every == 0:
                    self._validate()
                following = min(end, (self.step // self.eval_every + 1) * self.eval_every)
                self._run(following - self.step)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.train_seconds = time.perf_counter() - start

    def _validate(self) -> None:
        loss, error = evaluate(self.model, self.data.val)
        self.history["val_step"].append(self.step)
        self.history["val_loss"].append(loss.item())
        self.history["val_error"].append(error.item())
