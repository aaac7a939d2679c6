"""CPU threads per model: applied while training, overridable, the environment wins, the caller's setting comes
back, and the numbers do not depend on it."""

from __future__ import annotations

import pytest
import torch

from helpers import environment
from helpers.data import Mnist, Split
from helpers.models import MODELS, Recipe, build_model
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


def test_validations_use_all_of_the_callers_threads(two_threads):
    assert threads_seen(build_model("softmax"), threads=1) == ({1}, {2})


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


@pytest.mark.parametrize("name", ["seed_linear", "mlp"])
def test_the_numbers_do_not_depend_on_the_thread_count(two_threads, name):
    runs = []
    for threads in (1, 2):
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
