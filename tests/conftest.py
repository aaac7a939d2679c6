"""Shared fixtures and builders: tiny MNIST files in the real IDX format and random data sets, made by the tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):  # tests run in parallel workers (pyproject.toml: pytest-xdist, -n auto)
    # one CPU thread per worker, and for the kernels and commands it starts: threads of two processes that share
    # the cores spin-wait on each other and slow both far more than twice. A count already set is kept.
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402  (after the thread count above)

from helpers.data import Mnist, Split

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
ENV_DATA = os.environ.get("MNIST_DATA_DIR")  # read before the autouse fixture below removes it


def write_idx(path: Path, array: torch.Tensor) -> None:
    """Write a uint8 tensor as an IDX file (the MNIST format): magic, dimensions, then the bytes."""
    array = array.to(torch.uint8).contiguous()
    magic = 0x0800 + array.dim()
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + array.numpy().tobytes())


def synthetic_digits(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` learnable 28x28 'digits': class c lights a bright 6x6 patch at its own place, over faint noise."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    labels = labels[torch.randperm(n, generator=g)]
    images = torch.randint(0, 60, (n, 28, 28), generator=g)
    for c in range(10):
        r, col = 3 + 8 * (c // 4), 2 + 6 * (c % 4)
        images[labels == c, r : r + 6, col : col + 6] = 255
    return images.to(torch.uint8), labels.to(torch.uint8)


def make_mnist(root: Path, n_train: int = 640, n_test: int = 200) -> Path:
    raw = root / "MNIST" / "raw"
    for prefix, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        images, labels = synthetic_digits(n, seed)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return root


def random_data(n_train: int = 150, n_val: int = 50, seed: int = 1, device: str = "cpu") -> Mnist:
    """Random images and labels: nothing to learn, but every number of a run is defined and repeatable."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_train + n_val, 784, generator=g).to(device)
    y = torch.randint(0, 10, (n_train + n_val,), generator=g).to(device)
    return Mnist(Split(x[:n_train], y[:n_train]), Split(x[n_train:], y[n_train:]), "random")


def without_wall_clock(metrics: dict) -> dict:
    """A copy of a run's metrics without what differs between two identical runs: times and the date."""
    metrics = json.loads(json.dumps(metrics))
    for key in ("train_seconds", "finished_at"):
        del metrics[key]
    del metrics["history"]["val"]["seconds"]
    return metrics


def start_cli(*args: str, hook: tuple[str, ...] = ()) -> subprocess.Popen:
    """``python -m helpers ARGS`` in a new process, its output captured; with ``hook``, ``python -m tests.cli_hooks
    HOOK -- ARGS`` (something happens at a given epoch). A shell without job control starts background commands with
    SIGINT ignored (and Python then never raises KeyboardInterrupt): the child gets the default disposition, as from
    a terminal."""
    command = ["tests.cli_hooks", *hook, "--"] if hook else ["helpers"]
    return subprocess.Popen([sys.executable, "-m", *command, *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@pytest.fixture
def cli(capsys):
    """``python -m helpers ARGS`` in this process: ``(exit code, stdout, stderr)``."""
    from helpers.__main__ import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture
def tiny_mnist(tmp_path) -> Path:
    """A data_dir holding small synthetic MNIST files (640 training, 200 test digits)."""
    return make_mnist(tmp_path / "data")


@pytest.fixture
def notebook_data_dir(tmp_path) -> Path:
    """Real MNIST when this machine has it ($MNIST_DATA_DIR or ../shared/data), else tiny synthetic files."""
    if ENV_DATA and (Path(ENV_DATA) / "MNIST" / "raw").is_dir():
        return Path(ENV_DATA).resolve()
    if (SHARED_DATA / "MNIST" / "raw").is_dir():
        return SHARED_DATA
    return make_mnist(tmp_path / "data", n_train=4096, n_test=1024)


@pytest.fixture(autouse=True)
def _no_data_dir_env(monkeypatch):
    """Tests say where their data is; a developer's $MNIST_DATA_DIR must not leak into them."""
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
