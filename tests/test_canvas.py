"""helpers.canvas's Python side: the drawing pad's reading and its front-end files. The pad in a real browser,
drawings and a photo: test_browser.py."""

from __future__ import annotations

import base64
import io
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import canvas, digits
from helpers.models import build_model

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(canvas.__file__).parent  # the installed package in the colab session


def seven(size=(280, 280)) -> np.ndarray:
    return digits.draw_strokes(digits.STROKES[7], size=size)


def png_data_url(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).convert("RGBA").save(buffer, format="PNG")
    return canvas.PNG_PREFIX + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="module")
def models() -> dict:
    return {"seed_linear": build_model("seed_linear", 0), "cnn": build_model("cnn", 0)}


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
    assert np.array_equal(pad.image, drawing) and pad.photo == ""

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
    assert (PACKAGE / "canvas.js").read_text(encoding="utf-8") == state["_esm"]
    assert "export default { render }" in state["_esm"] and "mnist-read" in state["_esm"]
    assert (PACKAGE / "canvas.css").read_text(encoding="utf-8") == state["_css"] and ".mnist-pad {" in state["_css"]
    if (ROOT / "helpers").is_dir():  # a checkout (nox's sessions test a copy without helpers/): every file the
        # package runs that is not Python is declared package data
        pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        assets = sorted(p.name for p in (ROOT / "helpers").iterdir()
                        if p.is_file() and p.suffix not in (".py", ".pyc", ".md"))  # README.md is for readers
        shipped = pyproject["tool"]["setuptools"]["package-data"]["helpers"]
        assert sorted(shipped) == assets == ["canvas.css", "canvas.js"]
