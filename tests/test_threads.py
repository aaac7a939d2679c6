"""CPU threads per model: applied while training, overridable, the environment wins, the caller's setting comes
back, and the numbers do not depend on it. "auto" (helpers.step_threads) times both counts and keeps the faster."""

from __future__ import annotations

import pytest
import torch

from helpers import environment
from helpers.batches import Batches
from helpers.data import Mnist, Split
from helpers.models import MODELS, Recipe, build_model
from helpers.step_threads import StepThreads
from helpers.training import ParameterError, RunConfig, Trainer, train


def data() -> Mnist:
    g = torch.Generator().manual_seed(0)
    split = Split(torch.rand(300, 784, generator=g), torch.randint(0, 10, (300,), generator=g))
    return Mnist(split, split, "random")


def threads_seen(model, **trainer_kwargs) -> tuple[set[int], set[int]]:
    """The thread counts during the training steps' forward passes, and during the validations'."""
    steps, validations = set(), set()
    model.register_forward_hook(lambda m, *_: (steps if m.training else validations).add(torch.get_num_threads()))
    Trainer(model, data(), Recipe(epochs=1, batch_size=64, lr=0.1), eval_every=2, **trainer_kwargs).fit()
    return steps, validations


def threads_seen_while_training(model, **trainer_kwargs) -> set[int]:
    return threads_seen(model, **trainer_kwargs)[0]


@pytest.fixture
def two_threads(monkeypatch):
    for name in environment.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_the_trainer_trains_with_its_threads_and_gives_the_callers_back(two_threads):
    assert threads_seen_while_training(build_model("softmax"), threads=1) == {1}
    assert torch.get_num_threads() == 2
    assert threads_seen_while_training(build_model("softmax")) == {2}  # None: the caller's setting


def test_the_whole_epoch_runs_on_the_trainers_threads(two_threads, monkeypatch):
    """The shuffled copy and the validations too: beside a busy program, two threads make them wait as well."""
    copies, original = [], Batches.__iter__
    monkeypatch.setattr(Batches, "__iter__", lambda self: (copies.append(torch.get_num_threads()), original(self))[1])
    assert threads_seen(build_model("softmax"), threads=1) == ({1}, {1})
    assert copies == [1] and torch.get_num_threads() == 2


def test_the_environment_wins(two_threads, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert threads_seen_while_training(build_model("softmax"), threads=1) == {2}


def test_train_uses_the_models_choice_unless_told_otherwise(two_threads, tiny_mnist, tmp_path, monkeypatch):
    import helpers.training as training

    chosen = []
    original = training.Trainer.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        chosen.append(self.threads)

    monkeypatch.setattr(training.Trainer, "__init__", spy)
    train(RunConfig(model="seed_linear", epochs=1), data_dir=tiny_mnist, artifacts_dir=tmp_path, progress=False)
    train(RunConfig(model="softmax", epochs=1), data_dir=tiny_mnist, artifacts_dir=tmp_path / "b", progress=False,
          threads=2)
    assert chosen == [MODELS["seed_linear"].cpu_threads, 2] and chosen[0] == 1
    with pytest.raises(ParameterError, match="threads=0 is not accepted"):
        train(RunConfig(model="softmax"), data_dir=tiny_mnist, artifacts_dir=tmp_path, threads=0)


@pytest.mark.parametrize(("name", "counts"), [("seed_linear", (1, 2)), ("mlp", (1, 2)), ("mlp", (2, "auto"))])
def test_the_numbers_do_not_depend_on_the_thread_count(two_threads, name, counts):
    runs = []
    for threads in counts:
        trainer = Trainer(build_model(name, 1), data(), Recipe(epochs=2, batch_size=32, lr=0.05), seed=2,
                          eval_every=4, threads=threads)
        trainer.fit()
        runs.append(trainer)
    one, two = runs
    assert torch.allclose(one.history.batch_loss, two.history.batch_loss, rtol=1e-5, atol=1e-6)
    assert torch.equal(one.history.batch_correct, two.history.batch_correct)
    assert one.history.val_error == two.history.val_error
    for a, b in zip(one.model.parameters(), two.model.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)


def test_a_convolutions_step_computes_the_same_with_one_or_two_threads(two_threads):
    """oneDNN splits a convolution's sums by thread, so the last bits may differ; the step is the same step."""
    x, y = data().train.x[:64], data().train.y[:64]
    steps = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        model = build_model("cnn", 3)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        steps.append((loss.detach(), [p.grad.clone() for p in model.parameters()]))
    (loss1, grads1), (loss2, grads2) = steps
    assert torch.allclose(loss1, loss2, rtol=1e-6)
    for a, b in zip(grads1, grads2, strict=True):  # rounding: far below a gradient's own scale
        assert (a - b).abs().max() <= 1e-4 * a.abs().max()


# -- "auto": timed while training ---------------------------------------------------------------------


class Machine:
    """A pretend CPU: a step's seconds depend on the thread count it runs with (``cost``), on a fake clock."""

    def __init__(self, cost: dict[int, float]):
        self.cost, self.now = cost, 0.0

    def clock(self) -> float:
        return self.now

    def train(self, chooser: StepThreads, steps: int, first_step: int = 0, pause_at=(), paused=None) -> list[int]:
        seen = []
        with chooser.epoch(range(steps), first_step) as batches:
            for step in batches:
                seen.append(torch.get_num_threads())
                self.now += self.cost[torch.get_num_threads()]
                if step + first_step in pause_at:  # a validation: time that is not a step's
                    self.now += 100.0
                    paused[0] += 100.0
        return seen


def test_auto_keeps_the_faster_count_and_probes_again_when_the_machine_changes(two_threads):
    machine = Machine({1: 1.5, 2: 1.0})  # quiet: two threads are faster
    chooser = StepThreads("auto", every=50, block=3, clock=machine.clock)
    seen = machine.train(chooser, 50)
    assert seen[:12] == [1] * 3 + [2] * 6 + [1] * 3  # the probe: A B B A, three steps each
    assert set(seen[12:]) == {2} and chooser.choice == 2
    assert torch.get_num_threads() == 2  # the caller's count is back
    machine.cost = {1: 1.5, 2: 4.0}  # busy: another process holds a core
    seen = machine.train(chooser, 50, first_step=50)  # the next probe starts at step 50
    assert set(seen[12:]) == {1} and chooser.choice == 1
    assert [p["chosen"] for p in chooser.probes] == [2, 1]
    assert chooser.probes[1]["seconds_per_step"] == {"1": 1.5, "2": 4.0}
    assert chooser.steps_on == {1: 6 + 6 + 38, 2: 6 + 38 + 6}


def test_auto_probes_less_often_while_the_probes_confirm_its_choice(two_threads):
    machine = Machine({1: 1.5, 2: 1.0})
    chooser = StepThreads("auto", every=50, block=3, clock=machine.clock)
    machine.train(chooser, 600)
    # the first probe chooses, the next ones confirm: 50, then 100, then at most 4 x 50 steps apart
    assert [p["step"] for p in chooser.probes] == [s + 12 for s in (0, 50, 150, 350, 550)]
    assert chooser.steps_on[1] == 5 * 6
    machine.cost = {1: 1.5, 2: 4.0}
    machine.train(chooser, 400, first_step=600)
    assert [p["step"] for p in chooser.probes][5:] == [s + 12 for s in (750, 800, 900)]  # changed: 50 again
    assert [p["chosen"] for p in chooser.probes] == [2] * 5 + [1] * 3


def test_auto_leaves_the_validations_time_out_of_its_probes(two_threads):
    machine, paused = Machine({1: 1.5, 2: 1.0}), [0.0]
    chooser = StepThreads("auto", every=1000, block=3, clock=machine.clock, not_counted=lambda: paused[0])
    machine.train(chooser, 30, pause_at={4, 5}, paused=paused)  # two validations in the two-thread blocks
    assert chooser.choice == 2 and chooser.probes[0]["seconds_per_step"] == {"1": 1.5, "2": 1.0}


def test_a_validation_during_a_probe_runs_on_the_chosen_count_not_the_trial_one(two_threads):
    trainer = Trainer(build_model("mlp", 0), data(), Recipe(epochs=1, batch_size=16, lr=0.05), eval_every=2,
                      threads="auto")
    validations = []
    trainer.model.register_forward_hook(lambda m, *_: None if m.training else validations.append(
        torch.get_num_threads()))
    trainer.fit()  # validations at steps 0, 2, 4, ...: the first probe (steps 0-11) tries 1 thread on 0-2, 9-11
    assert trainer.step_threads.steps_on[1] >= 6
    assert validations[:6] == [2] * 6  # no choice yet: all of the caller's threads
    assert set(validations[6:]) == {trainer.step_threads.choice}


def test_auto_restores_the_callers_count_when_training_stops_with_an_error(two_threads):
    chooser = StepThreads("auto", clock=Machine({1: 1.0, 2: 2.0}).clock)
    with pytest.raises(KeyboardInterrupt), chooser.epoch(range(10), 0) as batches:
        for step in batches:
            if step == 4:
                assert torch.get_num_threads() == 2
                raise KeyboardInterrupt
    assert torch.get_num_threads() == 2


def test_auto_has_nothing_to_choose_with_one_thread_or_when_the_environment_says(two_threads, monkeypatch):
    machine = Machine({1: 1.0, 2: 1.0})
    torch.set_num_threads(1)
    assert set(machine.train(StepThreads("auto", clock=machine.clock), 20)) == {1}
    torch.set_num_threads(2)
    monkeypatch.setenv("MKL_NUM_THREADS", "2")
    chooser = StepThreads("auto", clock=machine.clock)
    assert set(machine.train(chooser, 20)) == {2} and chooser.probes == []


def test_the_trainer_probes_both_counts_reports_them_and_keeps_them_in_its_checkpoint(two_threads):
    trainer = Trainer(build_model("mlp", 0), data(), Recipe(epochs=2, batch_size=16, lr=0.05), eval_every=7,
                      threads="auto")
    trainer.fit()
    report = trainer.results()["cpu_threads"]
    assert report["setting"] == "auto" and report["probes"] >= 1
    assert set(report["steps_on"]) == {"1", "2"} and sum(report["steps_on"].values()) == trainer.step
    assert sum(report["chosen"].values()) == report["probes"]
    assert torch.get_num_threads() == 2
    again = Trainer(build_model("mlp", 0), data(), Recipe(epochs=2, batch_size=16, lr=0.05), threads="auto")
    again.load_state_dict(trainer.state_dict())
    assert again.results()["cpu_threads"] == report


def test_bad_thread_settings_are_refused():
    for bad in (0, -1, 1.5, True, "fast"):
        with pytest.raises(ValueError, match="is not accepted"):
            StepThreads(bad)


def test_train_records_the_models_timed_choice_and_the_command_line_accepts_auto(two_threads, tiny_mnist, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    metrics = train(RunConfig(model="mlp", epochs=1), data_dir=tiny_mnist, artifacts_dir=tmp_path,
                    progress=False).metrics
    assert MODELS["mlp"].cpu_threads == "auto" and metrics["cpu_threads"]["setting"] == "auto"
    assert sum(metrics["cpu_threads"]["steps_on"].values()) == metrics["steps"]
    fixed = train(RunConfig(model="mlp", epochs=1), data_dir=tiny_mnist, artifacts_dir=tmp_path / "b",
                  progress=False, threads=1).metrics["cpu_threads"]
    assert fixed == {"setting": 1, "steps_on": {"1": metrics["steps"]}, "probes": 0, "chosen": {}}
    bad = subprocess.run([sys.executable, "-m", "helpers", "train", "--threads", "lots"], capture_output=True,
                         text=True, cwd=Path(__file__).parent.parent)
    assert bad.returncode == 2 and "'lots' is neither a number nor auto" in bad.stderr
