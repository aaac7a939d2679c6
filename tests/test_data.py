"""MNIST files: reading through torchvision's real loader, integrity checks, downloads (with fakes)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from urllib.error import URLError

import pytest
import torch
import torchvision.datasets.mnist as mnist_module
from conftest import ENV_DATA, SHARED_DATA, make_mnist, synthetic_digits, write_idx
from torchvision.datasets import MNIST

from helpers import data
from helpers.data import OFFICIAL, DataError, ensure_mnist, load_mnist, raw_dir


def test_load_reads_the_idx_files_through_torchvision(tiny_mnist):
    mnist = load_mnist(tiny_mnist)
    images, labels = synthetic_digits(640, seed=1)
    assert mnist.train.x.shape == (640, 784) and mnist.train.x.dtype == torch.float32
    assert mnist.val.x.shape == (200, 784)
    assert torch.equal(mnist.train.y, labels.long())
    assert torch.allclose(mnist.train.x, images.reshape(640, 784).float() / 255)
    assert 0.0 <= mnist.train.x.min() and mnist.train.x.max() == 1.0
    assert "official" in mnist.description


def test_smoke_keeps_the_first_digits(tiny_mnist):
    smoke = load_mnist(tiny_mnist, smoke=True)  # keeps at most 4,096 / 1,024
    assert len(smoke.train) == 640 and len(smoke.val) == 200 and smoke.smoke


def test_fingerprint_tells_data_apart(tiny_mnist):
    a = data.fingerprint(load_mnist(tiny_mnist))
    assert a == data.fingerprint(load_mnist(tiny_mnist))
    other = load_mnist(tiny_mnist)
    other.val.y[0] = (other.val.y[0] + 1) % 10
    assert a != data.fingerprint(other)


def test_good_files_pass_the_check(tiny_mnist):
    assert ensure_mnist(tiny_mnist) == tiny_mnist


def test_truncated_file_is_named_with_the_fix(tiny_mnist):
    path = raw_dir(tiny_mnist) / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError) as err:
        load_mnist(tiny_mnist)
    message = str(err.value)
    assert message.startswith(f"{path}: not a readable MNIST images file") and "invalid for input of size" in message
    assert "Fix: delete it" in message and "data_dir" in message


@pytest.mark.parametrize("damage", ["gzip", "labels as images", "images as labels"])
def test_compressed_or_swapped_files_are_rejected(tiny_mnist, damage):
    folder = raw_dir(tiny_mnist)
    if damage == "gzip":  # a .gz saved under the unpacked name
        bad = folder / "t10k-images-idx3-ubyte"
        bad.write_bytes(gzip.compress(bad.read_bytes()))
    elif damage == "labels as images":
        bad = folder / "train-images-idx3-ubyte"
        shutil.copy(folder / "train-labels-idx1-ubyte", bad)
    else:
        bad = folder / "train-labels-idx1-ubyte"
        shutil.copy(folder / "train-images-idx3-ubyte", bad)
    with pytest.raises(DataError, match=f"^{bad}: not a readable MNIST"):
        ensure_mnist(tiny_mnist)


def test_image_and_label_counts_must_agree(tiny_mnist):
    write_idx(raw_dir(tiny_mnist) / "t10k-labels-idx1-ubyte", torch.zeros(150, dtype=torch.uint8))
    with pytest.raises(DataError, match="200 images but 150 labels in the test files"):
        load_mnist(tiny_mnist)


def test_official_sized_file_with_wrong_bytes_fails_the_checksum(tiny_mnist):
    # The size of the real test labels (10,000), but not its bytes: a corrupted original.
    bad = raw_dir(tiny_mnist) / "t10k-labels-idx1-ubyte"
    write_idx(bad, torch.zeros(10_000, dtype=torch.uint8))
    with pytest.raises(DataError, match=f"{bad}: checksum differs from the original MNIST file"):
        ensure_mnist(tiny_mnist)


def test_damaged_files_stop_before_any_download(tiny_mnist, monkeypatch):
    (raw_dir(tiny_mnist) / "train-labels-idx1-ubyte").unlink()
    (raw_dir(tiny_mnist) / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08")
    calls = []
    monkeypatch.setattr(mnist_module, "download_and_extract_archive", lambda *args, **kwargs: calls.append(args))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte: not a readable"):
        ensure_mnist(tiny_mnist)
    assert calls == []  # nothing was fetched: damaged files are reported, never silently replaced


def test_every_mirror_failing_gives_one_actionable_message(tmp_path, monkeypatch):
    tried = []

    def offline(url, **kwargs):
        tried.append(url)
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(mnist_module, "download_and_extract_archive", offline)
    with pytest.raises(DataError) as err:
        ensure_mnist(tmp_path)
    message = str(err.value)
    assert tried == [m + "train-images-idx3-ubyte.gz" for m in MNIST.mirrors]  # stops at the first file
    assert message.startswith("Could not download MNIST") and "Temporary failure in name resolution" in message
    assert all(mirror in message for mirror in MNIST.mirrors)
    assert "place the four files by hand" in message and str(raw_dir(tmp_path)) in message
    assert not list(raw_dir(tmp_path).iterdir())  # the temporary download folder is gone


def test_download_brings_the_missing_files_and_leaves_the_others_alone(tiny_mnist, tmp_path, monkeypatch):
    folder = raw_dir(tiny_mnist)
    spare = make_mnist(tmp_path / "spare", n_train=100, n_test=50)  # what "the internet" serves
    (folder / "train-labels-idx1-ubyte").unlink()
    kept = {name: (folder / name).read_bytes() for name in OFFICIAL if (folder / name).exists()}

    def serve(url, download_root, filename, md5):
        shutil.copy(raw_dir(spare) / filename.removesuffix(".gz"), Path(download_root) / filename.removesuffix(".gz"))

    monkeypatch.setattr(mnist_module, "download_and_extract_archive", serve)
    with pytest.raises(DataError, match="640 images but 100 labels"):  # the served labels are another set's
        load_mnist(tiny_mnist)
    served = (raw_dir(spare) / "train-labels-idx1-ubyte").read_bytes()
    assert (folder / "train-labels-idx1-ubyte").read_bytes() == served
    assert all((folder / name).read_bytes() == content for name, content in kept.items())
    assert sorted(p.name for p in folder.iterdir()) == sorted(OFFICIAL)


def test_data_dir_default_follows_the_environment(monkeypatch, tmp_path):
    assert data.resolve_data_dir("data") == Path("data")
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path))
    assert data.resolve_data_dir("data") == tmp_path
    assert data.resolve_data_dir("elsewhere") == Path("elsewhere")  # an explicit value wins


def test_shift_images_moves_pixels_and_fills_with_zeros():
    image = torch.zeros(28, 28)
    image[10, 12] = 1.0
    batch = image.flatten().repeat(3, 1)
    shifts = torch.tensor([[0, 0], [2, -1], [-2, 2]])
    moved = data.shift_images(batch, shifts, max_shift=2).view(3, 28, 28)
    assert moved[0, 10, 12] == 1 and moved[1, 12, 11] == 1 and moved[2, 8, 14] == 1
    assert moved.sum() == 3
    edge = torch.zeros(28, 28)
    edge[0, 0] = 1.0
    assert data.shift_images(edge.flatten()[None], torch.tensor([[-1, 0]]), 1).sum() == 0  # fell off the edge


REAL = next((Path(p).resolve() for p in (ENV_DATA, SHARED_DATA) if p and (Path(p) / "MNIST" / "raw").is_dir()), None)


@pytest.mark.skipif(REAL is None, reason="real MNIST not on this machine ($MNIST_DATA_DIR or ../shared/data)")
def test_the_real_files_match_the_published_checksums():
    assert ensure_mnist(REAL) == REAL
    mnist = load_mnist(REAL)
    assert (len(mnist.train), len(mnist.val)) == (60_000, 10_000)
    assert torch.bincount(mnist.val.y).tolist()[:3] == [980, 1135, 1032]

