"""On the real MNIST files (when this machine has them): the post's numbers, reproduced by notebook 03 at full size,
both by the learner's own loop and by the trainer."""

import json
import re
from pathlib import Path

import pytest
from conftest import ENV_DATA, SHARED_DATA

from tools.series import run_series

REAL = next((Path(p) for p in (ENV_DATA, SHARED_DATA) if p and (Path(p) / "MNIST" / "raw").is_dir()), None)
pytestmark = pytest.mark.skipif(REAL is None, reason="real MNIST not on this machine")
BAND = (7.43 - 0.5, 7.43 + 0.5)  # the post's validation error, give or take half a point


def test_notebook_03_with_defaults_lands_in_the_posts_band_with_your_loop_and_with_the_trainer(tmp_path):
    (executed,) = run_series(data_dir=REAL, artifacts_dir=tmp_path, notebooks=("03_training",))
    printed = "".join("".join(o.get("text", "")) for c in json.loads(executed.read_text())["cells"]
                      for o in c.get("outputs", []) if o["output_type"] == "stream")
    yours = re.search(r"([\d,]+) steps in [\d.]+ s of training: validation error ([\d.]+) %", printed)
    assert yours and yours[1] == "46,875" and BAND[0] <= float(yours[2]) <= BAND[1], printed[-2000:]
    m = json.loads((tmp_path / "seed_linear" / "metrics.json").read_text())
    assert (m["epochs"], m["batch_size"], m["lr"], m["steps"]) == (25, 32, 0.08, 46_875)
    assert len(m["history"]["val"]["step"]) == 94 + 1  # steps 0, 500, ..., 46,500, then after the last step
    assert BAND[0] <= m["val_error"] <= BAND[1]
    assert abs(m["val_error"] - float(yours[2])) < 0.05  # the notebook asserts the two runs agree; this says so too
