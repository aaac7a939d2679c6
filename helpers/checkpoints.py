"""Files that must survive a crash: written whole to a temporary name, then renamed into place.

Every file gets the usual permissions (``0o666`` less the umask, like any file Python creates), and JSON is
strict: a NaN or an infinity is refused instead of being written as the non-standard ``NaN``.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import torch


def _replace_atomically(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for open()
        with os.fdopen(fd, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)  # atomic: readers see the old file or the new one, never half of one
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_leftovers(folder: Path) -> None:
    """Delete temporary files that a killed process left half-written (never a finished file)."""
    for leftover in Path(folder).glob(".*.tmp"):
        leftover.unlink(missing_ok=True)


def save_checkpoint(payload: dict, path: str | os.PathLike) -> None:
    """``torch.save`` to ``path`` atomically."""
    _replace_atomically(Path(path), lambda stream: torch.save(payload, stream))


def load_checkpoint(path: str | os.PathLike, device: torch.device | str = "cpu") -> dict:
    """Load a checkpoint written by ``save_checkpoint`` (tensors, numbers and strings only: weights_only)."""
    return torch.load(path, map_location=device, weights_only=True)


def save_json(data: dict, path: str | os.PathLike) -> None:
    """Write ``data`` as indented, strict JSON (no NaN or infinity), atomically."""
    text = json.dumps(data, indent=1, allow_nan=False) + "\n"
    _replace_atomically(Path(path), lambda stream: stream.write(text.encode()))


def load_json(path: str | os.PathLike) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
