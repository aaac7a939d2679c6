"""The project's own tools, run from the repository root (``python tools/notebooks.py check``) or imported by the
tests (``from tools import notebooks``)."""
