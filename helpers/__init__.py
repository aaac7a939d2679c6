"""Helpers for the MNIST notebook series: one small package shared by every notebook.

- ``helpers.data``: check, download and load MNIST as tensors on the training device
- ``helpers.batches``: shuffled batches by indexing tensors that live on the device
- ``helpers.models``: the models, the recipe each trains with, and its CPU thread choice
- ``helpers.config``: ``RunConfig``, what a training run computes, checked before any work
- ``helpers.training``: the fast trainer, ``train`` (resume or load a run) and ``latest_run``
- ``helpers.runs``: run folders under ``artifacts_dir``: one per configuration, locked while training
- ``helpers.checkpoints``: atomic writes and strict JSON
- ``helpers.evaluation``: scoring, predictions, confusion matrix
- ``helpers.plots``: the figures of the series
- ``helpers.digits``: any picture of a digit -> MNIST's 28 x 28 format (notebook 06)
- ``helpers.canvas``: notebook 06's drawing pad and upload reader
- ``helpers.environment``: Colab or not, which device, bf16 where native, CPU threads, Google Drive
- ``helpers.reference``: the seed post's loop, plainly written, as a yardstick
- ``helpers.series``: run all notebooks headlessly (``python -m helpers run``)
"""

__version__ = "0.1.0"
