"""Can the seed post's model reach its 7.43 % sooner with another batch size and learning rate?

Trains ``seed_linear`` (Linear + ReLU, plain SGD, constant learning rate) with the post's recipe and
with larger batches at proportionally larger learning rates, for several seeds, on the held-out split
(last 5,000 training digits, where a recipe would be chosen) and on the post's validation set (the
official test digits). Reports the final error and the training-loop time at the first validation
(every ``--eval-every`` steps) at or below 7.43 %.

    python -m benchmarks.bench_seed_recipes --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CANDIDATES = ((32, 0.08, 25), (64, 0.16, 12), (128, 0.32, 12), (256, 0.5, 10))  # batch, lr, epochs
TARGET = 7.43


def main() -> None:
    import torch

    from benchmarks.fresh_runs import held_out, timed_fit
    from helpers.data import load_mnist
    from helpers.environment import device_name, pick_device
    from helpers.evaluation import evaluate
    from helpers.models import Recipe, build_model
    from helpers.training import Trainer

    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_seed_recipes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DATA_DIR", str(ROOT.parent / "shared" / "data")))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "seed_recipes.json"))
    args = parser.parse_args()
    device = pick_device("auto")
    rows = []
    for holdout in (5000, 0):
        data = held_out(load_mnist(args.data_dir, device), holdout) if holdout else load_mnist(args.data_dir, device)
        print(data.description, "|", device_name(device), flush=True)
        for batch, lr, epochs in CANDIDATES:
            for seed in args.seeds:
                trainer = Trainer(build_model("seed_linear", seed), data, Recipe(epochs, batch, lr), seed=seed,
                                  eval_every=args.eval_every)
                loop_seconds = timed_fit(trainer)
                h = trainer.history
                errors = h["val_error"] + [evaluate(trainer.model, data.val)[1].item()]
                hit = next((s for s, e in zip(h["val_seconds"] + [trainer.seconds], errors) if e <= TARGET), None)
                row = {"holdout": holdout, "batch_size": batch, "lr": lr, "epochs": epochs, "seed": seed,
                       "final_error": round(errors[-1], 2), "seconds_to_target": hit,
                       "train_seconds": round(loop_seconds, 2)}
                rows.append(row)
                reached = f"{TARGET} % at {hit:.2f} s" if hit is not None else f"never {TARGET} %"
                print(f"  batch {batch:>3}, lr {lr:<4}, {epochs:>2} epochs, seed {seed}: "
                      f"final {row['final_error']:5.2f} % | {reached} | loop {row['train_seconds']:.2f} s", flush=True)
    report = {"machine": f"{platform.node()} / {device_name(device)} / {os.cpu_count()} CPUs",
              "torch": torch.__version__, "date": time.strftime("%Y-%m-%d"), "target": TARGET,
              "eval_every": args.eval_every, "runs": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
