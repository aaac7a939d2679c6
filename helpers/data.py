"""MNIST on disk and in memory. torchvision knows the mirrors and reads the IDX files; this module adds what a
learner needs and torchvision lacks: ``$MNIST_DATA_DIR`` for offline copies, a check of every file before
anything reads it, and one clear error naming the file and the fix (a damaged file is never silently replaced).
Images become flat rows of 784 floats in [0, 1] (the seed post's preprocessing), on the training device once."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision.datasets import MNIST
from torchvision.datasets.mnist import read_image_file, read_label_file

IMAGE_SIZE = 28
NUM_FEATURES = IMAGE_SIZE * IMAGE_SIZE
NUM_CLASSES = 10
# The four original files: their size in bytes and the md5 published for them.
OFFICIAL = {
    "train-images-idx3-ubyte": (47_040_016, "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": (60_008, "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": (7_840_016, "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": (10_008, "27ae3e4e09519cfbb04c329615203637"),
}


class DataError(RuntimeError):
    """The MNIST files are missing, damaged or could not be downloaded; the message says what to do."""


def resolve_data_dir(data_dir: str | os.PathLike = "data") -> Path:
    """The folder that holds ``MNIST/raw``: ``$MNIST_DATA_DIR`` replaces the default ``"data"``; any other value
    given explicitly wins over the environment."""
    if str(data_dir) == "data" and os.environ.get("MNIST_DATA_DIR"):
        data_dir = os.environ["MNIST_DATA_DIR"]
    return Path(data_dir).expanduser()


def raw_dir(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / "MNIST" / "raw"


def check_raw(path: Path) -> None:
    """A DataError naming ``path`` and the fix when the file is damaged: an official-sized file must have the
    published md5; any other (a small test set, a truncated download) must at least be read by torchvision."""
    size, md5 = OFFICIAL[path.name]
    fix = "Fix: delete it and run again to download a fresh copy, or point data_dir at a folder with good copies"
    if path.stat().st_size == size:
        if hashlib.md5(path.read_bytes()).hexdigest() != md5:
            raise DataError(f"{path}: checksum differs from the original MNIST file (corrupted or altered). {fix}")
        return
    images = "images" in path.name
    try:
        tensor = read_image_file(str(path)) if images else read_label_file(str(path))
    except Exception as err:  # torchvision raises several kinds for a truncated, padded or foreign file
        reason = f"{type(err).__name__}: {err}" if str(err) else "bad IDX header"
        raise DataError(f"{path}: not a readable MNIST {'images' if images else 'labels'} file ({reason}). "
                        f"{fix}") from None
    if images and tensor.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(f"{path}: images are {tuple(tensor.shape[1:])}, not 28 x 28. {fix}")


def ensure_mnist(data_dir: str | os.PathLike = "data") -> Path:
    """Make sure the four raw files are in ``data_dir``/MNIST/raw and readable, and return ``data_dir``.

    Missing files are downloaded by torchvision (into a temporary folder, so that no file already there is
    replaced); damaged ones stop everything before any download, with the file's name and the fix."""
    data_dir = resolve_data_dir(data_dir)
    for folder in (data_dir, *data_dir.parents):
        if folder.exists() and not folder.is_dir():
            raise DataError(f"data_dir={str(data_dir)!r}: {folder} is a file, not a folder. Fix: point data_dir at "
                            "the folder that holds MNIST/raw (or at an empty folder to download MNIST into)")
    raw = raw_dir(data_dir)
    missing = [name for name in OFFICIAL if not (raw / name).is_file()]
    for name in OFFICIAL.keys() - set(missing):
        check_raw(raw / name)
    if missing:
        raw.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=raw) as tmp:
            try:
                MNIST(tmp, train=True, download=True)  # every mirror torchvision knows, archives checked by md5
            except Exception as err:
                raise DataError(f"Could not download MNIST. {str(err).strip()}\nFix: check the internet "
                                f"connection and run again, or place the four files by hand in {raw} (the "
                                f"unpacked {', '.join(OFFICIAL)}), or point data_dir at a folder whose MNIST/raw "
                                "already holds them.") from None
            for name in missing:
                shutil.move(raw_dir(tmp) / name, raw / name)
    return data_dir


def _dataset(root: Path, train: bool) -> MNIST:
    dataset = MNIST(str(root), train=train)
    if len(dataset.data) != len(dataset.targets):
        raise DataError(f"{raw_dir(dataset.root)}: {len(dataset.data):,} images but {len(dataset.targets):,} labels "
                        f"in the {'training' if train else 'test'} files. Fix: replace them with matching files")
    return dataset


def flatten_and_scale(images: torch.Tensor) -> torch.Tensor:
    """``N x 28 x 28`` uint8 pixels -> ``N x 784`` float32 in [0, 1], as the seed post does it."""
    return images.reshape(len(images), NUM_FEATURES).float() / 255.0


@dataclass
class Split:
    """Images as rows of 784 floats in [0, 1] and their labels, both on one device."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)

    def to(self, device: torch.device | str) -> Split:
        return Split(self.x.to(device), self.y.to(device))


@dataclass
class Mnist:
    """The training split and the validation split used to score the model."""

    train: Split
    val: Split
    description: str  # where each split came from, in words
    smoke: bool = False  # loaded with smoke=True: the first 4,096 / 1,024 digits

    @property
    def device(self) -> torch.device:
        return self.train.x.device

    def to(self, device: torch.device | str) -> Mnist:
        return Mnist(self.train.to(device), self.val.to(device), self.description, self.smoke)


def load_mnist(
    data_dir: str | os.PathLike = "data", device: torch.device | str = "cpu", *, smoke: bool = False
) -> Mnist:
    """MNIST ready for training, on ``device``, split as the seed post does: all 60,000 training digits to train
    on, and the official 10,000 test digits as the validation set. ``smoke=True`` keeps the first 4,096 training
    and 1,024 validation digits: the same work, tiny."""
    root = ensure_mnist(data_dir)
    train_set, test_set = _dataset(root, train=True), _dataset(root, train=False)
    train = Split(flatten_and_scale(train_set.data), train_set.targets)
    val = Split(flatten_and_scale(test_set.data), test_set.targets)
    description = f"train: {len(train):,} training digits; validation: the official {len(val):,} test digits"
    if smoke:
        train, val = Split(train.x[:4096], train.y[:4096]), Split(val.x[:1024], val.y[:1024])
        description += f" (smoke: first {len(train):,} / {len(val):,})"
    return Mnist(train.to(device), val.to(device), description, smoke)


def fingerprint(data: Mnist) -> str:
    """A short hash of both splits' sizes and labels: a checkpoint is only resumed on the same data."""
    digest = hashlib.sha1()
    for split in (data.train, data.val):
        digest.update(str(tuple(split.x.shape)).encode())
        digest.update(split.y.to("cpu", torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:12]


def shift_images(x: torch.Tensor, shifts: torch.Tensor, max_shift: int) -> torch.Tensor:
    """Translate each flat image by its own ``(dy, dx)`` in ``shifts`` (pixels move, empty space is 0).

    One gather for the whole batch: every output pixel reads the pixel ``(dy, dx)`` away in a copy of the
    image padded by ``max_shift`` on every side."""
    k, side = max_shift, IMAGE_SIZE + 2 * max_shift
    padded = torch.nn.functional.pad(x.view(-1, IMAGE_SIZE, IMAGE_SIZE), (k, k, k, k)).view(len(x), -1)
    rows = torch.arange(IMAGE_SIZE, device=x.device) + k
    base = (rows[:, None] * side + rows[None, :]).flatten()  # where each pixel sits in the padded frame
    offset = shifts[:, 0] * side + shifts[:, 1]
    return padded.gather(1, base[None, :] - offset[:, None])
