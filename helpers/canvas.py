"""Draw a digit in the notebook and watch the models read it; or upload a photo of one.

``DigitCanvas`` is an anywidget (https://anywidget.dev): a small JavaScript module, canvas.js, draws on an
HTML canvas with pointer events (mouse, pen or finger) and, on "Read it", sends the drawing to Python as a
PNG. Python prepares it with ``helpers.digits.to_mnist``, runs every model, and sends back the 28 x 28
image and each model's ten probabilities, which the browser shows as bars. The same code runs in
JupyterLab, Jupyter Notebook, VS Code and Google Colab (anywidget switches on Colab's custom widget
manager by itself when the widget is shown there).

``upload_reader`` does the same for a photo or scan (in Colab with Colab's own upload, elsewhere with ipywidgets'
FileUpload).
"""

from __future__ import annotations

import base64
from pathlib import Path

import anywidget
import ipywidgets
import traitlets
from torch import nn

from . import digits, environment

PNG_PREFIX = "data:image/png;base64,"

# The pad's front end, in files shipped with the package (pyproject.toml, package-data); anywidget reads them.
ESM = Path(__file__).with_name("canvas.js")
CSS = Path(__file__).with_name("canvas.css")


class DigitCanvas(anywidget.AnyWidget):
    """A drawing pad: draw a digit, press "Read it", see the 28 x 28 image and each model's probabilities.

    ``models`` maps a name to a trained model (``N x 784`` -> ``N x 10``). After a reading, ``image``
    holds the drawing as a 2-D uint8 array (dark ink on white) for the notebook's next cells.
    """

    _esm = ESM
    _css = CSS
    size = traitlets.Int(280).tag(sync=True)  # canvas width and height in pixels
    line_width = traitlets.Int(20).tag(sync=True)  # pen width: about MNIST's stroke width once scaled to 20 px
    drawing = traitlets.Unicode("").tag(sync=True)  # the canvas as a PNG data URL, sent on "Read it"
    request = traitlets.Int(0).tag(sync=True)  # counts the presses of "Read it"
    reading = traitlets.Dict().tag(sync=True)  # the answer: image (784 values), models (name, probabilities)

    def __init__(self, models: dict[str, nn.Module], **kwargs):
        if not models:
            raise ValueError("models is empty: pass a dict of name -> trained model, e.g. {'cnn': model}")
        super().__init__(**kwargs)
        self.models = dict(models)
        self.image = None
        self.observe(self._on_request, names="request")

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


def uploaded_files(value) -> list[tuple[str, bytes]]:
    """``(name, content)`` of each file in a FileUpload's value, from ipywidgets 8 (a tuple of dicts) or
    ipywidgets 7 (a dict of name -> dict; Colab's version)."""
    if isinstance(value, dict):
        return [(name, bytes(item["content"])) for name, item in value.items()]
    return [(item["name"], bytes(item["content"])) for item in value]


def upload_reader(models: dict[str, nn.Module]) -> ipywidgets.VBox:
    """Upload a photo or scan of one digit; each one shows its preprocessing steps and every model's reading.

    In Colab, Colab's own upload (``google.colab.files.upload()``): the cell shows "Choose files" and waits for a
    photo, or for "Cancel upload". ipywidgets' FileUpload button, used everywhere else, silently delivers nothing
    there for a file of 1 MB or more (https://github.com/jupyter-widgets/ipywidgets/issues/3452), which most
    phone photos are.
    """
    import matplotlib.pyplot as plt
    from IPython.display import display

    out = ipywidgets.Output()

    def show(files: list[tuple[str, bytes]]) -> None:
        out.clear_output()
        with out:
            for name, content in files:
                try:  # its preprocessing steps, then what each model reads
                    steps = digits.preprocessing_steps(digits.read_image(content))
                except digits.DigitError as err:
                    print(f"{name}: {err}")
                    continue
                x = steps[digits.STEP_NAMES[-1]].reshape(-1)
                reading = digits.plot_reading(x, digits.probabilities(models, x))
                for fig in (digits.plot_steps(steps, title=name), reading):
                    display(fig)
                    plt.close(fig)

    if environment.in_colab():
        from google.colab import files

        print("Choose a photo of one digit (or Cancel upload to go on without one):")
        uploaded = files.upload()  # {name: bytes}; the cell waits until a file is chosen or the upload cancelled
        show(list(uploaded.items()))
        if not uploaded:
            with out:
                print("No photo uploaded: run this cell again to choose one.")
        return ipywidgets.VBox([out])

    button = ipywidgets.FileUpload(accept="image/*", multiple=False, description="Upload a digit")
    button.observe(lambda change: show(uploaded_files(change["new"])), names="value")
    return ipywidgets.VBox([button, out])
