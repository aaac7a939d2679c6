"""helpers.digits: MNIST's own preprocessing for any picture of a digit (helpers.canvas: test_canvas.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import synthetic_digits
from PIL import Image
from torch.nn import functional as F

from helpers import digits
from helpers.models import build_model


def bounding_box(x: torch.Tensor) -> tuple[int, int, int, int]:
    """(first row, last row, first column, last column) of the nonzero pixels."""
    rows = x.any(1).nonzero().flatten()
    cols = x.any(0).nonzero().flatten()
    return rows[0].item(), rows[-1].item(), cols[0].item(), cols[-1].item()


def seven_on(canvas_shape, offset, scale=1.0, width=20, dark_ink=True) -> np.ndarray:
    """The bundled stroke '7', scaled and moved to ``offset`` (x, y) on a canvas of ``canvas_shape`` (h, w)."""
    strokes = [[(x * scale + offset[0], y * scale + offset[1]) for x, y in s] for s in digits.STROKES[7]]
    return digits.draw_strokes(strokes, size=canvas_shape, width=width, dark_ink=dark_ink)


def test_off_centre_enlarged_dark_digit_comes_back_centred_in_a_20_pixel_box():
    drawing = seven_on((600, 900), offset=(600, 20), scale=1.5, width=30)  # top right of a wide page
    assert digits.ink_is_dark(torch.from_numpy(drawing) / 255.0)
    x = digits.to_mnist(drawing)
    assert x.shape == (784,) and x.dtype == torch.float32
    assert 0 <= x.min() and x.max() == 1.0
    image = x.reshape(28, 28)
    top, bottom, left, right = bounding_box(image)
    assert max(bottom - top + 1, right - left + 1) == 20  # the longer side fills the box ...
    assert bottom - top + 1 <= 20 and right - left + 1 <= 20  # ... and neither side is larger
    cy, cx = digits.centre_of_mass(image)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5  # whole-pixel shifts towards pixel 14
    assert image[:, :3].sum() == 0 and image[:3].sum() == 0  # background is exactly black


def test_the_same_digit_anywhere_in_either_polarity_gives_the_same_image():
    reference = digits.to_mnist(seven_on((280, 280), offset=(0, 0)))
    moved = digits.to_mnist(seven_on((500, 700), offset=(390, 230)))
    light_on_dark = digits.to_mnist(seven_on((500, 700), offset=(390, 230), dark_ink=False))
    assert torch.equal(reference, moved)
    torch.testing.assert_close(light_on_dark, moved, atol=1e-6, rtol=0)


def test_an_mnist_digit_redrawn_large_off_centre_and_inverted_round_trips_closely():
    mnist_like = digits.to_mnist(digits.draw_strokes(digits.STROKES[2])).reshape(28, 28)
    big = torch.ones(400, 600)  # white paper, and the digit 9 times larger as dark ink at (120, 330)
    big[120:372, 330:582] = 1 - F.interpolate(mnist_like[None, None], size=(252, 252), mode="bilinear",
                                                  align_corners=False)[0, 0]
    big = (big.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    back = digits.to_mnist(big).reshape(28, 28)
    # up- then down-scaling blurs the edges a little: a mean difference of about 0.03 here, half of what
    # moving the digit by one pixel makes
    difference = (back - mnist_like).abs().mean()
    assert difference < 0.04 and difference < 0.6 * (mnist_like.roll(1, dims=1) - mnist_like).abs().mean()
    assert bounding_box(back) == bounding_box(mnist_like)
    for a, b in zip(digits.centre_of_mass(back), digits.centre_of_mass(mnist_like)):
        assert abs(a - b) < 0.25


def test_conftest_digit_loses_its_noise_and_its_square_fills_the_box():
    images, labels = synthetic_digits(10, seed=3)
    image = images[0]  # faint noise (0-59) everywhere, one 6x6 patch of 255
    x = digits.to_mnist(image).reshape(28, 28)
    top, bottom, left, right = bounding_box(x)
    assert (bottom - top + 1, right - left + 1) == (20, 20), f"label {labels[0]}"  # the patch, scaled to 20x20
    assert x[top : bottom + 1, left : right + 1].min() > 0.98  # evenly bright: the noise did not leak in
    assert x.sum() == pytest.approx(x[top : bottom + 1, left : right + 1].sum())  # nothing outside it
    cy, cx = digits.centre_of_mass(x)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_input_types_and_scales_agree():
    drawing = seven_on((280, 280), offset=(0, 0))
    reference = digits.to_mnist(drawing)
    for same in (drawing / 255.0, drawing.astype(np.float64), torch.from_numpy(drawing), drawing.astype(np.int64),
                 (drawing / 255.0).astype(np.float32)):
        torch.testing.assert_close(digits.to_mnist(same), reference, atol=1e-5, rtol=0)
    ink = drawing < 128  # a bool mask: True is ink
    assert torch.equal(digits.to_mnist(ink), digits.to_mnist(ink.astype(np.uint8) * 255))


def test_ink_polarity_is_read_from_the_border():
    light_paper = np.full((50, 40), 220, np.uint8)
    light_paper[10:40, 18:22] = 30
    assert digits.ink_is_dark(digits.as_image(light_paper))
    assert not digits.ink_is_dark(digits.as_image(255 - light_paper))
    # grey paper, a stroke a little darker: background stretched to 0, the stroke to 1
    white = digits.preprocessing_steps(light_paper)["white ink on black"]
    assert white[0, 0] == 0 and white[20, 20] == 1.0


@pytest.mark.parametrize(
    "bad, words",
    [
        (np.zeros((3, 28, 28)), ["shape (3, 28, 28)", "2-D", "read_image"]),
        (np.zeros(784), ["shape (784,)", "2-D"]),
        (np.zeros((0, 5)), ["no pixels", "draw or load"]),
        (np.full((40, 40), 255, np.uint8), ["no ink", "draw a digit"]),
        (np.full((40, 40), 0.5), ["no ink"]),
        (np.pad(np.ones((1, 1)), 20), ["no ink"]),  # one bright pixel: grain, not a stroke
        (np.where(np.eye(30) > 0, np.nan, 0.0), ["NaN", "nan_to_num"]),
        (np.full((9, 9), np.inf), ["infinite"]),
        (np.full((9, 9), -3.0), ["from -3", "0-1 or 0-255"]),
        (np.full((9, 9), 1000), ["to 1000", "0-1 or 0-255"]),
        ("a string", ["str", "2-D numpy array"]),
        (np.zeros((9, 9), np.complex64), ["complex", "uint8"]),
    ],
)
def test_bad_input_gets_one_line_naming_the_fix(bad, words):
    with pytest.raises(digits.DigitError) as raised:
        digits.to_mnist(bad)
    message = str(raised.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_steps_are_named_in_order():
    steps = digits.preprocessing_steps(seven_on((300, 300), offset=(40, 30)))
    assert list(steps) == list(digits.STEP_NAMES)
    shapes = [tuple(s.shape) for s in steps.values()]
    assert shapes[0] == shapes[1] == (300, 300) and shapes[-1] == (28, 28)
    assert max(shapes[3]) == 20 and shapes[2][0] / shapes[2][1] == pytest.approx(shapes[3][0] / shapes[3][1], 0.1)
    model = build_model("seed_linear")
    probs = digits.probabilities({"a": model, "b": model}, steps[digits.STEP_NAMES[-1]])
    assert list(probs) == ["a", "b"] and probs["a"].shape == (10,) and float(probs["a"].sum()) == pytest.approx(1)


def test_read_image_from_a_file_or_bytes_with_transparency(tmp_path):
    drawing = seven_on((280, 280), offset=(0, 0))
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255 - drawing  # black ink, transparent paper (what many drawing apps save)
    path = tmp_path / "seven.png"
    Image.fromarray(rgba, "RGBA").save(path)
    from_file = digits.read_image(path)
    assert from_file.shape == (280, 280) and from_file.dtype == np.uint8 and from_file[0, 0] == 255
    assert torch.equal(digits.to_mnist(from_file), digits.to_mnist(drawing))
    assert np.array_equal(digits.read_image(path.read_bytes()), from_file)
    jpeg = tmp_path / "seven.jpg"
    Image.fromarray(drawing).convert("RGB").save(jpeg, quality=90)
    assert (digits.to_mnist(digits.read_image(jpeg)) - digits.to_mnist(drawing)).abs().mean() < 0.02

    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(digits.DigitError, match=r"notes.txt cannot be read as an image \(Unidentified.*PNG or JPEG"):
        digits.read_image(tmp_path / "notes.txt")
    with pytest.raises(digits.DigitError, match=r"missing.png cannot be read as an image \(FileNotFoundError\)"):
        digits.read_image(tmp_path / "missing.png")


def test_a_photo_like_picture_on_unevenly_lit_noisy_paper_reads_like_the_clean_drawing():
    clean = seven_on((300, 400), offset=(60, 20))
    g = torch.Generator().manual_seed(0)
    ink = 1 - torch.from_numpy(clean).float() / 255
    light = torch.linspace(0.55, 0.9, 400)[None, :].expand(300, 400)  # brighter on the right
    photo = (light * (1 - ink) + 0.1 * ink + 0.03 * torch.randn(300, 400, generator=g)).clamp(0, 1)
    steps = digits.preprocessing_steps(photo)
    white = steps["white ink on black"]
    assert white[ink == 0].count_nonzero() < 20  # paper, lit unevenly and grainy, is black
    assert (digits.to_mnist(photo) - digits.to_mnist(clean)).abs().mean() < 0.02
    flat_grey = digits.preprocessing_steps((photo - light + 0.7).clamp(0, 1))["white ink on black"]  # evenly lit
    assert (white - flat_grey).abs().max() < 0.2
