"""Runs on disk: one folder per configuration, written so that nothing is ever half-written, lost or deleted.

    <artifacts_dir>/<model>/runs/<run id>/checkpoint.pt   one flat dict, written after every epoch
                                         /metrics.json    written when the run finishes
    <artifacts_dir>/<model>/runs/<run id>.lock           held by the process that trains the run
    <artifacts_dir>/<model>/metrics.json                 a copy of the latest finished run's metrics

The run id hashes the configuration and the data. Files are written to a temporary name, then renamed; JSON is
strict. A checkpoint that cannot be read, or was written for another configuration or precision, is kept aside
under a new name and the run starts afresh. Only a killed process's half-written temporary files are deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

import torch
from filelock import FileLock, Timeout

from .config import ParameterError


class RunBusyError(RuntimeError):
    """Another process is training the same run right now."""


def check_artifacts_dir(artifacts_dir) -> Path:
    """The folder for checkpoints and metrics, created if needed; a clear error if it cannot be written."""
    path = Path(artifacts_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise ParameterError(f"artifacts_dir={str(path)!r} is a file, not a folder: choose a folder for the "
                             "checkpoints and metrics (it is created when missing)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as err:
        raise ParameterError(f"artifacts_dir={str(path)!r} cannot be written ({err.strerror or err}): choose a "
                             "folder you can write to") from None
    return path


def _write_atomically(path: Path, write) -> None:
    """``write(stream)`` into a temporary file beside ``path`` (usual permissions), then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_checkpoint(checkpoint: dict, path: str | os.PathLike) -> None:
    _write_atomically(Path(path), lambda stream: torch.save(checkpoint, stream))


def load_checkpoint(path: str | os.PathLike, device: torch.device | str = "cpu") -> dict:
    """Tensors, numbers and strings only (``weights_only``): a checkpoint can never run code."""
    return torch.load(path, map_location=device, weights_only=True)


def save_json(data: dict, path: str | os.PathLike) -> None:
    text = json.dumps(data, indent=1, allow_nan=False) + "\n"  # strict: NaN and infinity raise ValueError
    _write_atomically(Path(path), lambda stream: stream.write(text.encode()))


def load_json(path: str | os.PathLike) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _aside(path: Path, label: str) -> Path:
    """A free name beside ``path`` for keeping it aside: ``<stem>.<label>-<UTC time>[-N]<suffix>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for n in range(1, 1000):
        candidate = path.with_name(f"{path.stem}.{label}-{stamp}{f'-{n}' if n > 1 else ''}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"no free name beside {path}")


class RunFolder:
    """The folder of one run: its lock, its checkpoint, its metrics. ``config`` is what the run computes (the
    configuration, its recipe and the data's fingerprint): it names the folder and is stored in the checkpoint."""

    def __init__(self, artifacts_dir: str | os.PathLike, model: str, config: dict):
        self.config = config
        self.id = hashlib.sha1(json.dumps(config, sort_keys=True).encode()).hexdigest()[:10]
        self.model_dir = Path(artifacts_dir) / model
        self.path = self.model_dir / "runs" / self.id
        self.checkpoint = self.path / "checkpoint.pt"

    @contextmanager
    def claimed(self):
        """Hold the run's lock while training it; a second process refuses at once, with the fix."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.path.parent / f"{self.id}.lock")
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise RunBusyError(f"another process is training this run right now ({self.path}): wait until it "
                               "finishes, then run again (the finished run is loaded, not retrained)") from None
        try:
            self.path.mkdir(exist_ok=True)
            for leftover in self.path.glob(".*.tmp"):  # half-written by a killed process
                leftover.unlink(missing_ok=True)
            yield self
        finally:
            lock.release()

    def set_aside(self, why: str) -> None:
        """Move the whole run folder out of the way (nothing is deleted), so that the run starts afresh."""
        if any(self.path.iterdir()):
            kept = _aside(self.path, "replaced")
            self.path.rename(kept)
            self.path.mkdir()
            print(f"{why}: the earlier run was moved to {kept} (nothing deleted); starting afresh.")

    def load(self, device: torch.device, precision: str) -> dict | None:
        """The checkpoint to resume from, or None (no checkpoint, or one that was kept aside with a message)."""
        if not self.checkpoint.exists():
            return None
        try:
            checkpoint = load_checkpoint(self.checkpoint, device)
        except Exception as err:  # truncated, garbage, another format or version: all mean "cannot be used"
            why = f"cannot be read ({type(err).__name__}: {str(err).split('. ')[0].splitlines()[0][:100]})"
        else:
            if not isinstance(checkpoint, dict) or checkpoint.get("config") != self.config:
                why = "belongs to another configuration or version of the series"
            elif checkpoint["precision"] != precision and checkpoint["epoch"] < self.config["recipe"]["epochs"]:
                why = (f"was trained in {checkpoint['precision']}, and this device trains in {precision} (the two "
                       "compute different numbers)")
            else:
                return checkpoint
        kept = _aside(self.checkpoint, "set-aside")
        self.checkpoint.rename(kept)
        print(f"{self.checkpoint} {why}; it is kept as {kept.name} (nothing deleted) and this run starts afresh.")
        return None

    def save(self, checkpoint: dict) -> None:
        save_checkpoint({**checkpoint, "config": self.config}, self.checkpoint)

    def finished_metrics(self) -> dict | None:
        """The metrics the run wrote when it finished (with the machine that trained it), if it did."""
        with suppress(OSError, ValueError):
            return load_json(self.path / "metrics.json")

    def publish(self, metrics: dict, finished_now: bool) -> None:
        """Make ``metrics`` the model's latest; a run that finished just now first writes its own copy (once: a
        finished run that is loaded again never rewrites it)."""
        if finished_now:
            save_json(metrics, self.path / "metrics.json")
        save_json(metrics, self.model_dir / "metrics.json")
