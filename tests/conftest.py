"""Shared fixtures: tiny MNIST files in the real IDX format, written by the tests themselves."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

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


def without_wall_clock(metrics: dict) -> dict:
    """A copy of a run's metrics without what differs between two identical runs: times and the date."""
    metrics = json.loads(json.dumps(metrics))
    for key in ("train_seconds", "eval_seconds", "finished_at"):
        del metrics[key]
    del metrics["history"]["val"]["seconds"]
    return metrics


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
