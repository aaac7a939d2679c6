"""MNIST files: reading through torchvision's real loader, integrity checks, downloads (with fakes)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
import torch
from conftest import SHARED_DATA, synthetic_digits, write_idx

from helpers import data
from helpers.data import DataError, check_raw_files, ensure_mnist, load_mnist, raw_dir


def test_load_reads_the_idx_files_through_torchvision(tiny_mnist):
    mnist = load_mnist(tiny_mnist)
    images, labels = synthetic_digits(640, seed=1)
    assert mnist.train.x.shape == (640, 784) and mnist.train.x.dtype == torch.float32
    assert mnist.val.x.shape == (200, 784)
    assert torch.equal(mnist.train.y, labels.long())
    assert torch.allclose(mnist.train.x, images.reshape(640, 784).float() / 255)
    assert 0.0 <= mnist.train.x.min() and mnist.train.x.max() == 1.0
    assert "official" in mnist.description


def test_holdout_and_smoke_splits(tiny_mnist):
    full = load_mnist(tiny_mnist)
    held = load_mnist(tiny_mnist, holdout=100)
    assert len(held.train) == 540 and len(held.val) == 100
    assert torch.equal(held.val.y, full.train.y[-100:])
    smoke = load_mnist(tiny_mnist, smoke=True)  # keeps at most 4,096 / 1,024
    assert len(smoke.train) == 640 and len(smoke.val) == 200
    with pytest.raises(ValueError, match="holdout"):
        load_mnist(tiny_mnist, holdout=640)


def test_fingerprint_tells_data_apart(tiny_mnist):
    a = data.fingerprint(load_mnist(tiny_mnist))
    assert a == data.fingerprint(load_mnist(tiny_mnist))
    assert a != data.fingerprint(load_mnist(tiny_mnist, holdout=100))


def test_good_files_pass_the_check(tiny_mnist):
    assert check_raw_files(tiny_mnist) == ([], [])


def test_truncated_file_is_named_with_the_fix(tiny_mnist):
    path = raw_dir(tiny_mnist) / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError) as err:
        load_mnist(tiny_mnist)
    message = str(err.value)
    assert "train-images-idx3-ubyte" in message and "truncated" in message
    assert "delete" in message and "data_dir" in message


def test_compressed_or_swapped_files_are_rejected(tiny_mnist):
    folder = raw_dir(tiny_mnist)
    images = folder / "t10k-images-idx3-ubyte"
    images.write_bytes(gzip.compress(images.read_bytes()))  # a .gz saved under the unpacked name
    shutil.copy(folder / "train-images-idx3-ubyte", folder / "train-labels-idx1-ubyte")  # images as labels
    _, problems = check_raw_files(tiny_mnist)
    assert len(problems) == 2
    assert any("t10k-images" in p and "magic" in p for p in problems)
    assert any("train-labels" in p and "expected labels" in p for p in problems)


def test_image_and_label_counts_must_agree(tiny_mnist):
    write_idx(raw_dir(tiny_mnist) / "t10k-labels-idx1-ubyte", torch.zeros(150, dtype=torch.uint8))
    _, problems = check_raw_files(tiny_mnist)
    assert problems == [f"{raw_dir(tiny_mnist)}: t10k-images-idx3-ubyte holds 200 images but "
                        "t10k-labels-idx1-ubyte holds 150 labels"]


def test_official_sized_file_with_wrong_bytes_fails_the_checksum(tiny_mnist):
    # The size of the real test labels (10,000), but not its bytes: a corrupted original.
    write_idx(raw_dir(tiny_mnist) / "t10k-labels-idx1-ubyte", torch.zeros(10_000, dtype=torch.uint8))
    _, problems = check_raw_files(tiny_mnist)
    assert any("t10k-labels-idx1-ubyte: checksum differs" in p for p in problems)


def test_damaged_files_stop_before_any_download(tiny_mnist, monkeypatch):
    (raw_dir(tiny_mnist) / "train-labels-idx1-ubyte").unlink()
    (raw_dir(tiny_mnist) / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08")
    calls = []
    monkeypatch.setattr(data, "download_mnist", lambda *args, **kwargs: calls.append(args))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.*too short"):
        ensure_mnist(tiny_mnist)
    assert calls == []  # nothing was fetched: damaged files are reported, never silently replaced


def test_every_mirror_failing_gives_one_actionable_message(tmp_path):
    tried = []

    def offline(url, **kwargs):
        tried.append(url)
        raise OSError("[Errno -3] Temporary failure in name resolution")

    with pytest.raises(DataError) as err:
        data.download_mnist(tmp_path, fetch=offline)
    message = str(err.value)
    from torchvision.datasets import MNIST

    assert tried == [m + "train-images-idx3-ubyte.gz" for m in MNIST.mirrors]  # stops at the first file
    for url in tried:
        assert url in message
    assert "Temporary failure in name resolution" in message
    assert "place the four files by hand" in message and str(raw_dir(tmp_path)) in message


def test_download_fetches_only_missing_files_and_verifies_them(tiny_mnist, tmp_path):
    folder = raw_dir(tiny_mnist)
    spare = tmp_path / "spare"
    spare.mkdir()
    for name in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        shutil.move(folder / name, spare / name)
    fetched = []

    from torchvision.datasets import MNIST

    def first_mirror_down(url, download_root, filename, md5):
        fetched.append(url)
        if url.startswith(MNIST.mirrors[0]):  # whichever mirror this torchvision lists first
            raise RuntimeError("HTTP Error 503: Service Unavailable")
        shutil.copy(spare / filename.removesuffix(".gz"), Path(download_root) / filename.removesuffix(".gz"))

    monkey_missing, _ = check_raw_files(tiny_mnist)
    data.download_mnist(tiny_mnist, monkey_missing, fetch=first_mirror_down)
    assert [u.rsplit("/", 1)[1] for u in fetched] == ["train-labels-idx1-ubyte.gz"] * 2 + [
        "t10k-labels-idx1-ubyte.gz"] * 2
    assert check_raw_files(tiny_mnist) == ([], [])


def test_ensure_mnist_without_download_names_the_missing_files(tmp_path):
    with pytest.raises(DataError, match="lacks train-images-idx3-ubyte.*point data_dir"):
        ensure_mnist(tmp_path, download=False)


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


@pytest.mark.skipif(not (SHARED_DATA / "MNIST" / "raw").is_dir(), reason="real MNIST not on this machine")
def test_the_real_files_match_the_published_checksums():
    assert check_raw_files(SHARED_DATA) == ([], [])
    mnist = load_mnist(SHARED_DATA)
    assert (len(mnist.train), len(mnist.val)) == (60_000, 10_000)
    assert torch.bincount(mnist.val.y).tolist()[:3] == [980, 1135, 1032]

