"""How many CPU threads the training steps run on: a fixed number, or the faster of one and all, timed as it trains.

Why time it: on a quiet machine a convolution's step runs about 1.5 times faster on two cores than on one, but
beside another busy process (a second notebook, a browser at work) every one of the step's many parallel regions
waits for the thread that the operating system has just descheduled, and the same step runs 2.5 to 3 times slower
than quiet (``benchmarks/bench_cpu.py`` measures both). Neither fixed choice is right on a learner's laptop, whose
load comes and goes, so ``StepThreads("auto")`` measures: it runs a short probe that alternates the candidates,
a few steps each, and keeps the faster until the next probe, ``every`` steps later, or up to four times that
while the probes keep confirming the choice (a probe's slower steps are its cost on a steady machine).

Probes start at step numbers that depend only on the choices made, so on a quiet machine a rerun probes at the
same steps and makes the same choices. The thread count can
change the last bits of a convolution's results (oneDNN splits its sums by thread), never the recipe: pass a number
of threads for runs that must match bit for bit. A thread count in the environment (``OMP_NUM_THREADS`` or
``MKL_NUM_THREADS``) is the user's choice and wins over everything here.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import torch

from .environment import THREAD_VARIABLES

AUTO = "auto"


class StepThreads:
    """Sets the intra-op thread count before each training step and gives the caller's back after the epoch.

    ``threads``: a number (always that many), ``None`` (the caller's setting, untouched) or ``"auto"`` (timed:
    the faster of 1 and the caller's count). ``steps_on`` counts the steps run with each thread count.
    ``not_counted()`` returns the seconds, so far, spent on work that is not a step (the validations): a probe
    leaves them out. ``clock`` is for tests.
    """

    def __init__(self, threads: int | str | None, *, every: int = 200, block: int = 3,
                 not_counted: Callable[[], float] = lambda: 0.0, clock: Callable[[], float] = time.perf_counter):
        if threads is not None and threads != AUTO and (isinstance(threads, bool) or not isinstance(threads, int)
                                                         or threads < 1):
            raise ValueError(f"threads={threads!r} is not accepted: use a whole number >= 1, 'auto' or None")
        if block < 2:
            raise ValueError(f"block={block} is too small: a probe keeps the steps after the first of each block")
        self.threads, self.every, self.block = threads, every, block
        self.not_counted, self.clock = not_counted, clock
        self.steps_on: Counter[int] = Counter()
        self.choice: int | None = None  # auto: the count the last probe found faster
        self.next_probe, self.interval = 0, every  # auto: the step of the next probe, and the steps between them
        self.probes: list[dict] = []  # auto: each probe's step and median step seconds per count
        self._candidates: list[int] = []  # during an epoch: the counts to choose from

    @contextmanager
    def epoch(self, batches: Iterable, first_step: int) -> Iterator[Iterator]:
        """``with step_threads.epoch(batches, step) as steps: for x, y in steps: ...`` runs the whole epoch, the
        laying out of ``batches`` and any validation included, on this object's thread count (with "auto", each
        step's; the first batch is step ``first_step``); the caller's count comes back afterwards, whatever
        happens."""
        caller = torch.get_num_threads()
        if any(os.environ.get(name) for name in THREAD_VARIABLES):
            candidates = [caller]  # the environment wins
        elif self.threads == AUTO:
            candidates = sorted({1, caller})
        else:
            candidates = [caller if self.threads is None else self.threads]
        self._candidates = candidates
        try:
            torch.set_num_threads(self._preferred())
            yield self._steps(batches, first_step, candidates)
        finally:
            self._candidates = []
            torch.set_num_threads(caller)

    def _preferred(self) -> int:
        return self.choice if self.choice in self._candidates else max(self._candidates)

    @contextmanager
    def between_steps(self) -> Iterator[None]:
        """Work in the middle of an epoch that is not a step (a validation) runs on the chosen count, not on the
        count a probe is trying out; the step's count comes back afterwards. Outside an epoch: nothing changes."""
        if not self._candidates:
            yield
            return
        during = torch.get_num_threads()
        torch.set_num_threads(self._preferred())
        try:
            yield
        finally:
            torch.set_num_threads(during)

    def _steps(self, batches: Iterable, step: int, candidates: list[int]) -> Iterator:
        if len(candidates) == 1:
            for batch in batches:
                self.steps_on[candidates[0]] += 1
                yield batch
            return
        plan, samples, last, probe_start = [], {}, None, step
        for batch in batches:
            if last is not None:  # the step just run: keep its time if the probe asked for it
                n, keep, began, skipped = last
                if keep:
                    samples[n].append(self.clock() - began - (self.not_counted() - skipped))
                    if not plan:  # that was the probe's last step
                        self._decide(step, samples, probe_start)
            if not plan and (self.choice is None or step >= self.next_probe):
                plan, samples, probe_start = self._plan(candidates), {n: [] for n in candidates}, step
            n, keep = plan.pop(0) if plan else (self.choice, False)
            if torch.get_num_threads() != n:
                torch.set_num_threads(n)
            self.steps_on[n] += 1
            last = (n, keep, self.clock(), self.not_counted())
            yield batch
            step += 1
        # a probe cut short by the end of the epoch starts afresh in the next one

    def _plan(self, candidates: list[int]) -> list[tuple[int, bool]]:
        """A probe: blocks of ``block`` steps in the order A B B A, the first step after each switch not kept."""
        a, b = candidates
        return [(n, i > 0) for n in (a, b, b, a) for i in range(self.block)]

    def _decide(self, step: int, samples: dict[int, list[float]], probe_start: int) -> None:
        medians = {n: statistics.median(times) for n, times in samples.items()}
        choice = min(medians, key=lambda n: (medians[n], n))
        self.interval = min(2 * self.interval, 4 * self.every) if choice == self.choice else self.every
        self.choice, self.next_probe = choice, probe_start + self.interval
        self.probes.append({"step": step, "seconds_per_step": {str(n): medians[n] for n in sorted(medians)},
                            "chosen": self.choice})

    def state_dict(self) -> dict:
        return {"steps_on": dict(self.steps_on), "choice": self.choice, "probes": self.probes,
                "next_probe": self.next_probe, "interval": self.interval}

    def load_state_dict(self, state: dict) -> None:
        self.steps_on = Counter({int(n): count for n, count in state["steps_on"].items()})
        self.choice, self.probes = state["choice"], list(state["probes"])
        self.next_probe, self.interval = state["next_probe"], state["interval"]
