"""The seed post's loop against the project's trainer: same data, same seed, same recipe.

Each run happens in a fresh subprocess (so peak memory is per run and nothing is warm), after a pause,
alternating which loop goes first:
the post's loop (``benchmarks/reference.py``'s ``post_loop``: DataLoader over TensorDataset, batch 32, ``.item()``
twice a step) and ``helpers.training.Trainer``. Prints the median loop times, their ratio, both
validation errors and peak memory, and writes everything to a JSON file.

    python -m benchmarks.bench_training --data-dir ../shared/data --seeds 0 1 2
    python -m benchmarks.bench_training --device cuda --out benchmarks/results/gpu/training.json   # on a GPU
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

from benchmarks.fresh_runs import machine, run_fresh, seeds_and_variants, write_json

ROOT = Path(__file__).resolve().parent.parent


def one_run(variant: str, seed: int, data_dir: str, device: str, epochs: int) -> dict:
    """Train once in this process and return its measurements."""
    import torch

    from benchmarks.fresh_runs import timed_fit
    from benchmarks.reference import post_loop
    from helpers.data import load_mnist
    from helpers.environment import device_name, pick_device
    from helpers.evaluation import evaluate
    from helpers.models import MODELS, build_model
    from helpers.training import RunConfig, Trainer, cumulative

    dev = pick_device(device)
    data = load_mnist(data_dir, dev)
    model = build_model("seed_linear", seed)
    if variant == "post":
        model.to(dev)
        out = post_loop(model, data, epochs=epochs, seed=seed)
        seconds, val_error, train_error = out["train_seconds"], out["final_val_error"], out["train_error"][-1]
        last_periodic = out["val_error"][-1]
    else:
        trainer = Trainer(model, data, RunConfig(epochs=epochs).recipe, seed=seed,
                          threads=MODELS["seed_linear"].cpu_threads)  # the trainer's own thread choice
        seconds = timed_fit(trainer)
        val_error = evaluate(trainer.model, data.val)[1].item()
        train_error = cumulative(trainer.history, trainer.step)[1][-1].item()
        last_periodic = trainer.history["val_error"][-1]
    return {
        "variant": variant, "seed": seed, "epochs": epochs, "train_seconds": seconds, "val_error": val_error,
        "last_periodic_val_error": last_periodic, "train_error": train_error,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cuda_max_allocated_mib": torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else None,
        "device": device_name(dev), "torch": torch.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_training", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DATA_DIR", str(ROOT.parent / "shared" / "data")))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (default: the GPU when there is one)")
    parser.add_argument("--variants", nargs="+", default=["post", "fast"], choices=["post", "fast"])
    parser.add_argument("--pause", type=float, default=10.0, help="seconds to let the machine settle between runs")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "training.json"))
    parser.add_argument("--one", nargs=2, metavar=("VARIANT", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one[0], int(args.one[1]), args.data_dir, args.device, args.epochs)))
        return

    runs = []
    # Alternate which loop goes first: a run right after another one can be slower while the machine
    # reclaims the memory the previous process freed.
    for seed, variant in seeds_and_variants(args.seeds, args.variants):
        command = [sys.executable, "-m", "benchmarks.bench_training", "--one", variant, str(seed),
                   "--data-dir", args.data_dir, "--device", args.device, "--epochs", str(args.epochs)]
        run = run_fresh(command, args.pause, keep_thread_settings=True)
        runs.append(run)
        print(f"{variant:>5} seed {seed}: loop {run['train_seconds']:7.2f} s | val error {run['val_error']:.2f} % "
              f"(last periodic {run['last_periodic_val_error']:.2f} %) | cumulative train error "
              f"{run['train_error']:.2f} % | peak RSS {run['peak_rss_mib']:.0f} MiB", flush=True)

    summary = {}
    for variant in args.variants:
        mine = [r for r in runs if r["variant"] == variant]
        summary[variant] = {
            "median_seconds": statistics.median(r["train_seconds"] for r in mine),
            "val_errors": [round(r["val_error"], 2) for r in mine],
            "peak_rss_mib": max(r["peak_rss_mib"] for r in mine),
            "cuda_max_allocated_mib": mine[0]["cuda_max_allocated_mib"],
        }
    if {"post", "fast"} <= set(summary):
        summary["speedup"] = summary["post"]["median_seconds"] / summary["fast"]["median_seconds"]
        # Each seed's two runs ran back to back, so their ratio is less exposed to slow spells of the machine.
        seconds = {(r["variant"], r["seed"]): r["train_seconds"] for r in runs}
        summary["paired_speedups"] = [seconds["post", seed] / seconds["fast", seed] for seed in args.seeds]
        summary["median_paired_speedup"] = statistics.median(summary["paired_speedups"])
        print(f"median loop time: post {summary['post']['median_seconds']:.2f} s, fast "
              f"{summary['fast']['median_seconds']:.2f} s -> {summary['speedup']:.1f}x faster "
              f"(per seed: {', '.join(f'{x:.1f}x' for x in summary['paired_speedups'])})")
    write_json(args.out, {"machine": machine(runs[0]["device"]), "torch": runs[0]["torch"],
                          "date": time.strftime("%Y-%m-%d"), "epochs": args.epochs, "summary": summary, "runs": runs})


if __name__ == "__main__":
    main()
