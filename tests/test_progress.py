"""Progress moves while a run trains: the terminal bar and the notebook's live figure are shown after every
validation and every ``Trainer.show_every`` seconds in between, counted on the host (the trainer never reads the
device for it). The clock here is a fake one that the tests move, so nothing depends on how fast this machine is."""

from __future__ import annotations

import re
import time
import types

import pytest
from conftest import make_mnist
from IPython.core.interactiveshell import InteractiveShell

from helpers import plots, training
from helpers.training import RunConfig, train


class FakeClock:
    """``monotonic()`` that moves on by ``tick`` seconds at every call: a step takes ``tick`` seconds of training."""

    def __init__(self, tick: float):
        self.now, self.tick = 0.0, tick

    def monotonic(self) -> float:
        self.now += self.tick
        return self.now


@pytest.fixture
def cnn_epoch(tmp_path):
    """One epoch of the CNN's recipe on 4,096 synthetic digits: 32 steps of 128, validated at step 0 only."""
    data = make_mnist(tmp_path / "data", n_train=4096, n_test=200)
    return RunConfig(model="cnn", epochs=1, eval_every=1000), data


def test_the_bar_moves_inside_an_epoch(cnn_epoch, tmp_path, monkeypatch, capsys):
    config, data = cnn_epoch
    clock = FakeClock(0.2)  # each step seems to take 0.2 s: the bar should move about every third step
    monkeypatch.setattr(training, "time", types.SimpleNamespace(monotonic=clock.monotonic,
                                                                perf_counter=time.perf_counter))
    train(config, data_dir=data, artifacts_dir=tmp_path / "a", device="cpu")
    positions = [int(n) for n in re.findall(r"(\d+)/32 \[", capsys.readouterr().err)]
    inside = sorted({n for n in positions if 0 < n < 32})
    assert len(inside) >= 2, positions
    assert positions[-1] == 32 and positions == sorted(positions)
    assert max(b - a for a, b in zip([0, *inside], [*inside, 32])) <= 4  # never more than 0.8 s of fake time apart


def test_no_progress_means_no_clock_reading_in_the_loop(cnn_epoch, tmp_path, monkeypatch, capsys):
    config, data = cnn_epoch
    clock = FakeClock(0.2)
    monkeypatch.setattr(training, "time", types.SimpleNamespace(monotonic=clock.monotonic,
                                                                perf_counter=time.perf_counter))
    train(config, data_dir=data, artifacts_dir=tmp_path / "a", device="cpu", progress=False)
    assert capsys.readouterr().err == "" and clock.now <= 0.2 * 3  # the validation and epoch end, not the 32 steps


def test_the_live_figure_redraws_inside_an_epoch_and_says_how_its_curve_is_tallied(cnn_epoch, tmp_path, monkeypatch):
    config, data = cnn_epoch
    monkeypatch.setattr(InteractiveShell, "kernel", object(), raising=False)  # as in a notebook: draw, no bar
    shell = InteractiveShell.instance()
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    drawn = []

    class Handle:
        def update(self, fig):
            drawn.append(fig)

    def display(fig, display_id=False):
        drawn.append(fig)
        return Handle()

    monkeypatch.setattr("IPython.display.display", display)
    monkeypatch.setattr(plots.plt, "close", lambda fig: None)  # keep them to look at
    clock = FakeClock(0.2)
    monkeypatch.setattr(training, "time", types.SimpleNamespace(monotonic=clock.monotonic,
                                                                perf_counter=time.perf_counter))
    monkeypatch.setattr(plots, "time", types.SimpleNamespace(monotonic=clock.monotonic))
    train(config, data_dir=data, artifacts_dir=tmp_path / "a", device="cpu")
    steps = [int(re.search(r"step (\d+) of 32", fig.axes[0].get_title())[1]) for fig in drawn]
    assert len({s for s in steps if 0 < s < 32}) >= 2, steps
    assert steps[-1] == 32
    notes = [t.get_text() for fig in drawn if 0 < steps[drawn.index(fig)] < 32 for t in fig.axes[0].texts]
    assert "training curve: tallied at the end of each epoch" in notes
    InteractiveShell.clear_instance()
