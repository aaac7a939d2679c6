"""The command line, including a real training process killed with SIGKILL and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from conftest import REPO, make_mnist, without_wall_clock

from helpers import checkpoints


def helpers_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpers", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=600, **kwargs)


def test_bad_parameter_is_one_clear_line(tmp_path):
    run = helpers_cli("train", "--model", "softmax", "--epochs", "0", "--data-dir", str(tmp_path))
    assert run.returncode == 2
    assert run.stderr.strip() == ("error: epochs=0 is not accepted: epochs must be a positive whole number "
                                  "(or None for the model's own recipe)")


def test_missing_data_offline_names_the_urls_and_the_fix(tmp_path):
    # No network here: torchvision's real download code fails on every mirror.
    run = helpers_cli("train", "--model", "softmax", "--data-dir", str(tmp_path / "empty"),
                      "--artifacts-dir", str(tmp_path / "a"), env={**os.environ, "https_proxy": "http://127.0.0.1:9",
                                                                   "http_proxy": "http://127.0.0.1:9"})
    assert run.returncode == 2, run.stderr[-3000:]
    assert "Could not download train-images-idx3-ubyte.gz from any MNIST mirror" in run.stderr
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in run.stderr
    assert "place the four files by hand" in run.stderr
    assert "Traceback" not in run.stderr


def test_sigkill_mid_training_then_rerun_resumes_to_the_uninterrupted_result(tmp_path):
    data_dir = make_mnist(tmp_path / "data", n_train=20_000, n_test=500)
    args = ["train", "--model", "softmax", "--epochs", "30", "--eval-every", "250", "--no-progress",
            "--data-dir", str(data_dir)]
    interrupted = tmp_path / "interrupted"
    process = subprocess.Popen([sys.executable, "-m", "helpers", *args, "--artifacts-dir", str(interrupted)],
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not list(interrupted.glob("softmax/runs/*/checkpoint.pt")) and time.monotonic() < deadline:
        assert process.poll() is None, "training ended before its first checkpoint could be seen"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    (checkpoint,) = interrupted.glob("softmax/runs/*/checkpoint.pt")
    epoch_at_kill = checkpoints.load_checkpoint(checkpoint)["trainer"]["epoch"]
    assert 1 <= epoch_at_kill < 30, "the kill should land mid-run"
    assert not (interrupted / "softmax" / "metrics.json").exists()

    resumed = helpers_cli(*args, "--artifacts-dir", str(interrupted))
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming from {checkpoint} (epoch {epoch_at_kill}/30" in resumed.stdout
    whole = helpers_cli(*args, "--artifacts-dir", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr

    def final(folder):
        return without_wall_clock(json.loads((folder / "softmax" / "metrics.json").read_text()))

    assert final(interrupted) == final(tmp_path / "whole")
    assert final(interrupted)["steps"] == 30 * 625


def test_a_failing_notebook_is_reported_in_one_message(tmp_path):
    # Offline and no data: notebook 01 cannot download MNIST, and the run says so without a traceback.
    run = helpers_cli("run", "--smoke", "--data-dir", str(tmp_path / "empty"), "--artifacts-dir", str(tmp_path / "a"),
                      env={**os.environ, "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"})
    assert run.returncode == 2
    assert "error: 01_preprocessing stopped in cell" in run.stderr and "DataError" in run.stderr
    assert "Could not download train-images-idx3-ubyte.gz" in run.stderr
    assert str(tmp_path / "a" / "notebooks" / "01_preprocessing.ipynb") in run.stderr
    assert "Traceback" not in run.stderr
