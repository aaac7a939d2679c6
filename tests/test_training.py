"""The trainer: same numbers as the post's loop, the post's metric definitions, cadence, runs on disk."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import without_wall_clock

from helpers import checkpoints
from helpers.data import Mnist, Split, fingerprint, load_mnist
from helpers.evaluation import evaluate
from helpers.models import Recipe, build_model
from helpers.runs import RunFolder
from helpers.training import History, ParameterError, RunConfig, Trainer, train

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from reference import post_loop  # noqa: E402


def random_data(n_train=150, n_val=50, seed=1) -> Mnist:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n_train + n_val, 784, generator=g)
    y = torch.randint(0, 10, (n_train + n_val,), generator=g)
    return Mnist(Split(x[:n_train], y[:n_train]), Split(x[n_train:], y[n_train:]), "random")


def fit(trainer: Trainer) -> dict:
    trainer.fit()
    return trainer.results()


def test_fast_trainer_computes_exactly_what_the_posts_loop_computes():
    data = random_data()  # 150 samples: 4 full batches of 32 and one of 22 per epoch
    reference = post_loop(build_model("seed_linear", 3), data, epochs=3, batch_size=32, lr=0.08, eval_every=2, seed=5)
    trainer = Trainer(build_model("seed_linear", 3), data, Recipe(epochs=3, batch_size=32, lr=0.08), seed=5,
                      eval_every=2)
    results = fit(trainer)
    loss, error = trainer.history.cumulative(trainer.step)
    assert trainer.step == reference["steps"] == 15
    assert torch.allclose(loss, torch.tensor(reference["train_loss"], dtype=torch.float64), rtol=1e-6, atol=1e-7)
    assert torch.allclose(error, torch.tensor(reference["train_error"], dtype=torch.float64), atol=1e-9)
    assert trainer.history.val_step == reference["val_step"] == list(range(0, 15, 2))
    assert trainer.history.val_error == pytest.approx(reference["val_error"], abs=1e-4)
    assert trainer.history.val_loss == pytest.approx(reference["val_loss"], rel=1e-5)
    assert results["val_error"] == pytest.approx(reference["final_val_error"], abs=1e-4)


def test_cumulative_metrics_match_a_hand_computed_case():
    h = History(
        batch_loss=torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64),
        batch_correct=torch.tensor([1.0, 3.0, 2.0], dtype=torch.float64),
        batch_size=torch.tensor([4.0, 4.0, 2.0], dtype=torch.float64),
    )
    loss, error = h.cumulative(3)
    # after step 0: 8/4 = 2;  step 1: (8 + 4)/8 = 1.5;  step 2: (12 + 1)/10 = 1.3
    assert loss.tolist() == pytest.approx([2.0, 1.5, 1.3])
    # correct so far: 1/4, 4/8, 6/10  ->  error 75 %, 50 %, 40 %
    assert error.tolist() == pytest.approx([75.0, 50.0, 40.0])


def test_validation_runs_before_the_update_on_the_posts_cadence():
    data = random_data()
    model = build_model("softmax", 0)
    _, initial_error = evaluate(model, data.val)
    trainer = Trainer(model, data, Recipe(epochs=2, batch_size=32, lr=0.5), eval_every=4)
    fit(trainer)
    assert trainer.history.val_step == [0, 4, 8]
    assert trainer.history.val_error[0] == pytest.approx(initial_error.item())  # step 0: untrained weights


def test_one_training_step_changes_the_weights_and_lowers_the_loss():
    data = random_data(n_train=32)
    model = build_model("softmax", 0)
    before = [p.detach().clone() for p in model.parameters()]
    trainer = Trainer(model, data, Recipe(epochs=1, batch_size=32, lr=0.01))
    trainer.fit_epoch()
    assert trainer.step == 1
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    loss_after = torch.nn.functional.cross_entropy(model(data.train.x), data.train.y)
    assert loss_after < trainer.history.batch_loss[0]


def test_plain_sgd_update_gives_torch_optims_weights_bit_for_bit():
    data = random_data()
    recipe = Recipe(epochs=2, batch_size=32, lr=0.1)
    fast = Trainer(build_model("seed_linear", 2), data, recipe, seed=4, eval_every=3)
    plain = Trainer(build_model("seed_linear", 2), data, recipe, seed=4, eval_every=3)
    assert fast.plain_sgd
    plain.plain_sgd = False  # every update through torch.optim.SGD.step()
    fit(fast), fit(plain)
    for a, b in zip(fast.model.parameters(), plain.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(fast.history.batch_loss, plain.history.batch_loss)


@pytest.mark.parametrize("extra", [{"momentum": 0.9}, {"weight_decay": 1e-4}, {"schedule": "onecycle"}])
def test_other_optimisers_and_schedules_use_torch_optim(extra):
    recipe = Recipe(epochs=1, batch_size=32, lr=0.1, **extra)
    assert not Trainer(build_model("softmax"), random_data(), recipe).plain_sgd


def test_a_parameter_without_a_gradient_falls_back_to_torch_optim():
    model = build_model("softmax", 0)
    model.unused = torch.nn.Parameter(torch.zeros(3))  # never reaches the loss, so it never gets a gradient
    trainer = Trainer(model, random_data(), Recipe(epochs=1, batch_size=32, lr=0.1))
    before = model[0].weight.detach().clone()
    fit(trainer)
    assert trainer.step == 5 and torch.equal(model.unused, torch.zeros(3))
    assert not torch.equal(before, model[0].weight)


@pytest.mark.parametrize("name", ["softmax", "mlp", "cnn"])
def test_models_learn_the_synthetic_digits(tiny_mnist, name):
    data = load_mnist(tiny_mnist)
    recipe = Recipe(epochs=3, batch_size=32, lr=0.05, momentum=0.9, shift=1 if name == "cnn" else 0)
    results = fit(Trainer(build_model(name), data, recipe, eval_every=1000))
    assert results["val_error"] < 10.0


def test_target_error_stops_early():
    data = random_data()
    data = Mnist(data.train, data.train, "train as val")
    trainer = Trainer(build_model("softmax"), data, Recipe(epochs=50, batch_size=32, lr=1.0), eval_every=5,
                      target_error=50.0)
    results = fit(trainer)
    assert results["reached_target"] and trainer.history.val_error[-1] <= 50.0
    assert trainer.step < trainer.total_steps


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "resnet"}, r"model='resnet' is unknown: choose one of 'seed_linear'"),
        ({"epochs": 0}, r"epochs=0 is not accepted: epochs must be a positive whole number"),
        ({"epochs": 2.5}, r"epochs=2.5 is not accepted"),
        ({"epochs": True}, r"epochs=True is not accepted"),
        ({"batch_size": -32}, r"batch_size=-32 is not accepted"),
        ({"lr": 0}, r"lr=0 is not accepted: lr must be a positive number"),
        ({"lr": "0.1"}, r"lr='0.1' is not accepted"),
        ({"lr": float("nan")}, r"lr=nan is not accepted"),
        ({"eval_every": 0}, r"eval_every=0 is not accepted"),
        ({"eval_every": None}, r"eval_every=None is not accepted"),
        ({"seed": -1}, r"seed=-1 is not accepted"),
        ({"smoke": "yes"}, r"smoke='yes' is not accepted: smoke must be True or False"),
    ],
)
def test_bad_parameters_are_named_with_what_is_accepted(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        RunConfig(**kwargs)


def test_bad_parameters_fail_before_any_data_is_read(tmp_path):
    with pytest.raises(ParameterError, match="resume"):
        train(RunConfig(model="softmax"), data_dir=tmp_path / "nowhere", artifacts_dir=tmp_path, resume="yes")
    with pytest.raises(ValueError, match="device='tpu'"):
        train(RunConfig(model="softmax"), data_dir=tmp_path / "nowhere", artifacts_dir=tmp_path, device="tpu")
    assert not (tmp_path / "nowhere").exists()


def test_smoke_and_overrides_change_the_recipe():
    assert RunConfig(model="seed_linear", smoke=True).recipe.epochs == 1
    assert RunConfig(model="seed_linear", lr=0.01, batch_size=64).recipe.lr == 0.01


REQUIRED = {"model", "epochs", "steps", "val_error", "val_loss", "train_error", "train_seconds", "device", "seed",
            "torch_version", "history"}


def test_train_writes_metrics_and_a_rerun_loads_the_finished_run(tiny_mnist, tmp_path, capsys):
    artifacts = tmp_path / "artifacts"
    config = RunConfig(model="softmax", epochs=2, eval_every=10)
    first = train(config, data_dir=tiny_mnist, artifacts_dir=artifacts, progress=False)
    latest = json.loads((artifacts / "softmax" / "metrics.json").read_text())
    assert REQUIRED <= set(latest) and latest["steps"] == 2 * 20 and latest["epochs"] == 2
    assert latest == json.loads((first.run_dir / "metrics.json").read_text())
    assert latest["history"]["val"]["step"] == [0, 10, 20, 30, 40]
    assert latest["history"]["train"]["step"][-1] == 39
    capsys.readouterr()
    again = train(config, data_dir=tiny_mnist, artifacts_dir=artifacts, progress=False)
    assert "Loaded the finished run" in capsys.readouterr().out
    assert again.metrics == latest


def test_resume_false_keeps_the_old_run_aside(tiny_mnist, tmp_path, capsys):
    config = RunConfig(model="softmax", epochs=1)
    first = train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False, resume=False)
    out = capsys.readouterr().out
    assert "resume=False" in out and "nothing deleted" in out
    kept = [p for p in first.run_dir.parent.iterdir() if ".replaced-" in p.name]
    assert len(kept) == 1 and (kept[0] / "metrics.json").exists() and (first.run_dir / "metrics.json").exists()


def test_another_configuration_gets_its_own_folder_and_becomes_the_latest(tiny_mnist, tmp_path, capsys):
    a = train(RunConfig(model="softmax", epochs=1), data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    capsys.readouterr()
    b = train(RunConfig(model="softmax", epochs=2), data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    assert f"Training softmax in {b.run_dir}" in capsys.readouterr().out
    assert a.run_dir != b.run_dir and (a.run_dir / "checkpoint.pt").exists() and (a.run_dir / "metrics.json").exists()
    assert json.loads((tmp_path / "softmax" / "metrics.json").read_text())["run_id"] == b.metrics["run_id"]
    assert json.loads((a.run_dir / "metrics.json").read_text()) == a.metrics


def test_a_foreign_checkpoint_is_never_resumed(tiny_mnist, tmp_path, capsys):
    a = train(RunConfig(model="softmax", epochs=1), data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    state = checkpoints.load_checkpoint(a.run_dir / "checkpoint.pt")
    state["run_id"] = "0123456789"
    checkpoints.save_checkpoint(state, a.run_dir / "checkpoint.pt")
    capsys.readouterr()
    b = train(RunConfig(model="softmax", epochs=1), data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    assert "belongs to another configuration" in capsys.readouterr().out
    assert b.metrics["val_error"] == a.metrics["val_error"]  # retrained from scratch, same seed, same result


def test_resuming_mid_run_ends_exactly_like_an_uninterrupted_run(tiny_mnist, tmp_path):
    config = RunConfig(model="cnn", epochs=3, eval_every=7, batch_size=64)  # augmentation, momentum, schedule
    # A fixed thread count: a convolution's last bits depend on it (helpers.step_threads).
    whole = train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path / "a", progress=False, threads=1)

    # An interrupted run: one epoch done and checkpointed where train() keeps it, then the process died.
    data = load_mnist(tiny_mnist)
    first = Trainer(build_model("cnn", 0), data, config.recipe, eval_every=7, threads=1)
    first.fit_epoch()
    RunFolder(tmp_path / "b", config, fingerprint(data)).save_state(first.state_dict())
    resumed = train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path / "b", progress=False, threads=1)

    assert without_wall_clock(resumed.metrics) == without_wall_clock(whole.metrics)


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    checkpoints.save_checkpoint({"step": 1}, path)

    def broken_save(obj, stream):
        stream.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        checkpoints.save_checkpoint({"step": 2}, path)
    monkeypatch.undo()
    assert checkpoints.load_checkpoint(path) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]  # no temporary file left behind


def test_validation_time_is_left_out_of_the_training_clock(monkeypatch):
    import helpers.training as training

    def slow_evaluate(model, split):
        time.sleep(0.05)
        return evaluate(model, split)

    monkeypatch.setattr(training, "evaluate", slow_evaluate)
    trainer = Trainer(build_model("softmax", 0), random_data(), Recipe(epochs=2, batch_size=32, lr=0.1), eval_every=1)
    trainer.fit()
    h = trainer.history
    assert len(h.val_step) == trainer.step == 10
    assert trainer.eval_seconds >= 10 * 0.05 and trainer.train_seconds >= trainer.eval_seconds
    assert h.val_seconds == sorted(h.val_seconds) and h.val_seconds[-1] < 0.05  # ten scorings, none counted


@pytest.mark.parametrize("name", ["mlp", "cnn_fast"])  # one-cycle and Adam state in the checkpoint
def test_a_finished_run_with_a_schedule_is_loaded_not_retrained(tiny_mnist, tmp_path, capsys, name):
    config = RunConfig(model=name, epochs=1, batch_size=64)
    first = train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    capsys.readouterr()
    again = train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    assert "Loaded the finished run" in capsys.readouterr().out and again.metrics == first.metrics
