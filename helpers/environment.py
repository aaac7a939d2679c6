"""Where the notebooks run: Colab or a checkout, CPU or GPU, how many CPU threads, and the optional Google Drive."""

from __future__ import annotations

import os
import platform
import sys
from contextlib import contextmanager
from pathlib import Path

import torch

from .config import ParameterError


def in_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules or os.environ.get("COLAB_RELEASE_TAG") is not None


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA when a GPU is visible, else the CPU; ``"cpu"``, ``"cuda"``, ``"cuda:N"`` force one."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device) if isinstance(device, (str, torch.device)) else None
    except RuntimeError:  # not a device name
        chosen = None
    if chosen is None or chosen.type not in ("cpu", "cuda"):
        raise ParameterError(f"device={device!r} is not a device the series uses: use 'auto', 'cpu', 'cuda' or "
                             "'cuda:N'")
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"device={device!r} asks for a GPU but PyTorch sees none. Fix: use device='auto' or "
                             "'cpu', or (in Colab) Runtime > Change runtime type > GPU.")
    return chosen


def _cpu_flags() -> set[str]:
    """The words of /proc/cpuinfo, where Linux lists the processor's feature flags (empty elsewhere)."""
    cpuinfo = Path("/proc/cpuinfo")
    return set(cpuinfo.read_text(encoding="utf-8").split()) if cpuinfo.is_file() else set()


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes in bfloat16 natively; where it only emulates it, bf16 is slower than float32.

    - CUDA: compute capability 8.0 and up (A100, L4, H100; not a T4).
    - CPU: PyTorch's kernels are AVX-512 ones (``torch.backends.cpu.get_cpu_capability()``, which honours a cap
      set with ``ATEN_CPU_CAPABILITY``), oneDNN is not capped below its bf16 level (``ONEDNN_MAX_CPU_ISA``), and
      the processor has the AVX512-BF16 or AMX-BF16 instructions.
    """
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device) >= (8, 0)
    if device.type != "cpu" or torch.backends.cpu.get_cpu_capability() != "AVX512":
        return False
    onednn_cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "ALL").upper()
    if onednn_cap not in ("ALL", "DEFAULT", "AVX512_CORE_BF16", "AVX512_CORE_AMX", "AVX512_CORE_AMX_FP16",
                          "AVX10_1_512", "AVX10_1_512_AMX", "AVX10_1_512_AMX_FP16"):
        return False
    return bool(_cpu_flags() & {"avx512_bf16", "amx_bf16"})


@contextmanager
def cpu_threads(threads: int | None):
    """Run the block on ``threads`` CPU threads (None: as they are), then give the caller's count back. A count set
    in the environment (``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``) is the user's choice and wins."""
    before = torch.get_num_threads()
    if threads and not (os.environ.get("OMP_NUM_THREADS") or os.environ.get("MKL_NUM_THREADS")):
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def device_name(device: torch.device, threads: int | None = None) -> str:
    """The GPU's name, or the CPU's kind and the threads it trains on (``threads``; None: PyTorch's current count)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    threads = threads or torch.get_num_threads()
    return f"CPU ({platform.processor() or platform.machine()}, {threads} thread{'s' * (threads != 1)})"


def describe_device(device: torch.device) -> str:
    """One line for the learner: the device this notebook computes on, and how to get a GPU in Colab when there is
    none."""
    line = f"Device: {device_name(device)}, PyTorch {torch.__version__}"
    if device.type == "cpu" and in_colab():
        line += (
            "\nThis Colab runtime has no GPU. Everything still works on the CPU, only slower. "
            "For a GPU: Runtime > Change runtime type > Hardware accelerator: GPU (e.g. T4), then run all cells again."
        )
    return line


def artifacts_location(artifacts_dir: str | os.PathLike, use_drive: bool = False) -> Path:
    """The folder for checkpoints, metrics and figures.

    With ``use_drive=True`` in Colab, Google Drive is mounted (Colab asks for permission) and a relative
    ``artifacts_dir`` is placed under ``MyDrive/mnist-series/``, so results survive a runtime reset.
    Drive is never touched unless asked for.
    """
    path = Path(artifacts_dir).expanduser()
    if not use_drive:
        return path
    if not in_colab():
        print("use_drive=True only works in Google Colab; keeping artifacts in", path)
        return path
    from google.colab import drive  # only importable inside Colab

    drive.mount("/content/drive")
    return path if path.is_absolute() else Path("/content/drive/MyDrive/mnist-series") / path
