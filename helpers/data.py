"""MNIST on disk and in memory: check the raw files, download them if missing, load them as tensors.

The series reads the four original IDX files with torchvision's own MNIST loader, keeps every image
as a flat row of 784 floats in [0, 1] (the seed post's preprocessing), and puts the whole data set on
the training device once, so that training can take batches by indexing instead of a DataLoader.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

DEFAULT_DATA_DIR = "data"
DATA_DIR_ENV = "MNIST_DATA_DIR"
IMAGE_SIZE = 28
NUM_FEATURES = IMAGE_SIZE * IMAGE_SIZE
NUM_CLASSES = 10


@dataclass(frozen=True)
class RawFile:
    """One of the four original MNIST files: what its IDX header and its bytes must be."""

    name: str
    magic: int  # 2051 = images (ubyte, 3 dims), 2049 = labels (ubyte, 1 dim)
    count: int
    size: int
    md5: str

    @property
    def is_images(self) -> bool:
        return self.magic == 2051


RAW_FILES = (
    RawFile("train-images-idx3-ubyte", 2051, 60_000, 47_040_016, "6bbc9ace898e44ae57da46a324031adb"),
    RawFile("train-labels-idx1-ubyte", 2049, 60_000, 60_008, "a25bea736e30d166cdddb491f175f624"),
    RawFile("t10k-images-idx3-ubyte", 2051, 10_000, 7_840_016, "2646ac647ad5339dbf082846283269ea"),
    RawFile("t10k-labels-idx1-ubyte", 2049, 10_000, 10_008, "27ae3e4e09519cfbb04c329615203637"),
)


class DataError(RuntimeError):
    """The MNIST files are missing, damaged or could not be downloaded; the message says what to do."""


def resolve_data_dir(data_dir: str | os.PathLike = DEFAULT_DATA_DIR) -> Path:
    """The folder that holds ``MNIST/raw``.

    ``$MNIST_DATA_DIR`` replaces the default ``"data"`` (handy for CI and shared copies); any other
    value given explicitly wins over the environment.
    """
    if str(data_dir) == DEFAULT_DATA_DIR and os.environ.get(DATA_DIR_ENV):
        data_dir = os.environ[DATA_DIR_ENV]
    return Path(data_dir).expanduser()


def raw_dir(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / "MNIST" / "raw"


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_header(path: Path, expected: RawFile) -> tuple[int, ...]:
    """Parse an IDX header and return its dimensions; raise ValueError saying what is wrong."""
    ndim = 3 if expected.is_images else 1
    with open(path, "rb") as handle:
        header = handle.read(4 + 4 * ndim)
    if len(header) < 4 + 4 * ndim:
        raise ValueError(f"only {path.stat().st_size} bytes, too short for an IDX header")
    magic = int.from_bytes(header[:4], "big")
    if magic != expected.magic:
        kind = "images (magic 2051)" if expected.is_images else "labels (magic 2049)"
        raise ValueError(f"IDX magic number is {magic}, expected {kind}: not an uncompressed MNIST file")
    dims = tuple(int.from_bytes(header[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if expected.is_images and dims[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"images are {dims[1]}x{dims[2]}, expected {IMAGE_SIZE}x{IMAGE_SIZE}")
    want = 4 + 4 * ndim + dims[0] * (NUM_FEATURES if expected.is_images else 1)
    have = path.stat().st_size
    if have != want:
        raise ValueError(f"{have:,} bytes but its header promises {want:,}: the file is truncated or padded")
    return dims


def check_raw_files(data_dir: str | os.PathLike) -> tuple[list[RawFile], list[str]]:
    """Look at the four raw files before anything reads them.

    Returns ``(missing, problems)``: the files that are absent, and one sentence per file that is present
    but unusable (bad header, wrong size, or, for a file with the official number of digits, a checksum
    that differs from the published original). Files with another number of digits (small test sets)
    are accepted when their header and size agree.
    """
    folder = raw_dir(data_dir)
    missing, problems, counts = [], [], {}
    for spec in RAW_FILES:
        path = folder / spec.name
        if not path.is_file():
            missing.append(spec)
            continue
        try:
            dims = _read_header(path, spec)
        except ValueError as err:
            problems.append(f"{path}: {err}")
            continue
        counts[spec.name] = dims[0]
        if dims[0] == spec.count and (path.stat().st_size != spec.size or _md5(path) != spec.md5):
            problems.append(f"{path}: checksum differs from the original MNIST file (corrupted or altered)")
    for images, labels in (RAW_FILES[:2], RAW_FILES[2:]):
        if images.name in counts and labels.name in counts and counts[images.name] != counts[labels.name]:
            problems.append(
                f"{folder}: {images.name} holds {counts[images.name]:,} images but "
                f"{labels.name} holds {counts[labels.name]:,} labels"
            )
    return missing, problems


def _damaged_message(problems: list[str], data_dir: Path) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    return (
        f"The MNIST files in {raw_dir(data_dir)} cannot be used:\n{lines}\n"
        "Fix: delete the damaged file(s) and run again to download fresh copies, "
        "or point data_dir at a folder that holds good copies (the folder that contains MNIST/raw)."
    )


def download_mnist(
    data_dir: str | os.PathLike,
    files: list[RawFile] | None = None,
    fetch: Callable[..., None] | None = None,
) -> None:
    """Download the missing raw files, trying every torchvision mirror for each.

    ``fetch`` defaults to torchvision's ``download_and_extract_archive`` (it checks the archive's md5
    and unpacks it). When every mirror fails for a file, one DataError lists each URL tried, why it
    failed, and how to place the files by hand.
    """
    from torchvision.datasets import MNIST
    from torchvision.datasets.utils import download_and_extract_archive

    fetch = fetch or download_and_extract_archive
    folder = raw_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    archives = dict(MNIST.resources)
    for spec in files if files is not None else list(RAW_FILES):
        archive = spec.name + ".gz"
        failures = []
        for mirror in MNIST.mirrors:
            url = mirror + archive
            try:
                fetch(url, download_root=str(folder), filename=archive, md5=archives[archive])
            except Exception as err:  # any failure of one mirror means: try the next one
                failures.append(f"  - {url}: {type(err).__name__}: {err}".rstrip())
                continue
            if (folder / spec.name).is_file():
                break
            failures.append(f"  - {url}: downloaded, but {spec.name} did not appear after unpacking")
        else:
            tried = "\n".join(failures)
            raise DataError(
                f"Could not download {archive} from any MNIST mirror:\n{tried}\n"
                f"Fix: check the internet connection and run again, or place the four files by hand in "
                f"{folder} (the original .gz archives, or the four unpacked files: "
                + ", ".join(s.name for s in RAW_FILES)
                + "), or point data_dir at a folder whose MNIST/raw already holds them."
            )


def ensure_mnist(data_dir: str | os.PathLike = DEFAULT_DATA_DIR, download: bool = True) -> Path:
    """Make sure good raw files are in ``data_dir`` (downloading what is missing) and return the folder.

    Damaged files are reported before any download or training, never silently replaced.
    Taught in notebook 01, section 1.
    """
    data_dir = resolve_data_dir(data_dir)
    for folder in (data_dir, *data_dir.parents):
        if folder.exists() and not folder.is_dir():
            raise DataError(f"data_dir={str(data_dir)!r}: {folder} is a file, not a folder. Fix: point data_dir at "
                            "the folder that holds MNIST/raw (or at an empty folder to download MNIST into)")
    missing, problems = check_raw_files(data_dir)
    if problems:
        raise DataError(_damaged_message(problems, data_dir))
    if missing:
        if not download:
            names = ", ".join(s.name for s in missing)
            raise DataError(
                f"{raw_dir(data_dir)} lacks {names}. Fix: run with download enabled, "
                "or point data_dir at the folder that contains MNIST/raw."
            )
        download_mnist(data_dir, missing)
        missing, problems = check_raw_files(data_dir)
        if problems or missing:
            problems += [f"{raw_dir(data_dir) / s.name}: still missing after download" for s in missing]
            raise DataError(_damaged_message(problems, data_dir))
    return data_dir


@dataclass
class Split:
    """Images as rows of 784 floats in [0, 1] and their labels, both on one device."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)

    def to(self, device: torch.device | str) -> Split:
        return Split(self.x.to(device), self.y.to(device))

    def head(self, n: int) -> Split:
        return Split(self.x[:n], self.y[:n])


@dataclass
class Mnist:
    """The training split and the validation split used to score the model."""

    train: Split
    val: Split
    description: str  # where each split came from, said in words
    smoke: bool = False  # loaded with smoke=True: the first 4,096 / 1,024 digits
    holdout: int = 0  # loaded with holdout=N: validation on the last N training digits

    @property
    def device(self) -> torch.device:
        return self.train.x.device

    def to(self, device: torch.device | str) -> Mnist:
        return Mnist(self.train.to(device), self.val.to(device), self.description, self.smoke, self.holdout)


def load_raw(data_dir: str | os.PathLike = DEFAULT_DATA_DIR, train: bool = True, download: bool = True):
    """torchvision's MNIST data set (uint8 images ``N x 28 x 28`` in ``.data``, labels in ``.targets``).
    Taught in notebook 01, sections 1 and 2."""
    from torchvision.datasets import MNIST

    root = ensure_mnist(data_dir, download=download)
    return MNIST(str(root), train=train, download=False)


def flatten_and_scale(images: torch.Tensor) -> torch.Tensor:
    """``N x 28 x 28`` uint8 pixels -> ``N x 784`` float32 in [0, 1], exactly as the seed post does it.
    Taught in notebook 01, section 5."""
    return images.reshape(len(images), NUM_FEATURES).float() / 255.0


def load_mnist(
    data_dir: str | os.PathLike = DEFAULT_DATA_DIR,
    device: torch.device | str = "cpu",
    *,
    smoke: bool = False,
    holdout: int = 0,
    download: bool = True,
) -> Mnist:
    """MNIST ready for training, on ``device``.

    - ``holdout=0`` is the seed post's split: all 60,000 training digits to train on, and the official
      10,000 test digits as the validation set.
    - ``holdout=N`` keeps the official test digits out of sight: the last N training digits become the
      validation set (for choosing recipes), the first 60,000 - N are trained on.
    - ``smoke=True`` keeps the first 4,096 training and 1,024 validation digits: the same work, tiny.

    Taught in notebook 01, sections 5 and 6.
    """
    train_set = load_raw(data_dir, train=True, download=download)
    x, y = flatten_and_scale(train_set.data), train_set.targets
    if holdout:
        if not 0 < holdout < len(y):
            raise ValueError(f"holdout={holdout} must be between 1 and {len(y) - 1} (the training digits)")
        train = Split(x[:-holdout], y[:-holdout])
        val = Split(x[-holdout:], y[-holdout:])
        description = f"train: first {len(train):,} training digits; validation: last {len(val):,} training digits"
    else:
        test_set = load_raw(data_dir, train=False, download=download)
        train = Split(x, y)
        val = Split(flatten_and_scale(test_set.data), test_set.targets)
        description = f"train: {len(train):,} training digits; validation: the official {len(val):,} test digits"
    if smoke:
        train, val = train.head(4096), val.head(1024)
        description += f" (smoke: first {len(train):,} / {len(val):,})"
    return Mnist(train.to(device), val.to(device), description, smoke, holdout)


def fingerprint(data: Mnist) -> str:
    """A short hash of both splits' labels and sizes: a checkpoint is only resumed on the same data."""
    digest = hashlib.sha1()
    for split in (data.train, data.val):
        digest.update(str(tuple(split.x.shape)).encode())
        digest.update(split.y.to("cpu", torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:12]


def shift_images(x: torch.Tensor, shifts: torch.Tensor, max_shift: int) -> torch.Tensor:
    """Translate each flat image by its own ``(dy, dx)`` in ``shifts`` (pixels move, empty space is 0).

    One gather for the whole batch: every output pixel reads the pixel ``(dy, dx)`` away in a copy of the
    image padded by ``max_shift`` on every side. Taught in notebook 05, section 3.
    """
    k, side = max_shift, IMAGE_SIZE + 2 * max_shift
    padded = torch.nn.functional.pad(x.view(-1, IMAGE_SIZE, IMAGE_SIZE), (k, k, k, k)).view(len(x), -1)
    rows = torch.arange(IMAGE_SIZE, device=x.device) + k
    base = (rows[:, None] * side + rows[None, :]).flatten()  # where each pixel sits in the padded frame
    offset = shifts[:, 0] * side + shifts[:, 1]
    return padded.gather(1, base[None, :] - offset[:, None])
