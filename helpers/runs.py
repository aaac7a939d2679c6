"""Runs on disk: one folder per configuration, resumed only into that configuration, nothing ever deleted.

    <artifacts_dir>/<model>/runs/<run id>/config.json     the configuration, recipe and data of the run
                                         /checkpoint.pt    written atomically after every epoch
                                         /metrics.json     written once, when the run finishes
    <artifacts_dir>/<model>/runs/<run id>.lock            held by the process that trains the run
    <artifacts_dir>/<model>/metrics.json                  a copy of the latest finished run's metrics

The run id hashes the configuration and the data, so another configuration never lands in this folder.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from . import checkpoints
from .config import ParameterError, RunConfig

CHECKPOINT_FORMAT = 2


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


def run_id(config: RunConfig, data_fingerprint: str) -> str:
    blob = json.dumps({**config.describe(), "data": data_fingerprint}, sort_keys=True).encode()
    return hashlib.sha1(blob).hexdigest()[:10]


def _aside(path: Path, label: str) -> Path:
    """A free name beside ``path`` for keeping it aside: ``<stem>.<label>-<UTC time>[-N]<suffix>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for n in range(1, 1000):
        candidate = path.with_name(f"{path.stem}.{label}-{stamp}{f'-{n}' if n > 1 else ''}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"no free name beside {path}")


class RunFolder:
    """The folder of one run: its lock, its checkpoint, its metrics."""

    def __init__(self, artifacts_dir: Path, config: RunConfig, data_fingerprint: str):
        self.id = run_id(config, data_fingerprint)
        self.model_dir = Path(artifacts_dir) / config.model
        self.path = self.model_dir / "runs" / self.id
        self.checkpoint = self.path / "checkpoint.pt"

    @contextmanager
    def claimed(self):
        """Hold the run's lock while training it. A second process refuses at once, with the fix."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.path.parent / f"{self.id}.lock")
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise RunBusyError(f"another process is training this run right now ({self.path}): wait until it "
                               "finishes, then run again (the finished run is loaded, not retrained)") from None
        try:
            self.path.mkdir(exist_ok=True)
            checkpoints.remove_leftovers(self.path)  # half-written files of a killed process
            yield self
        finally:
            lock.release()

    def set_aside(self, why: str) -> None:
        """Move the whole run folder out of the way (nothing is deleted) so that the run starts afresh."""
        kept = _aside(self.path, "replaced")
        self.path.rename(kept)
        self.path.mkdir()
        print(f"{why}: the earlier run was moved to {kept} (nothing deleted); starting afresh.")

    def _keep_checkpoint_aside(self, why: str) -> None:
        kept = _aside(self.checkpoint, "set-aside")
        self.checkpoint.rename(kept)
        print(f"{self.checkpoint} {why}; it is kept as {kept.name} (nothing deleted) and this run starts afresh.")

    def load_state(self, device, precision: str) -> dict | None:
        """The trainer state to resume from, or None. A checkpoint that cannot be read, belongs to another run,
        or was trained in another precision is set aside with a message, never resumed and never deleted."""
        if not self.checkpoint.exists():
            return None
        try:
            payload = checkpoints.load_checkpoint(self.checkpoint, device)
        except Exception as err:  # truncated, garbage, another format or version: all mean "cannot be used"
            reason = str(err).split(". ")[0].splitlines()[0][:100]
            self._keep_checkpoint_aside(f"cannot be read ({type(err).__name__}: {reason})")
            return None
        if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT or "trainer" not in payload:
            self._keep_checkpoint_aside("was written by another version of the series")
            return None
        if payload.get("run_id") != self.id:
            self._keep_checkpoint_aside("belongs to another configuration")
            return None
        state = payload["trainer"]
        if state["precision"] != precision and state["epoch"] < state["epochs"]:
            self._keep_checkpoint_aside(f"was trained in {state['precision']}, and this device trains in {precision} "
                                        "(the two compute different numbers)")
            return None
        return state

    def save_state(self, state: dict) -> None:
        checkpoints.save_checkpoint({"format": CHECKPOINT_FORMAT, "run_id": self.id, "trainer": state},
                                    self.checkpoint)

    def write_config(self, description: dict) -> None:
        checkpoints.save_json({**description, "run_id": self.id}, self.path / "config.json")

    def finished_metrics(self) -> dict | None:
        """The metrics the run wrote when it finished (with the machine that trained it), if it did."""
        path = self.path / "metrics.json"
        try:
            return checkpoints.load_json(path) if path.exists() else None
        except (OSError, ValueError):
            return None

    def publish(self, metrics: dict) -> None:
        """Write the finished run's metrics (once) and make them the model's latest."""
        if self.finished_metrics() != metrics:
            checkpoints.save_json(metrics, self.path / "metrics.json")
        checkpoints.save_json(metrics, self.model_dir / "metrics.json")
