"""When learners push it: divergence, damaged checkpoints, two runs at once, interrupts, bad paths, file modes,
and runs that would compute differently (bf16 or float32) never resuming into each other."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import REPO, make_mnist, start_cli, without_wall_clock

import helpers.training as training
from helpers import environment, runs
from helpers.data import DataError, fingerprint, load_mnist
from helpers.models import build_model
from helpers.runs import RunFolder
from helpers.training import ParameterError, RunConfig, Trainer, TrainingDiverged, load_run, train

# -- divergence -------------------------------------------------------------------------------------


def test_a_diverging_run_stops_with_the_step_the_value_and_the_fix(tiny_mnist, tmp_path):
    config = RunConfig(model="mlp", lr=10_000.0, epochs=2, eval_every=5)
    with pytest.raises(TrainingDiverged) as caught:
        train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    message = str(caught.value)
    assert "training diverged" in message and "at step" in message and "lr 10000.0" in message
    assert "use a smaller lr" in message and "recipe's own lr is 0.1" in message
    assert not list(tmp_path.rglob("metrics.json")), "a diverged run must not be reported as finished"
    good = train(RunConfig(model="mlp", epochs=2, eval_every=5), data_dir=tiny_mnist, artifacts_dir=tmp_path,
                 progress=False)
    assert good.metrics["val_error"] < 20.0
    json.loads((tmp_path / "mlp" / "metrics.json").read_text(), parse_constant=pytest.fail)  # strict JSON


def test_divergence_on_the_command_line_is_one_line(tiny_mnist, tmp_path, cli):
    code, _, err = cli("train", "--model", "mlp", "--lr", "10000", "--epochs", "1", "--no-progress",
                       "--data-dir", str(tiny_mnist), "--artifacts-dir", str(tmp_path / "a"))
    assert code == 2 and err.startswith("error: training diverged") and len(err.strip().splitlines()) == 1


def test_json_is_strict(tmp_path):
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        runs.save_json({"val_loss": float("nan")}, tmp_path / "m.json")
    assert not list(tmp_path.iterdir())


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    runs.save_checkpoint({"step": 1}, path)

    def broken_save(obj, stream):
        stream.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        runs.save_checkpoint({"step": 2}, path)
    monkeypatch.undo()
    assert runs.load_checkpoint(path) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]  # no temporary file left behind


# -- damaged checkpoints ----------------------------------------------------------------------------


def _truncated(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path):
    path.write_bytes(os.urandom(3000))


def _foreign_format(path):
    torch.save({"step": 3, "weights": torch.zeros(3)}, path)


@pytest.mark.parametrize("damage", [_truncated, _garbage, _foreign_format])
def test_a_damaged_checkpoint_is_kept_aside_and_the_run_starts_afresh(tiny_mnist, tmp_path, capsys, damage):
    config = RunConfig(model="softmax", epochs=2, eval_every=10)
    clean = train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path / "clean", progress=False)
    first = train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path / "hurt", progress=False)
    checkpoint = first.run_dir / "checkpoint.pt"
    (first.run_dir / "metrics.json").unlink()  # as if the process had died before finishing
    damage(checkpoint)
    damaged_bytes = checkpoint.read_bytes()
    capsys.readouterr()
    again = train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path / "hurt", progress=False)
    out = capsys.readouterr().out
    (kept,) = first.run_dir.glob("checkpoint.set-aside-*.pt")
    assert f"{checkpoint} " in out and kept.name in out and "starts afresh" in out
    assert kept.read_bytes() == damaged_bytes  # kept as it was, never deleted
    assert again.metrics["val_error"] == clean.metrics["val_error"]
    assert again.metrics["history"]["val"]["error"] == clean.metrics["history"]["val"]["error"]


# -- two runs at once, interrupts, a kill ----------------------------------------------------------


def _training(tmp_path, artifacts, then: str):
    """A CNN run of five short epochs (augmentation, momentum, one-cycle: every kind of state) in a new process,
    which does ``then`` (tests/cli_hooks.py) right after it saved the checkpoint of epoch 2."""
    data_dir = tmp_path / "data"
    if not data_dir.exists():
        make_mnist(data_dir, n_train=4096, n_test=200)
    args = ["train", "--model", "cnn", "--epochs", "5", "--eval-every", "25", "--no-progress",
            "--data-dir", str(data_dir), "--artifacts-dir", str(artifacts)]
    return start_cli(*args, hook=("--at-epoch", "2", "--then", then)), args


def test_a_second_run_of_the_same_configuration_refuses_while_the_first_trains(tmp_path, cli):
    artifacts, go = tmp_path / "artifacts", tmp_path / "go"
    first, args = _training(tmp_path, artifacts, then=f"wait:{go}")
    deadline = time.monotonic() + 600  # only if the first run hangs: it waits for us, not we for it
    while not go.with_name("go.waiting").exists():  # the first run holds its lock and waits after epoch 2
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.02)
    code, _, err = cli(*args)
    go.touch()
    out, first_err = first.communicate(timeout=300)
    assert code == 2 and "another process is training this run right now" in err and "wait until it finishes" in err
    assert first.returncode == 0, first_err
    metrics = json.loads((artifacts / "cnn" / "metrics.json").read_text())
    code, out, _ = cli(*args)
    assert code == 0 and "Loaded the finished run" in out
    assert json.loads(out[out.index("{"):])["val_error"] == metrics["val_error"]


def test_an_interrupt_keeps_the_last_checkpoint_and_says_how_to_resume(tmp_path):
    artifacts = tmp_path / "artifacts"
    process, _ = _training(tmp_path, artifacts, then="interrupt")
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, err
    (checkpoint,) = artifacts.glob("cnn/runs/*/checkpoint.pt")
    assert f"Interrupted at step 64: the checkpoint of epoch 2 is kept in {checkpoint}" in out  # 32 steps an epoch
    assert "Run the same cell or command again to resume" in out and "Traceback" not in err
    assert runs.load_checkpoint(checkpoint)["epoch"] == 2
    assert not list(checkpoint.parent.glob(".*.tmp"))


def test_a_run_killed_mid_training_resumes_to_exactly_the_uninterrupted_result(tmp_path, cli):
    killed = tmp_path / "killed"
    process, args = _training(tmp_path, killed, then="kill")
    process.communicate(timeout=300)
    assert process.returncode == -signal.SIGKILL
    (checkpoint,) = killed.glob("cnn/runs/*/checkpoint.pt")
    assert runs.load_checkpoint(checkpoint)["epoch"] == 2
    assert not (killed / "cnn" / "metrics.json").exists()

    resumed = subprocess.run([sys.executable, "-m", "helpers", *args], cwd=REPO, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming from {checkpoint} (epoch 2/5" in resumed.stdout
    whole = tmp_path / "whole"
    whole_args = [a if a != str(killed) else str(whole) for a in args]
    done = subprocess.run([sys.executable, "-m", "helpers", *whole_args], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    def final(folder):
        return without_wall_clock(json.loads((folder / "cnn" / "metrics.json").read_text()))

    assert final(killed) == final(whole) and final(whole)["steps"] == 5 * 32


# -- paths and files --------------------------------------------------------------------------------


def test_paths_that_cannot_work_fail_before_any_training(tiny_mnist, tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    with pytest.raises(ParameterError, match=r"artifacts_dir='.*notes.txt' is a file, not a folder"):
        train(RunConfig(model="softmax"), data_dir=tiny_mnist, artifacts_dir=a_file)
    with pytest.raises(ParameterError, match=r"artifacts_dir='.*notes.txt/sub' cannot be written"):
        train(RunConfig(model="softmax"), data_dir=tiny_mnist, artifacts_dir=a_file / "sub")
    with pytest.raises(DataError, match=r"notes.txt is a file, not a folder. Fix: point data_dir at"):
        train(RunConfig(model="softmax"), data_dir=a_file, artifacts_dir=tmp_path / "a")
    assert a_file.read_text() == "mine" and not (tmp_path / "a" / "softmax").exists()


def test_data_dir_that_is_a_file_on_the_command_line(tmp_path, cli):
    a_file = tmp_path / "data.zip"
    a_file.write_bytes(b"PK")
    code, _, err = cli("train", "--data-dir", str(a_file), "--artifacts-dir", str(tmp_path / "a"))
    assert code == 2 and "is a file, not a folder" in err and len(err.strip().splitlines()) == 1


def test_written_files_get_the_usual_permissions(tiny_mnist, tmp_path):
    old = os.umask(0o022)
    try:
        result = train(RunConfig(model="softmax", epochs=1), data_dir=tiny_mnist, artifacts_dir=tmp_path,
                       progress=False)
    finally:
        os.umask(old)
    for path in (result.run_dir / "checkpoint.pt", result.run_dir / "metrics.json",
                 tmp_path / "softmax" / "metrics.json"):
        assert path.stat().st_mode & 0o777 == 0o644, path


# -- the latest run, read as it was trained, without writing anything ---------------------------------


def test_load_run_reads_the_last_finished_one_as_it_was_trained_and_writes_nothing(tiny_mnist, tmp_path):
    assert load_run(tmp_path, "softmax", data_dir=tiny_mnist) is None
    train(RunConfig(model="softmax", epochs=1), data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    chosen = train(RunConfig(model="softmax", epochs=2, lr=0.05, eval_every=7), data_dir=tiny_mnist,
                   artifacts_dir=tmp_path, progress=False)
    run_metrics = chosen.run_dir / "metrics.json"
    trained_on = json.loads(run_metrics.read_text())
    trained_on["device_name"], trained_on["torch_version"] = "Another GPU", "2.99"  # as if trained elsewhere
    runs.save_json(trained_on, run_metrics)
    runs.save_json(trained_on, tmp_path / "softmax" / "metrics.json")

    def files() -> dict:
        return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in tmp_path.rglob("*")}

    with RunFolder(tmp_path, "softmax", chosen_config(chosen)).claimed():  # a run being trained holds the lock
        before = files()  # taken after the lock: some filelock versions touch the lock file when acquiring it
        latest = load_run(tmp_path, "softmax", data_dir=tiny_mnist)
        assert files() == before  # nothing written, nothing locked
    assert latest.run_dir == chosen.run_dir and latest.metrics == trained_on
    assert (latest.metrics["epochs"], latest.metrics["lr"], latest.metrics["eval_every"]) == (2, 0.05, 7)
    assert torch.equal(latest.data.val.y, chosen.data.val.y)
    weights = dict(latest.model.state_dict())
    for name, tensor in chosen.model.state_dict().items():
        assert torch.equal(weights[name], tensor)


# -- precision --------------------------------------------------------------------------------------


def test_bf16_only_where_the_cpu_does_it_natively(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
    assert not environment.native_bf16(cpu)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    monkeypatch.setattr(environment, "_cpu_flags", lambda: {"avx512f", "avx512_bf16"})
    assert environment.native_bf16(cpu)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert not environment.native_bf16(cpu)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA")
    monkeypatch.setattr(environment, "_cpu_flags", lambda: {"avx512f"})
    assert not environment.native_bf16(cpu)


def chosen_config(result) -> dict:
    return {**RunConfig(model="softmax", epochs=2, lr=0.05, eval_every=7).describe(), "data": fingerprint(result.data)}


def test_a_capped_instruction_set_trains_the_cnn_in_float32():
    code = ("import torch; from helpers.environment import native_bf16; from helpers.training import Trainer;"
            "from helpers.models import MODELS, build_model; from helpers.data import Mnist, Split;"
            "s = Split(torch.rand(8, 784), torch.arange(8) % 10);"
            "print(native_bf16(torch.device('cpu')), Trainer(build_model('cnn'), Mnist(s, s, ''),"
            " MODELS['cnn'].recipe).precision)")
    capped = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                            env={**os.environ, "ATEN_CPU_CAPABILITY": "avx2"})
    assert capped.stdout.split() == ["False", "fp32"], capped.stderr


def test_a_checkpoint_trained_in_another_precision_is_not_resumed(tiny_mnist, tmp_path, capsys, monkeypatch):
    config = RunConfig(model="cnn", epochs=2, batch_size=64, eval_every=50)
    monkeypatch.setattr(training, "native_bf16", lambda device: True)
    first = Trainer(build_model("cnn"), load_mnist(tiny_mnist), config.recipe)
    assert first.precision == "bf16"
    first.train_epoch()
    RunFolder(tmp_path, "cnn", {**config.describe(), "data": fingerprint(first.data)}).save(training._checkpoint(first))
    monkeypatch.setattr(training, "native_bf16", lambda device: False)
    capsys.readouterr()
    result = train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    out = capsys.readouterr().out
    assert "was trained in bf16, and this device trains in fp32" in out and "Resuming" not in out
    assert result.metrics["precision"] == "fp32" and result.metrics["steps"] == 2 * 10


def test_two_damaged_checkpoints_in_the_same_second_are_both_kept(tiny_mnist, tmp_path):
    config = RunConfig(model="softmax", epochs=1)
    first = train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    for content in (b"first damaged file", b"second damaged file"):
        (first.run_dir / "metrics.json").unlink()
        (first.run_dir / "checkpoint.pt").write_bytes(content)
        train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    kept = sorted(p.read_bytes() for p in first.run_dir.glob("checkpoint.set-aside-*.pt"))
    assert kept == [b"first damaged file", b"second damaged file"]
