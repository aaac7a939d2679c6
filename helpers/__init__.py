"""Helpers for the MNIST notebook series: one small package shared by every notebook.

- ``helpers.data``: check, download and load MNIST as tensors on the training device
- ``helpers.models``: the four models and the recipe each trains with
- ``helpers.training``: the fast, resumable trainer and run folders under ``artifacts_dir``
- ``helpers.evaluation``: scoring, predictions, confusion matrix
- ``helpers.plots``: every figure of the series
- ``helpers.environment``: Colab or not, which device, Google Drive
- ``helpers.reference``: the seed post's loop, plainly written, as a yardstick
- ``helpers.series``: run all notebooks headlessly (``python -m helpers run``)
"""

__version__ = "0.1.0"
