"""The trainer: the post's numbers, its metric definitions and cadence, its thread policy; runs on disk."""

from __future__ import annotations

import json
import time
import types

import pytest
import torch
from conftest import random_data

import helpers.training as training
from benchmarks.reference import post_loop
from helpers import runs
from helpers.data import Mnist, load_mnist
from helpers.evaluation import evaluate
from helpers.models import MODELS, Recipe, build_model
from helpers.training import ParameterError, RunConfig, Trainer, cumulative, train


def test_fast_trainer_computes_exactly_what_the_posts_loop_computes():
    data = random_data()  # 150 samples: 4 full batches of 32 and one of 22 per epoch
    reference = post_loop(build_model("seed_linear", 3), data, epochs=3, batch_size=32, lr=0.08, eval_every=2, seed=5)
    trainer = Trainer(build_model("seed_linear", 3), data, Recipe(epochs=3, batch_size=32, lr=0.08), seed=5,
                      eval_every=2)
    trainer.fit()
    loss, error = cumulative(trainer.history, trainer.step)
    h = trainer.history
    assert trainer.step == reference["steps"] == 15
    assert torch.allclose(loss, torch.tensor(reference["train_loss"], dtype=torch.float64), rtol=1e-6, atol=1e-7)
    assert torch.allclose(error, torch.tensor(reference["train_error"], dtype=torch.float64), atol=1e-9)
    assert h["val_step"] == reference["val_step"] == list(range(0, 15, 2))
    assert h["val_error"] == pytest.approx(reference["val_error"], abs=1e-4)
    assert h["val_loss"] == pytest.approx(reference["val_loss"], rel=1e-5)
    assert evaluate(trainer.model, data.val)[1].item() == pytest.approx(reference["final_val_error"], abs=1e-4)


def test_cumulative_metrics_match_a_hand_computed_case():
    history = {"loss": torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64),
               "correct": torch.tensor([1.0, 3.0, 2.0], dtype=torch.float64),
               "size": torch.tensor([4.0, 4.0, 2.0], dtype=torch.float64)}
    loss, error = cumulative(history, 3)
    # after step 0: 8/4 = 2;  step 1: (8 + 4)/8 = 1.5;  step 2: (12 + 1)/10 = 1.3
    assert loss.tolist() == pytest.approx([2.0, 1.5, 1.3])
    # correct so far: 1/4, 4/8, 6/10  ->  error 75 %, 50 %, 40 %
    assert error.tolist() == pytest.approx([75.0, 50.0, 40.0])


def test_validation_runs_before_the_update_on_the_posts_cadence():
    data = random_data()
    model = build_model("softmax", 0)
    _, initial_error = evaluate(model, data.val)
    trainer = Trainer(model, data, Recipe(epochs=2, batch_size=32, lr=0.5), eval_every=4)
    trainer.fit()
    assert trainer.history["val_step"] == [0, 4, 8]
    assert trainer.history["val_error"][0] == pytest.approx(initial_error.item())  # step 0: untrained weights


def test_plain_sgd_update_gives_torch_optims_weights_bit_for_bit():
    recipe = Recipe(epochs=2, batch_size=32, lr=0.1)
    fast = Trainer(build_model("seed_linear", 2), random_data(), recipe, seed=4, eval_every=3)
    plain = Trainer(build_model("seed_linear", 2), random_data(), recipe, seed=4, eval_every=3)
    assert fast.plain_sgd
    plain.plain_sgd = False  # every update through torch.optim.SGD.step()
    fast.fit(), plain.fit()
    for a, b in zip(fast.model.parameters(), plain.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(fast.history["loss"], plain.history["loss"])


@pytest.mark.parametrize("extra", [{"momentum": 0.9}, {"weight_decay": 1e-4}, {"schedule": "onecycle"},
                                   {"optimizer": "adam"}])
def test_other_optimisers_and_schedules_use_torch_optim(extra):
    recipe = Recipe(epochs=1, batch_size=32, lr=0.1, **extra)
    assert not Trainer(build_model("softmax"), random_data(), recipe).plain_sgd


def test_a_parameter_without_a_gradient_is_left_alone():
    model = build_model("softmax", 0)
    model.unused = torch.nn.Parameter(torch.zeros(3))  # never reaches the loss, so it never gets a gradient
    trainer = Trainer(model, random_data(), Recipe(epochs=1, batch_size=32, lr=0.1))
    before = model[0].weight.detach().clone()
    trainer.fit()
    assert trainer.step == 5 and torch.equal(model.unused, torch.zeros(3))
    assert not torch.equal(before, model[0].weight)


@pytest.mark.parametrize("name", ["softmax", "mlp", "cnn"])
def test_models_learn_the_synthetic_digits(tiny_mnist, name):
    data = load_mnist(tiny_mnist)
    recipe = Recipe(epochs=3, batch_size=32, lr=0.05, momentum=0.9, shift=1 if name == "cnn" else 0)
    trainer = Trainer(build_model(name), data, recipe, eval_every=1000)
    trainer.fit()
    assert trainer.history["val_error"][0] > 50 and evaluate(trainer.model, data.val)[1] < 10.0


def test_the_training_clock_leaves_scoring_out(monkeypatch):
    # A fake clock: each training step's forward pass takes 1 s, each validation 100 s.
    clock = types.SimpleNamespace(now=0.0, scoring=False, monotonic=time.monotonic)
    clock.perf_counter = lambda: clock.now

    def slow_evaluate(model, split):
        clock.scoring = True
        try:
            clock.now += 100.0
            return evaluate(model, split)
        finally:
            clock.scoring = False

    monkeypatch.setattr(training, "time", clock)
    monkeypatch.setattr(training, "evaluate", slow_evaluate)
    model = build_model("softmax", 0)
    model.register_forward_hook(lambda *_: setattr(clock, "now", clock.now + (0.0 if clock.scoring else 1.0)))
    trainer = Trainer(model, random_data(), Recipe(epochs=2, batch_size=32, lr=0.1), eval_every=3)
    trainer.fit()
    h = trainer.history
    assert trainer.step == 10 and h["val_step"] == [0, 3, 6, 9]
    assert trainer.seconds == 10.0  # the ten steps, none of the 400 s of scoring
    assert h["val_seconds"] == [1.0, 4.0, 7.0, 10.0]  # after its step's forward and backward pass, like the post


def test_linear_models_train_on_one_thread_and_the_callers_count_comes_back(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen = []
        model = build_model("seed_linear", 0)
        model.register_forward_hook(lambda *_: seen.append(torch.get_num_threads()))
        assert MODELS["seed_linear"].cpu_threads == 1 and MODELS["cnn"].cpu_threads is None
        Trainer(model, random_data(), Recipe(epochs=1, batch_size=32, lr=0.1), threads=1).fit()
        assert set(seen) == {1} and torch.get_num_threads() == 2
        monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the user's setting wins
        seen.clear()
        Trainer(model, random_data(), Recipe(epochs=1, batch_size=32, lr=0.1), threads=1).fit()
        assert set(seen) == {2}
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("name", ["seed_linear", "mlp"])
def test_the_numbers_do_not_depend_on_the_thread_count(name):
    # Notebook 03 compares the learner's loop (all threads) with the trainer (one thread for the linear models).
    recipe = Recipe(epochs=2, batch_size=32, lr=0.05)
    runs_ = [Trainer(build_model(name, 0), random_data(), recipe, seed=1, eval_every=3, threads=n) for n in (1, 2)]
    for trainer in runs_:
        trainer.fit()
    assert torch.allclose(runs_[0].history["loss"], runs_[1].history["loss"], rtol=1e-5)
    assert runs_[0].history["val_error"] == runs_[1].history["val_error"]


# -- parameters -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "resnet"}, r"model='resnet' is not accepted: model must be one of 'seed_linear'"),
        ({"epochs": 0}, r"epochs=0 is not accepted: epochs must be a positive whole number"),
        ({"epochs": 2.5}, r"epochs=2.5 is not accepted"),
        ({"epochs": True}, r"epochs=True is not accepted"),
        ({"batch_size": -32}, r"batch_size=-32 is not accepted"),
        ({"lr": 0}, r"lr=0 is not accepted: lr must be a positive number"),
        ({"lr": "0.1"}, r"lr='0.1' is not accepted"),
        ({"lr": float("nan")}, r"lr=nan is not accepted"),
        ({"eval_every": 0}, r"eval_every=0 is not accepted"),
        ({"eval_every": None}, r"eval_every=None is not accepted"),
        ({"seed": -1}, r"seed=-1 is not accepted: seed must be a whole number >= 0$"),
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


# -- runs on disk -----------------------------------------------------------------------------------

REQUIRED = {"model", "epochs", "steps", "val_error", "val_loss", "train_error", "train_seconds", "device", "seed",
            "torch_version", "history", "precision", "recipe"}


def test_train_writes_metrics_and_a_rerun_loads_the_finished_run(tiny_mnist, tmp_path, capsys):
    artifacts = tmp_path / "artifacts"
    config = RunConfig(model="softmax", epochs=2, eval_every=10)
    first = train(config, data_dir=tiny_mnist, artifacts_dir=artifacts, progress=False)
    latest = json.loads((artifacts / "softmax" / "metrics.json").read_text())
    assert REQUIRED <= set(latest) and latest["steps"] == 2 * 20 and latest["epochs"] == 2
    assert latest == json.loads((first.run_dir / "metrics.json").read_text())
    assert latest["history"]["val"]["step"] == [0, 10, 20, 30, 40]
    assert latest["history"]["train"]["step"][-1] == 39
    checkpoint = runs.load_checkpoint(first.run_dir / "checkpoint.pt")
    assert set(checkpoint) == {"model", "optimizer", "scheduler", "generator", "history", "epoch", "step", "seconds",
                               "config", "precision"}  # one flat dict
    assert checkpoint["config"]["recipe"]["epochs"] == 2 and checkpoint["epoch"] == 2
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


def test_a_checkpoint_of_another_configuration_is_never_resumed(tiny_mnist, tmp_path, capsys):
    config = RunConfig(model="softmax", epochs=2)
    a = train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    other = train(RunConfig(model="softmax", epochs=2, lr=0.5), data_dir=tiny_mnist, artifacts_dir=tmp_path,
                  progress=False)
    (a.run_dir / "metrics.json").unlink()
    (other.run_dir / "checkpoint.pt").replace(a.run_dir / "checkpoint.pt")  # copied into the wrong folder
    capsys.readouterr()
    b = train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    assert "belongs to another configuration" in capsys.readouterr().out
    assert b.metrics["val_error"] == a.metrics["val_error"]  # retrained from scratch, same seed, same result


@pytest.mark.parametrize("name", ["mlp", "cnn_fast"])  # one-cycle and Adam state in the checkpoint
def test_a_finished_run_with_a_schedule_is_loaded_not_retrained(tiny_mnist, tmp_path, capsys, name):
    config = RunConfig(model=name, epochs=1, batch_size=64)
    first = train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    capsys.readouterr()
    again = train(config, data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    assert "Loaded the finished run" in capsys.readouterr().out and again.metrics == first.metrics


def test_data_loaded_for_another_split_is_refused(tiny_mnist, tmp_path):
    data = load_mnist(tiny_mnist, smoke=True)
    with pytest.raises(ParameterError, match="smoke=True but the config says smoke=False"):
        train(RunConfig(model="softmax"), data=data, artifacts_dir=tmp_path / "a")
    assert isinstance(data, Mnist) and not list((tmp_path / "a").iterdir())
