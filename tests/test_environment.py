"""Device choice, the Colab hint, and Google Drive only when asked for."""

import sys
import types

import pytest
import torch

from helpers import environment


def test_auto_picks_what_is_there_and_cpu_always_works():
    assert environment.pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert environment.pick_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("bad", ["tpu", "gpu", 3, None])
def test_bad_device_names_say_what_is_accepted(bad):
    with pytest.raises(ValueError, match="'auto', 'cpu', 'cuda'"):
        environment.pick_device(bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_a_missing_gpu_explains_the_fix():
    with pytest.raises(ValueError, match="Change runtime type"):
        environment.pick_device("cuda")


def test_colab_on_cpu_tells_how_to_get_a_gpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    line = environment.describe_device(torch.device("cpu"))
    assert "Runtime > Change runtime type" in line
    monkeypatch.delitem(sys.modules, "google.colab")
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert "Change runtime type" not in environment.describe_device(torch.device("cpu"))


def test_drive_is_only_mounted_when_asked(tmp_path, monkeypatch):
    mounted = []
    colab = types.ModuleType("google.colab")  # a stand-in for Colab's module and its drive.mount
    colab.drive = types.SimpleNamespace(mount=mounted.append)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    assert environment.artifacts_location("artifacts", use_drive=False).name == "artifacts"
    assert mounted == []
    path = environment.artifacts_location("artifacts", use_drive=True)
    assert mounted == ["/content/drive"]
    assert str(path) == "/content/drive/MyDrive/mnist-series/artifacts"
    assert environment.artifacts_location(tmp_path, use_drive=True) == tmp_path


def test_drive_outside_colab_is_ignored_with_a_note(capsys, monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert str(environment.artifacts_location("artifacts", use_drive=True)) == "artifacts"
    assert "only works in Google Colab" in capsys.readouterr().out
