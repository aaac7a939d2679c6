#!/usr/bin/env bash
# The GPU checks in one script, for a machine with a CUDA GPU and PyTorch already installed (Colab, a
# lent GPU machine). Needs only torch, torchvision, matplotlib and pytest: no papermill, no network.
#
#   MNIST_DATA_DIR=<folder holding MNIST/raw> bash benchmarks/gpu_check.sh [RESULTS_DIR]
#
# 1. the GPU tests (tests/test_gpu.py: the same numbers as on the CPU, no host sync per step) and the
#    trainer's CPU tests;
# 2. the post's loop against the trainer on the GPU, the post's recipe (bench_training, seeds 0 1 2);
# 3. the CNN's time to 99 % / 99.5 % on the GPU (bench_models, seed 0);
# 4. the peer's recipe against cnn_fast, time to 99 % on the GPU (bench_time_to_99, seeds 0 1 2).
# Results (JSON and logs) go to RESULTS_DIR (default: benchmarks/results/gpu).
# On a lent machine that cannot see ../shared, copy ../shared/data into a git-ignored folder of the
# checkout (e.g. .mnist/, about 55 MB) and point MNIST_DATA_DIR at it.
set -euo pipefail
cd "$(dirname "$0")/.."  # the repository root: the benchmarks run from there as modules (python -m benchmarks.x)
out="${1:-benchmarks/results/gpu}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
python="${PYTHON:-python3}"
device="${DEVICE:-cuda}"  # DEVICE=cpu only to try the script itself on a machine without a GPU

"$python" - "$device" <<'PY' | tee "$out/device.txt"
import sys, torch
if sys.argv[1] == "cuda" and not torch.cuda.is_available():
    sys.exit("no CUDA GPU is visible to PyTorch: run this on a GPU machine (or DEVICE=cpu to try the script)")
name = torch.cuda.get_device_name() if sys.argv[1] == "cuda" else "CPU"
print(f"device: {name} | torch {torch.__version__} | python {sys.version.split()[0]}")
PY
if [ -z "${MNIST_DATA_DIR:-}" ] || [ ! -d "$MNIST_DATA_DIR/MNIST/raw" ]; then
    echo "MNIST_DATA_DIR must name a folder that holds MNIST/raw/ with the four original files" >&2
    exit 2
fi

"$python" -m pytest -q -p no:cacheprovider tests/test_gpu.py tests/test_training.py tests/test_fast_recipe.py 2>&1 \
    | tee "$out/pytest.txt"
"$python" -m benchmarks.bench_training --device "$device" --seeds 0 1 2 --pause 1 \
    --out "$out/training.json" 2>&1 | tee "$out/training.txt"
"$python" -m benchmarks.bench_models --device "$device" --models cnn cnn_fast --seeds 0 \
    --out "$out/models.json" 2>&1 | tee "$out/models.txt"
"$python" -m benchmarks.bench_time_to_99 --device "$device" --seeds 0 1 2 --pause 1 \
    --out "$out/time_to_99.json" 2>&1 | tee "$out/time_to_99.txt"
echo "results in $out"
