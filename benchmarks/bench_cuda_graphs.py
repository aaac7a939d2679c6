"""The post's recipe on a GPU, three ways: the post's loop, the trainer (eager), and CUDA-graph replays.

``cuda_graphs.GraphedSteps`` is a prototype (see its docstring); this script measures whether it pays before the
trainer gets such a path. Each run happens in a fresh process after a pause, alternating the order of the
variants from seed to seed (``fresh_runs.py``). The loop time starts with the data already on the device; the
graphs' one-time capture is reported on its own.

    python benchmarks/bench_cuda_graphs.py --data-dir .mnist --seeds 0 1 2      # a GPU machine: about 2 minutes
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from fresh_runs import machine, run_fresh, seeds_and_variants, write_json

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("post", "trainer", "graphs")


def one_run(variant: str, seed: int, data_dir: str, device: str, epochs: int, largest_block: int) -> dict:
    import torch

    sys.path.insert(0, str(ROOT))
    from cuda_graphs import GraphedSteps
    from reference import post_loop

    from helpers.data import load_mnist
    from helpers.environment import device_name, pick_device
    from helpers.models import build_model
    from helpers.training import RunConfig, Trainer

    dev = pick_device(device)
    data = load_mnist(data_dir, dev)
    recipe = RunConfig(model="seed_linear", epochs=epochs).recipe
    model = build_model("seed_linear", seed)
    capture = None
    if variant == "post":
        out = post_loop(model.to(dev), data, epochs=epochs, seed=seed)
        seconds, error = out["train_seconds"], out["final_val_error"]
    else:
        if variant == "trainer":
            trainer = Trainer(model, data, recipe, seed=seed, threads=1)
        else:
            trainer = GraphedSteps(model, data, epochs=epochs, batch_size=recipe.batch_size, lr=recipe.lr,
                                   seed=seed, largest_block=largest_block)
        trainer.fit()
        seconds = trainer.train_seconds
        capture = getattr(trainer, "capture_seconds", None)
        error = evaluate_error(trainer.model, data)
    return {"variant": variant, "seed": seed, "epochs": epochs, "loop_seconds": seconds, "capture_seconds": capture,
            "val_error": error, "device": device_name(dev), "torch": torch.__version__,
            "cuda": torch.version.cuda, "largest_block": largest_block if variant == "graphs" else None,
            "cuda_max_allocated_mib": torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else None}


def evaluate_error(model, data) -> float:
    from helpers.evaluation import evaluate

    return evaluate(model, data.val)[1].item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DATA_DIR", str(ROOT.parent / "shared" / "data")))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--largest-block", type=int, default=256, help="the longest captured run of steps")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--pause", type=float, default=2.0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "gpu" / "cuda_graphs.json"))
    parser.add_argument("--one", nargs=2, metavar=("VARIANT", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        import json

        print(json.dumps(one_run(args.one[0], int(args.one[1]), args.data_dir, args.device, args.epochs,
                                 args.largest_block)))
        return
    runs = []
    for seed, variant in seeds_and_variants(args.seeds, args.variants):
        run = run_fresh([sys.executable, __file__, "--one", variant, str(seed), "--data-dir", args.data_dir,
                         "--device", args.device, "--epochs", str(args.epochs), "--largest-block",
                         str(args.largest_block)], args.pause, keep_thread_settings=True)
        runs.append(run)
        print(f"{variant:>7} seed {seed}: loop {run['loop_seconds']:.3f} s"
              + (f" (+ capture {run['capture_seconds']:.2f} s)" if run["capture_seconds"] else "")
              + f", val error {run['val_error']:.2f} %", flush=True)
    summary = {v: {"median_loop_seconds": statistics.median(r["loop_seconds"] for r in runs if r["variant"] == v),
                   "val_errors": [round(r["val_error"], 2) for r in runs if r["variant"] == v]}
               for v in args.variants}
    for v in args.variants:
        if v != "post" and "post" in summary:
            summary[v]["speedup_over_post"] = summary["post"]["median_loop_seconds"] / summary[v]["median_loop_seconds"]
    print({v: round(s["median_loop_seconds"], 3) for v, s in summary.items()})
    write_json(args.out, {"machine": machine(runs[0]["device"]), "torch": runs[0]["torch"], "cuda": runs[0]["cuda"],
                          "date": time.strftime("%Y-%m-%d %H:%M"), "epochs": args.epochs, "summary": summary,
                          "runs": runs})


if __name__ == "__main__":
    main()
