"""Files that must survive a crash: written whole to a temporary name, then renamed into place."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch


def _replace_atomically(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)  # atomic: readers see the old file or the new one, never half of one
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(payload: dict, path: str | os.PathLike) -> None:
    """``torch.save`` to ``path`` atomically."""
    _replace_atomically(Path(path), lambda stream: torch.save(payload, stream))


def load_checkpoint(path: str | os.PathLike, device: torch.device | str = "cpu") -> dict:
    """Load a checkpoint written by ``save_checkpoint`` (tensors, numbers and strings only: weights_only)."""
    return torch.load(path, map_location=device, weights_only=True)


def save_json(data: dict, path: str | os.PathLike) -> None:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(data, indent=1) + "\n"
    _replace_atomically(Path(path), lambda stream: stream.write(text.encode()))


def load_json(path: str | os.PathLike) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
