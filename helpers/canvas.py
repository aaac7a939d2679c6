"""Draw a digit in the notebook, or choose a photo of one, and watch the models read it.

``DigitCanvas`` is an anywidget (https://anywidget.dev): a small JavaScript module, canvas.js, draws on an
HTML canvas with pointer events (mouse, pen or finger) and, on "Read it", sends the drawing to Python as a
PNG. "Photo ..." has the browser open a photo (any size: only the pad's small PNG is sent) and fill the pad
with its middle square, which is read the same way. Python prepares the picture with
``helpers.digits.to_mnist``, runs every model, and sends back the 28 x 28 image and each model's ten
probabilities, which the browser shows as bars. The same code runs in JupyterLab, Jupyter Notebook, VS Code
and Google Colab (anywidget switches on Colab's custom widget manager by itself when the widget is shown there).
"""

from __future__ import annotations

import base64
from pathlib import Path

import anywidget
import traitlets
from torch import nn

from . import digits

PNG_PREFIX = "data:image/png;base64,"


class DigitCanvas(anywidget.AnyWidget):
    """The drawing pad. ``models`` maps a name to a trained model (``N x 784`` -> ``N x 10``). After a reading,
    ``image`` holds the pad's picture as a 2-D uint8 array (dark ink on white) for the notebook's next cells, and
    ``photo`` the photo's file name ("" for a drawing)."""

    # The front end, in files shipped with the package (pyproject.toml, package-data); anywidget reads them.
    _esm = Path(__file__).with_name("canvas.js")
    _css = Path(__file__).with_name("canvas.css")
    size = traitlets.Int(280).tag(sync=True)  # canvas width and height in pixels
    line_width = traitlets.Int(20).tag(sync=True)  # pen width: about MNIST's stroke width once scaled to 20 px
    drawing = traitlets.Unicode("").tag(sync=True)  # the canvas as a PNG data URL, sent on "Read it"
    photo = traitlets.Unicode("").tag(sync=True)  # the photo's file name when the pad shows one, else ""
    request = traitlets.Int(0).tag(sync=True)  # counts the presses of "Read it"
    reading = traitlets.Dict().tag(sync=True)  # the answer: image (784 values), models (name, probabilities)

    def __init__(self, models: dict[str, nn.Module], **kwargs):
        if not models:
            raise ValueError("models is empty: pass a dict of name -> trained model, e.g. {'cnn': model}")
        super().__init__(**kwargs)
        self.models = dict(models)
        self.image = None
        self.observe(self._on_request, names="request")

    def __repr__(self) -> str:  # what a page without a running notebook (a website, a saved copy) shows instead
        return "DigitCanvas: the drawing pad, which needs a running notebook"

    def _on_request(self, change) -> None:
        self.reading = self.read(self.drawing, change["new"])

    def read(self, drawing: str, request: int = 0) -> dict:
        """What the browser shows for one drawing (a PNG data URL): never raises, errors become a message."""
        try:
            if not drawing.startswith(PNG_PREFIX):
                raise digits.DigitError("the browser sent no PNG drawing: press Read it again")
            self.image = digits.read_image(base64.b64decode(drawing[len(PNG_PREFIX) :]))
            x = digits.to_mnist(self.image)
            probs = digits.probabilities(self.models, x)
        except digits.DigitError as err:
            return {"request": request, "error": str(err)}
        except Exception as err:  # shown on the pad: an exception in a widget callback would go unseen
            return {"request": request, "error": f"reading failed: {type(err).__name__}: {err}"}
        return {"request": request, "image": [round(v, 4) for v in x.tolist()],
                "models": [{"name": name, "probabilities": [round(v, 5) for v in p.tolist()]}
                           for name, p in probs.items()]}
