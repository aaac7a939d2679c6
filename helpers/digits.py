"""Your own digits, prepared the way MNIST's were, so that the trained models can read them.

MNIST's digits were made from scans of handwriting: each was size-normalised to fit a 20 x 20 box
(keeping its aspect ratio, anti-aliased, so the edges are grey), then placed in a 28 x 28 field so that
its centre of mass sits at the field's centre, white ink on black. ``to_mnist`` does the same to any
image of one digit: a drawing on a large canvas, a photo or a scan, dark ink on light paper or the
reverse. ``preprocessing_steps`` returns every intermediate image (notebook 06 draws them).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .data import IMAGE_SIZE
from .evaluation import logits_of

BOX = 20  # MNIST's digits fit a 20 x 20 box ...
FIELD = IMAGE_SIZE  # ... inside the 28 x 28 field
# Where MNIST puts the centre of mass, in pixel indices (row, column): the training digits' mean centre
# of mass is (14.0, 14.0), spread 0.29 px, which is what whole-pixel shifts towards pixel 14 give.
CENTRE = 14.0
MIN_CONTRAST = 0.1  # the ink must differ from the background by a tenth of the full brightness range
INK_LEVEL = 0.15  # after normalising background -> 0 and ink -> 1, fainter pixels are background

STEP_NAMES = ("as given", "white ink on black", "cropped to the ink", f"fitted into {BOX}x{BOX}",
              f"centred by mass in {FIELD}x{FIELD}")


NO_INK = ("image has no ink: no stroke stands out from the background; draw a digit (or check that the photo "
          "shows one) and try again")


class DigitError(ValueError):
    """An image that cannot be turned into an MNIST digit; the message says why and what to do."""


# --------------------------------------------------------------------------------------------------
# The steps, and what the models read


def as_image(image) -> torch.Tensor:
    """A 2-D float32 CPU tensor in [0, 1] from a 2-D numpy array or tensor of brightness: bool, uint8 or other
    whole numbers (0-255), or floats (0-1, or up to 255)."""
    x = image.detach().cpu() if isinstance(image, torch.Tensor) else np.asarray(image)
    kind = str(x.dtype)
    if not any(word in kind for word in ("bool", "int", "float")) or "complex" in kind:
        raise DigitError(f"image of type {type(image).__name__} ({kind}) is not brightness: pass a 2-D numpy array "
                         "or torch tensor of uint8 (0-255) or floats (0-1); helpers.digits.read_image reads files")
    if x.ndim != 2:
        hint = " (a colour image: read it with helpers.digits.read_image, which makes it grey)" if x.ndim == 3 else ""
        raise DigitError(f"image has shape {tuple(x.shape)}: to_mnist needs one 2-D grey image, height x width{hint}")
    if x.shape[0] * x.shape[1] == 0:
        raise DigitError(f"image has shape {tuple(x.shape)}, no pixels: draw or load a digit first")
    t = torch.as_tensor(x).double()
    if not torch.isfinite(t).all():
        raise DigitError("image contains NaN or infinite values: replace them first (e.g. numpy.nan_to_num)")
    low, high = t.min().item(), t.max().item()
    if low < 0 or high > 255:
        raise DigitError(f"image values run from {low:g} to {high:g}: pass brightness in 0-1 or 0-255")
    whole = "int" in kind  # uint8 and other whole numbers are 0-255; floats above 1 are too
    return (t / 255 if whole or high > 1 else t).float()


def ink_is_dark(x: torch.Tensor) -> bool:
    """True for dark ink on light paper: the outermost ring of pixels, almost all background in a picture of one
    digit, is brighter than mid-grey."""
    return torch.cat([x[0], x[-1], x[1:-1, 0], x[1:-1, -1]]).median().item() > 0.5


def paper(x: torch.Tensor) -> torch.Tensor:
    """The background's brightness at every pixel: a plane ``a + b * row + c * column`` fitted (least squares)
    to the border pixels, leaving out those that look like ink. A drawing's canvas is flat; a photo of paper
    is often lit unevenly, brighter on one side."""
    h, w = x.shape
    rows = torch.arange(h, dtype=x.dtype) / max(h, w)
    cols = torch.arange(w, dtype=x.dtype) / max(h, w)
    ring = torch.ones(h, w, dtype=torch.bool)
    ring[1:-1, 1:-1] = False
    r, c = ring.nonzero().unbind(1)
    values = x[r, c]
    keep = values <= values.median() + MIN_CONTRAST
    design = torch.stack([torch.ones_like(values), rows[r], cols[c]], dim=1)[keep]
    a, b, d = torch.linalg.lstsq(design, values[keep, None]).solution.flatten()
    return a + b * rows[:, None] + d * cols[None, :]


def centre_of_mass(x: torch.Tensor) -> tuple[float, float]:
    """The brightness-weighted mean (row, column) position of the ink, in pixel indices."""
    total = x.sum()
    rows = (x.sum(dim=1) * torch.arange(x.shape[0], dtype=x.dtype)).sum() / total
    cols = (x.sum(dim=0) * torch.arange(x.shape[1], dtype=x.dtype)).sum() / total
    return rows.item(), cols.item()


def preprocessing_steps(image) -> dict[str, torch.Tensor]:
    """Every intermediate image of ``to_mnist``, in order, by name (``STEP_NAMES``); the last one is the 28 x 28
    image the models receive. Notebook 06, section 3 writes the same steps out in its cells:

    1. White ink on black, from either polarity: invert dark-on-light pictures (``ink_is_dark``), subtract the
       background (``paper``), stretch the brightest ink to 1. Pixels are ink where they and the mean of their 3x3
       neighbourhood reach ``INK_LEVEL`` (so single noisy pixels, a photo's grain, do not count); the rest become 0.
    2. Cropped to the ink: the smallest rectangle that holds every ink pixel.
    3. Fitted into ``BOX x BOX``: the longer side becomes ``BOX`` pixels, keeping the aspect ratio, anti-aliased
       (bilinear with antialias: each new pixel averages the old pixels it covers); the brightest ink is 1.
    4. Centred by mass: placed in a black ``FIELD x FIELD`` image, moved by whole pixels so that its centre of mass
       lands as close as possible to pixel ``(CENTRE, CENTRE)`` (and the digit stays inside the field).
    """
    given = as_image(image)
    x = 1.0 - given if ink_is_dark(given) else given
    x = x - paper(x)
    if x.max() < MIN_CONTRAST:
        raise DigitError(NO_INK)
    x = (x / x.max()).clamp(0, 1)
    neighbourhood = F.avg_pool2d(x[None, None], 3, stride=1, padding=1, count_include_pad=False)[0, 0]
    white = torch.where((x >= INK_LEVEL) & (neighbourhood >= INK_LEVEL), x, torch.zeros_like(x))
    if not white.any():  # only lone pixels stood out: a photo's grain, not a stroke
        raise DigitError(NO_INK)

    rows, cols = white.any(dim=1).nonzero().flatten(), white.any(dim=0).nonzero().flatten()
    cropped = white[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    (h, w), scale = cropped.shape, BOX / max(cropped.shape)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    fitted = F.interpolate(cropped[None, None], size=size, mode="bilinear", antialias=True, align_corners=False)
    fitted = fitted[0, 0].clamp(0, 1)
    fitted = fitted / fitted.max()

    (h, w), (cy, cx) = fitted.shape, centre_of_mass(fitted)
    top = min(max(math.floor(CENTRE - cy + 0.5), 0), FIELD - h)
    left = min(max(math.floor(CENTRE - cx + 0.5), 0), FIELD - w)
    centred = F.pad(fitted, (left, FIELD - w - left, top, FIELD - h - top))
    return dict(zip(STEP_NAMES, (given, white, cropped, fitted, centred)))


def to_mnist(image) -> torch.Tensor:
    """One picture of a digit (a 2-D numpy array or tensor of any size, uint8 0-255 or float 0-1, dark ink on
    light paper or the reverse) -> the ``[784]`` float32 row in [0, 1] that the models expect, prepared the way
    MNIST's digits were: the last image of ``preprocessing_steps``, flattened."""
    return preprocessing_steps(image)[STEP_NAMES[-1]].reshape(FIELD * FIELD).contiguous()


def probabilities(models: dict[str, nn.Module], x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each model's ten class probabilities (softmax of its scores) for one ``[784]`` image, on the CPU."""
    out = {}
    for name, model in models.items():
        device = next(model.parameters()).device
        logits = logits_of(model, x.reshape(1, -1).to(device))[0].float()
        out[name] = torch.softmax(logits, dim=0).cpu()
    return out


# --------------------------------------------------------------------------------------------------
# Reading pictures from files, and drawing strokes


def read_image(source) -> np.ndarray:
    """A photo, scan or drawing (a path, or a file's bytes) as a 2-D uint8 grey array (0 = black), read by Pillow
    (PNG, JPEG, ...): upright by the photo's EXIF orientation, transparent pixels as white paper."""
    from PIL import Image, ImageOps

    name = "the picture sent" if isinstance(source, bytes) else os.fspath(source)
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else name) as opened:
            picture = ImageOps.exif_transpose(opened).convert("RGBA")
    except OSError as err:  # missing, unreadable, or not an image (UnidentifiedImageError)
        raise DigitError(f"{name} cannot be read as an image ({type(err).__name__}): give a PNG or JPEG file") from None
    return np.asarray(Image.alpha_composite(Image.new("RGBA", picture.size, "white"), picture).convert("L")).copy()


def draw_strokes(strokes: Sequence[Sequence[tuple[float, float]]], size: tuple[int, int] = (280, 280),
                 width: int = 20, dark_ink: bool = True) -> np.ndarray:
    """Render pen strokes (lists of (x, y) points) as a uint8 image, round-capped like the notebook's canvas."""
    from PIL import Image, ImageDraw

    height, wide = size
    ink, paper = (0, 255) if dark_ink else (255, 0)
    picture = Image.new("L", (wide, height), paper)
    pen = ImageDraw.Draw(picture)
    for stroke in strokes:
        points = [(float(x), float(y)) for x, y in stroke]
        if len(points) > 1:
            pen.line(points, fill=ink, width=width, joint="curve")
        for x, y in points[:1] + points[-1:]:
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=ink)
    return np.asarray(picture, dtype=np.uint8).copy()


# A few digits written as pen strokes on a 280 x 280 canvas (x to the right, y down), the way a mouse
# draws them: the bundled examples of notebook 06, and what the browser test draws.
STROKES: dict[int, list[list[tuple[int, int]]]] = {
    0: [[(140, 50), (100, 65), (80, 110), (78, 160), (95, 210), (140, 232), (185, 210), (200, 160), (198, 110),
         (180, 65), (140, 50)]],
    1: [[(120, 80), (150, 50), (150, 235)]],
    2: [[(85, 95), (110, 58), (155, 50), (190, 75), (192, 115), (165, 155), (85, 228), (205, 228)]],
    3: [[(90, 70), (135, 50), (180, 65), (185, 105), (140, 135), (185, 160), (190, 205), (140, 232), (85, 215)]],
    4: [[(165, 45), (75, 170), (210, 170)], [(165, 45), (165, 240)]],
    7: [[(75, 60), (205, 60), (120, 240)]],
}
