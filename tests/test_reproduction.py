"""On the real MNIST files (when this machine has them): the post's numbers, reproduced."""

from pathlib import Path

import pytest
from conftest import ENV_DATA, SHARED_DATA

from helpers.training import RunConfig, train

REAL = next((Path(p) for p in (ENV_DATA, SHARED_DATA) if p and (Path(p) / "MNIST" / "raw").is_dir()), None)
pytestmark = pytest.mark.skipif(REAL is None, reason="real MNIST not on this machine")


def test_seed_linear_with_defaults_lands_in_the_posts_band(tmp_path):
    result = train(RunConfig(), data_dir=REAL, artifacts_dir=tmp_path, progress=False)
    m = result.metrics
    assert (m["epochs"], m["batch_size"], m["lr"], m["steps"]) == (25, 32, 0.08, 46_875)
    assert len(m["history"]["val"]["step"]) == 94 + 1  # steps 0, 500, ..., 46,500, then after the last step
    assert 7.43 - 0.5 <= m["val_error"] <= 7.43 + 0.5


def test_the_whole_series_with_defaults_on_real_mnist(tmp_path):
    """The README's run command, end to end: notebooks 01-05 with their default parameters."""
    import json

    from helpers.series import NOTEBOOKS, run_series

    executed = run_series(data_dir=REAL, artifacts_dir=tmp_path)
    assert [p.stem for p in executed] == list(NOTEBOOKS)

    def metrics(model):
        return json.loads((tmp_path / model / "metrics.json").read_text())

    seed = metrics("seed_linear")
    assert seed["steps"] == 46_875 and 6.93 <= seed["val_error"] <= 7.93
    cnn = metrics("cnn")
    assert cnn["epochs"] == 8 and cnn["val_error"] <= 0.55  # 0.43 % for seed 0 on the project's CPUs
    assert metrics("mlp")["val_error"] < 2.0 and metrics("softmax")["val_error"] < 8.0
