"""The command line, in this process: bad input and failures are one clear line on stderr, never a traceback.

(Real processes that are interrupted, killed and resumed are in test_robustness.py.)"""

from __future__ import annotations

import json

import pytest


def test_bad_parameter_is_one_clear_line(tmp_path, cli):
    code, _, err = cli("train", "--model", "softmax", "--epochs", "0", "--data-dir", str(tmp_path))
    assert code == 2
    assert err.strip() == ("error: epochs=0 is not accepted: epochs must be a positive whole number "
                           "(or None for the model's own recipe)")


def test_an_unknown_option_is_argparses_one_line_and_exit_2(cli, capsys):
    with pytest.raises(SystemExit) as stop:
        cli("train", "--epoks", "3")
    assert stop.value.code == 2 and "unrecognized arguments: --epoks 3" in capsys.readouterr().err


def test_train_prints_the_final_metrics_as_json(tiny_mnist, tmp_path, cli):
    code, out, _ = cli("train", "--model", "softmax", "--epochs", "1", "--no-progress", "--data-dir", str(tiny_mnist),
                       "--artifacts-dir", str(tmp_path))
    summary = json.loads(out[out.index("{"):])
    assert code == 0 and summary["steps"] == 20 and "history" not in summary
    assert summary == {k: v for k, v in json.loads((tmp_path / "softmax" / "metrics.json").read_text()).items()
                       if k != "history"}


OFFLINE = {"https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}  # no network here anyway


def test_missing_data_offline_names_the_urls_and_the_fix(tmp_path, cli, monkeypatch):
    for name, value in OFFLINE.items():
        monkeypatch.setenv(name, value)
    code, _, err = cli("train", "--model", "softmax", "--data-dir", str(tmp_path / "empty"),
                       "--artifacts-dir", str(tmp_path / "a"))
    assert code == 2, err[-3000:]
    assert err.startswith("error: Could not download MNIST") and "train-images-idx3-ubyte.gz" in err
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/" in err and "place the four files by hand" in err


def test_a_failing_notebook_is_reported_in_one_message(tmp_path, capsys, monkeypatch):
    # Offline and no data: notebook 01 cannot download MNIST, and `python -m tools.series` says so without a traceback.
    from tools.series import main

    for name, value in OFFLINE.items():
        monkeypatch.setenv(name, value)
    code = main(["--smoke", "--data-dir", str(tmp_path / "empty"), "--artifacts-dir", str(tmp_path / "a")])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: 01_preprocessing stopped in cell" in err and "DataError" in err and "Could not download MNIST" in err
    assert str(tmp_path / "a" / "notebooks" / "01_preprocessing.ipynb") in err
    assert "Traceback" not in err
