"""Draw a digit in the notebook and watch the models read it; or upload a photo of one.

``DigitCanvas`` is an anywidget (https://anywidget.dev): a small JavaScript module, below, draws on an
HTML canvas with pointer events (mouse, pen or finger) and, on "Read it", sends the drawing to Python as a
PNG. Python prepares it with ``helpers.digits.to_mnist``, runs every model, and sends back the 28 x 28
image and each model's ten probabilities, which the browser shows as bars. The same code runs in
JupyterLab, Jupyter Notebook, VS Code and Google Colab (anywidget switches on Colab's custom widget
manager by itself when the widget is shown there).

``upload_reader`` does the same for a photo or scan (ipywidgets' FileUpload). Used in notebook 06, sections 5 and 6.
"""

from __future__ import annotations

import base64

import anywidget
import ipywidgets
import traitlets
from torch import nn

from . import digits

PNG_PREFIX = "data:image/png;base64,"

_ESM = r"""
function render({ model, el }) {
  const size = model.get("size");
  const root = document.createElement("div");
  root.className = "mnist-pad";
  root.innerHTML = `
    <div class="mnist-left">
      <canvas class="mnist-canvas" width="${size}" height="${size}"></canvas>
      <div class="mnist-buttons">
        <button class="mnist-read" type="button">Read it</button>
        <button class="mnist-clear" type="button">Clear</button>
      </div>
      <div class="mnist-hint">Draw one digit, large, with the mouse or a finger.</div>
    </div>
    <div class="mnist-right">
      <div class="mnist-label">what the models see (28 x 28)</div>
      <canvas class="mnist-preview" width="28" height="28"></canvas>
      <div class="mnist-status"></div>
      <div class="mnist-results"></div>
    </div>`;
  el.appendChild(root);
  const canvas = root.querySelector(".mnist-canvas");
  const preview = root.querySelector(".mnist-preview");
  const status = root.querySelector(".mnist-status");
  const results = root.querySelector(".mnist-results");
  const ctx = canvas.getContext("2d");

  function clearPad() {
    ctx.fillStyle = "white";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const p = preview.getContext("2d");
    p.fillStyle = "black";
    p.fillRect(0, 0, 28, 28);
    results.replaceChildren();
    status.textContent = "";
    root.dataset.state = "empty";
  }
  clearPad();

  let drawing = false;
  let last = null;
  function position(event) {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  }
  function dot([x, y]) {
    ctx.beginPath();
    ctx.arc(x, y, model.get("line_width") / 2, 0, 2 * Math.PI);
    ctx.fillStyle = "black";
    ctx.fill();
  }
  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    drawing = true;
    last = position(event);
    dot(last);
    root.dataset.state = "drawn";
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    event.preventDefault();
    const point = position(event);
    ctx.strokeStyle = "black";
    ctx.lineWidth = model.get("line_width");
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(point[0], point[1]);
    ctx.stroke();
    last = point;
  });
  const stop = () => { drawing = false; };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);

  root.querySelector(".mnist-read").addEventListener("click", () => {
    status.textContent = "reading ...";
    root.dataset.state = "reading";
    model.set("drawing", canvas.toDataURL("image/png"));
    model.set("request", model.get("request") + 1);
    model.save_changes();
  });
  root.querySelector(".mnist-clear").addEventListener("click", clearPad);

  function show() {
    const reading = model.get("reading");
    results.replaceChildren();
    if (!reading || reading.request !== model.get("request")) return;
    if (reading.error) {
      status.textContent = reading.error;
      root.dataset.state = "error";
      return;
    }
    status.textContent = "";
    const p = preview.getContext("2d");
    const pixels = p.createImageData(28, 28);
    reading.image.forEach((v, i) => {
      const g = Math.round(255 * v);
      pixels.data.set([g, g, g, 255], 4 * i);
    });
    p.putImageData(pixels, 0, 0);
    for (const m of reading.models) {
      const block = document.createElement("div");
      block.className = "mnist-model";
      const best = m.probabilities.indexOf(Math.max(...m.probabilities));
      block.innerHTML = `<div class="mnist-title">${m.name} reads
        <b class="mnist-prediction" data-model="${m.name}">${best}</b>
        (${Math.round(100 * m.probabilities[best])} %)</div>`;
      m.probabilities.forEach((q, digit) => {
        const row = document.createElement("div");
        row.className = "mnist-row";
        row.innerHTML = `<span class="mnist-digit">${digit}</span>
          <span class="mnist-track"><span class="mnist-bar${digit === best ? " mnist-best" : ""}"
            style="width: ${(100 * q).toFixed(1)}%"></span></span>
          <span class="mnist-percent">${(100 * q).toFixed(1)} %</span>`;
        block.appendChild(row);
      });
      results.appendChild(block);
    }
    root.dataset.state = "read";
  }
  model.on("change:reading", show);
  show();
  return () => model.off("change:reading", show);
}
export default { render };
"""

_CSS = """
.mnist-pad { display: flex; gap: 24px; align-items: flex-start; font-family: sans-serif; font-size: 13px; }
.mnist-canvas { border: 1px solid #888; touch-action: none; cursor: crosshair; background: white; }
.mnist-buttons { margin-top: 6px; display: flex; gap: 8px; }
.mnist-buttons button { padding: 4px 14px; font-size: 14px; cursor: pointer; }
.mnist-hint, .mnist-label { color: #555; margin: 4px 0; }
.mnist-preview { width: 112px; height: 112px; image-rendering: pixelated; border: 1px solid #888; }
.mnist-status { color: #a00; max-width: 320px; margin: 4px 0; }
.mnist-results { display: flex; gap: 24px; }
.mnist-model { min-width: 190px; }
.mnist-title { margin: 6px 0; font-size: 14px; }
.mnist-row { display: flex; align-items: center; gap: 6px; height: 17px; }
.mnist-digit { width: 10px; text-align: right; }
.mnist-track { flex: 1; background: #eee; height: 12px; min-width: 100px; }
.mnist-bar { display: block; height: 12px; background: #9ab; }
.mnist-bar.mnist-best { background: #1f77b4; }
.mnist-percent { width: 52px; text-align: right; color: #333; }
"""


class DigitCanvas(anywidget.AnyWidget):
    """A drawing pad: draw a digit, press "Read it", see the 28 x 28 image and each model's probabilities.

    ``models`` maps a name to a trained model (``N x 784`` -> ``N x 10``). After a reading, ``image``
    holds the drawing as a 2-D uint8 array (dark ink on white) for the notebook's next cells.
    """

    _esm = _ESM
    _css = _CSS
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


def reading_figures(image, models: dict[str, nn.Module], title: str | None = None) -> list:
    """Two figures for one picture of a digit: its preprocessing steps, then what each model reads."""
    steps = digits.preprocessing_steps(image)
    x = steps[digits.STEP_NAMES[-1]].reshape(-1)
    return [digits.plot_steps(steps, title=title), digits.plot_reading(x, digits.probabilities(models, x))]


def upload_reader(models: dict[str, nn.Module]) -> ipywidgets.VBox:
    """An upload button for a photo or scan of one digit; each upload shows the preprocessing steps and
    every model's reading below it."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    button = ipywidgets.FileUpload(accept="image/*", multiple=False, description="Upload a digit")
    out = ipywidgets.Output()

    def on_upload(change) -> None:
        out.clear_output()
        with out:
            for name, content in uploaded_files(change["new"]):
                try:
                    figures = reading_figures(digits.read_image(content), models, title=name)
                except digits.DigitError as err:
                    print(f"{name}: {err}")
                    continue
                for fig in figures:
                    display(fig)
                    plt.close(fig)

    button.observe(on_upload, names="value")
    return ipywidgets.VBox([button, out])
