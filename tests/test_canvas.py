"""helpers.canvas's Python side: the drawing pad's reading, its front-end files, and the photo upload (ipywidgets'
FileUpload outside Colab, Colab's own ``google.colab.files.upload()`` in Colab, through a stand-in module), each
with a photo over 1 MB, the size at which FileUpload delivers nothing in Colab (jupyter-widgets/ipywidgets#3452).
The drawing pad in a real browser: test_browser.py."""

from __future__ import annotations

import base64
import io
import sys
import tomllib
import types
from datetime import UTC, datetime
from pathlib import Path

import ipywidgets
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from helpers import canvas, digits  # noqa: E402
from helpers.models import build_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def seven(size=(280, 280)) -> np.ndarray:
    return digits.draw_strokes(digits.STROKES[7], size=size)


def png_data_url(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).convert("RGBA").save(buffer, format="PNG")
    return canvas.PNG_PREFIX + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="module")
def models() -> dict:
    return {"seed_linear": build_model("seed_linear", 0), "cnn": build_model("cnn", 0)}


@pytest.fixture(scope="module")
def big_photo() -> bytes:
    """A phone-sized photo (2000 x 1500, JPEG) of a dark "3" on grainy paper lit from one side: over 1 MB."""
    ink = 1 - torch.from_numpy(digits.draw_strokes(digits.STROKES[3], size=(1500, 2000), width=90)).float() / 255
    light = torch.linspace(0.55, 0.9, 2000).expand(1500, 2000)
    grain = 0.06 * torch.randn(1500, 2000, 3, generator=torch.Generator().manual_seed(0))
    photo = ((light * (1 - ink) + 0.1 * ink)[..., None] + grain).clamp(0, 1)
    buffer = io.BytesIO()
    Image.fromarray((photo * 255).round().byte().numpy()).save(buffer, format="JPEG", quality=95)
    content = buffer.getvalue()
    assert len(content) > 1_000_000, len(content)
    return content


def test_canvas_reads_a_drawing_with_every_model(models):
    pad = canvas.DigitCanvas(models)
    drawing = seven()
    pad.drawing = png_data_url(drawing)
    pad.request = 1  # what the browser's "Read it" sends: the observer answers in `reading`
    reading = pad.reading
    assert reading["request"] == 1 and "error" not in reading
    expected = digits.to_mnist(drawing)
    assert torch.allclose(torch.tensor(reading["image"]), expected, atol=1e-4)
    assert [m["name"] for m in reading["models"]] == ["seed_linear", "cnn"]
    for m in reading["models"]:
        probs = digits.probabilities({"m": models[m["name"]]}, expected)["m"]
        assert torch.allclose(torch.tensor(m["probabilities"]), probs, atol=1e-4)
        assert sum(m["probabilities"]) == pytest.approx(1, abs=1e-3)
    assert np.array_equal(pad.image, drawing)

    pad.drawing = png_data_url(np.full((280, 280), 255, np.uint8))
    pad.request = 2
    assert pad.reading == {"request": 2, "error": pad.reading["error"]} and "no ink" in pad.reading["error"]
    assert "no PNG" in pad.read("garbage", 3)["error"]
    wrong = canvas.DigitCanvas({"wrong input size": torch.nn.Linear(3, 10)})  # any failure reaches the page
    assert wrong.read(png_data_url(drawing), 4)["error"].startswith("reading failed: RuntimeError")
    with pytest.raises(ValueError, match="models is empty"):
        canvas.DigitCanvas({})


def test_the_pads_front_end_files_ship_with_the_package_and_reach_the_browser(models):
    """canvas.js and canvas.css sit next to canvas.py (in an installed copy too: the colab session of noxfile.py
    runs this test on a non-editable install) and anywidget sends their text, not their path."""
    state = canvas.DigitCanvas(models).get_state()
    assert canvas.ESM.read_text(encoding="utf-8") == state["_esm"]
    assert "export default { render }" in state["_esm"] and "mnist-read" in state["_esm"]
    assert canvas.CSS.read_text(encoding="utf-8") == state["_css"] and ".mnist-pad {" in state["_css"]
    pyproject = ROOT / "pyproject.toml"
    if pyproject.is_file():  # a checkout: every file the package runs that is not Python is declared package data
        shipped = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
        assets = sorted(p.name for p in (ROOT / "helpers").iterdir()
                        if p.is_file() and p.suffix not in (".py", ".pyc", ".md"))  # README.md is for readers
        assert sorted(shipped["helpers"]) == assets == ["canvas.css", "canvas.js"]


def test_uploaded_files_reads_both_ipywidgets_formats():
    v8 = ({"name": "a.png", "type": "image/png", "size": 3, "content": memoryview(b"abc")},)
    v7 = {"a.png": {"metadata": {"name": "a.png"}, "content": b"abc"}}
    assert canvas.uploaded_files(v8) == canvas.uploaded_files(v7) == [("a.png", b"abc")]


@pytest.fixture
def shown(monkeypatch) -> list:
    """What upload_reader displays (outside a kernel the Output widget captures nothing)."""
    figures = []
    monkeypatch.setattr("IPython.display.display", figures.append)
    yield figures
    import matplotlib.pyplot as plt

    plt.close("all")


def assert_read(figures: list, name: str, content: bytes, models: dict) -> None:
    steps, reading = figures
    assert steps._suptitle.get_text() == name
    assert steps.axes[0].get_title().endswith("1500x2000"), "the whole photo, at its full size, was read"
    assert [ax.get_title().split(" reads ")[0] for ax in reading.axes[1:]] == list(models)
    expected = digits.to_mnist(digits.read_image(content)).reshape(28, 28).numpy()
    assert np.allclose(reading.axes[0].images[0].get_array(), expected)


def test_outside_colab_a_fileupload_button_reads_a_photo_over_1_mb(monkeypatch, models, big_photo, shown):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    box = canvas.upload_reader(models)
    button, out = box.children
    assert isinstance(button, ipywidgets.FileUpload) and isinstance(out, ipywidgets.Output)
    assert not shown
    if isinstance(button.value, dict):  # ipywidgets 7 (Colab's): name -> {metadata, content}
        value = {"photo.jpg": {"metadata": {"name": "photo.jpg", "size": len(big_photo)}, "content": big_photo}}
    else:  # ipywidgets 8: a tuple of dicts, content as a memoryview
        value = ({"name": "photo.jpg", "type": "image/jpeg", "size": len(big_photo), "content": memoryview(big_photo),
                  "last_modified": datetime.now(UTC)},)
    button.set_trait("value", value)  # what the browser sends once the file arrived
    assert_read(shown, "photo.jpg", big_photo, models)


def stand_in_colab(monkeypatch, uploads: list[dict]) -> list:
    """A `google.colab` module whose `files.upload()` returns the next of ``uploads`` ({name: bytes}, as Colab's)."""
    calls = []

    def upload():
        calls.append("upload")
        return uploads.pop(0)

    colab = types.ModuleType("google.colab")
    colab.files = types.SimpleNamespace(upload=upload)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    return calls


def test_in_colab_colabs_own_upload_reads_a_photo_over_1_mb(monkeypatch, models, big_photo, shown, capsys):
    calls = stand_in_colab(monkeypatch, [{"photo.jpg": big_photo}])
    box = canvas.upload_reader(models)
    assert calls == ["upload"]
    assert [type(w) for w in box.children] == [ipywidgets.Output], "no FileUpload in Colab"
    assert "Choose a photo of one digit" in capsys.readouterr().out
    assert_read(shown, "photo.jpg", big_photo, models)


def test_in_colab_a_cancelled_upload_goes_on_and_says_how_to_try_again(monkeypatch, models, shown, capsys):
    stand_in_colab(monkeypatch, [{}, {"blank.png": base64.b64decode(png_data_url(np.full((50, 50), 255, np.uint8))
                                                                     [len(canvas.PNG_PREFIX) :])}])
    canvas.upload_reader(models)  # Cancel upload: Colab returns no file
    assert not shown and "run this cell again" in capsys.readouterr().out
    canvas.upload_reader(models)  # a picture without a digit: one line, no figures
    assert not shown and "blank.png: " in capsys.readouterr().out
