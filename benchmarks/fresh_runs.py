"""How every benchmark here times things: each measured run in a fresh process, side by side, in alternating order.

A fresh process per run keeps one run's warm caches, allocator state and thread pools out of the next; a pause
before each run lets the machine settle; reversing the order of the variants on every other repeat spreads slow
spells of a shared machine over all of them. A child prints its measurements as one JSON line, the last it prints.
A child is a benchmark module started again (``[sys.executable, "-m", "benchmarks.<name>", ...]``) from the
repository root, where ``benchmarks`` and ``helpers`` are importable by name.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

# A CPU-bound neighbour, like a second notebook training: PyTorch on one thread, matrix products without a pause.
LOAD = "import torch\ntorch.set_num_threads(1)\na = torch.rand(256, 256)\nwhile True:\n    a = (a @ a).tanh_()\n"
LOAD_TEXT = "one process: PyTorch, 1 thread, 256x256 matrix products without a pause"
ROOT = Path(__file__).resolve().parent.parent  # the repository root: the children run there


def alternating(cases: Sequence, repeats: int) -> Iterator[tuple[int, object]]:
    """``(repeat, case)`` for every repeat, the cases in their order on even repeats and reversed on odd ones."""
    for repeat in range(repeats):
        for case in cases if repeat % 2 == 0 else cases[::-1]:
            yield repeat, case


def seeds_and_variants(seeds: Sequence[int], variants: Sequence[str]) -> Iterator[tuple[int, str]]:
    """``(seed, variant)`` for every seed, the variants in their order for the first seed, reversed for the
    second, and so on."""
    for i, seed in enumerate(seeds):
        for variant in variants if i % 2 == 0 else variants[::-1]:
            yield seed, variant


def run_fresh(command: Sequence[str], pause: float, *, keep_thread_settings: bool = False) -> dict:
    """Sleep ``pause`` seconds, run ``command`` in a new process in the repository root and return the JSON line it
    printed last.

    Thread counts set in this shell's environment are removed unless ``keep_thread_settings``: the child sets its
    own. A failed child stops the benchmark with the end of its error output."""
    time.sleep(pause)
    env = dict(os.environ) if keep_thread_settings else {
        k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run(list(command), capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode:
        sys.exit(f"{' '.join(command[1:])} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


@contextmanager
def background_load(busy: bool = True):
    """While the block runs, one CPU-bound process (``LOAD``) runs beside it; nothing when ``busy`` is False."""
    if not busy:
        yield
        return
    load = subprocess.Popen([sys.executable, "-c", LOAD])
    try:
        time.sleep(2.0)  # let it get going
        yield
    finally:
        load.kill()
        load.wait()


def timed_fit(trainer) -> float:
    """Run ``trainer.fit()`` and return its loop time, validations included (what the README calls loop time); the
    trainer's own clock, ``trainer.seconds``, leaves scoring out (what time to accuracy needs)."""
    start = trainer.clock()
    trainer.fit()
    return trainer.clock() - start


def held_out(data, n: int):
    """``data`` with the last ``n`` training digits as its validation set (the official test digits out of sight,
    for choosing recipes) and the rest to train on."""
    from helpers.data import Mnist, Split

    x, y = data.train.x, data.train.y
    return Mnist(Split(x[:-n], y[:-n]), Split(x[-n:], y[-n:]),
                 f"train: first {len(y) - n:,} training digits; validation: last {n:,} training digits")


def machine(device: str = "") -> str:
    """``host / device or processor / CPU count``, as the README's tables name a machine."""
    return f"{platform.node()} / {device or 'CPU (' + platform.machine() + ')'} / {os.cpu_count()} CPUs"


def write_json(path, report: dict) -> None:
    """Strict JSON (no NaN or infinity), one file per benchmark."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report, indent=1, allow_nan=False) + "\n")
    print("wrote", path)
