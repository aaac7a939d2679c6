"""Every model with its default recipe: final test error, training time, and time to reach each target.

Runs ``helpers.training.Trainer`` exactly as notebook 03/05 do (the official 10,000 test digits as the
validation set, unless ``--holdout N``), for each model and seed, and records when the periodic
validation first reached each target error. Time-to-target is the training-loop time at that
validation (validations included), so its resolution is the recipe's validation cadence.

    python -m benchmarks.bench_models --data-dir ../shared/data --models cnn --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TARGETS = (7.43, 2.0, 1.0, 0.5)  # the post's error, then 98 %, 99 % and 99.5 % accuracy


def main() -> None:
    import torch

    from benchmarks.fresh_runs import held_out, timed_fit
    from helpers.data import load_mnist
    from helpers.environment import device_name, pick_device
    from helpers.evaluation import evaluate
    from helpers.models import MODELS, build_model, count_parameters
    from helpers.training import RunConfig, Trainer

    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_models", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DATA_DIR", str(ROOT.parent / "shared" / "data")))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--holdout", type=int, default=0, help="validate on the last N training digits instead")
    parser.add_argument("--eval-every", type=int, default=None, help="validation cadence (default: 500 steps)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "models.json"))
    args = parser.parse_args()

    device = pick_device(args.device)
    data = load_mnist(args.data_dir, device)
    data = held_out(data, args.holdout) if args.holdout else data
    print(data.description, "|", device_name(device), "| torch", torch.__version__, flush=True)
    runs = []
    for name in args.models:
        for seed in args.seeds:
            config = RunConfig(model=name, seed=seed, **(
                {"eval_every": args.eval_every} if args.eval_every else {}))
            trainer = Trainer(build_model(name, seed), data, config.recipe, seed=seed, eval_every=config.eval_every,
                              threads=MODELS[name].cpu_threads)
            loop_seconds = timed_fit(trainer)
            final_error = evaluate(trainer.model, data.val)[1].item()
            h = trainer.history
            val = {"error": h["val_error"] + [final_error], "seconds": h["val_seconds"] + [trainer.seconds],
                   "step": h["val_step"] + [trainer.step]}
            reached = {}
            for target in TARGETS:
                hit = next((i for i, e in enumerate(val["error"]) if e <= target), None)
                if hit is not None:
                    reached[str(target)] = {"seconds": val["seconds"][hit], "step": val["step"][hit]}
            run = {"model": name, "seed": seed, "val_error": final_error, "train_seconds":
                   loop_seconds, "epochs": config.recipe.epochs, "steps": trainer.step,
                   "recipe": config.recipe.as_dict(), "parameters": count_parameters(trainer.model),
                   "precision": trainer.precision, "threads": torch.get_num_threads() if trainer.threads is None
                   else trainer.threads, "time_to": reached}
            runs.append(run)
            hits = ", ".join(f"{t}% at {r['seconds']:.1f} s" for t, r in reached.items())
            print(f"{name:>16} seed {seed}: error {run['val_error']:.2f} % in {run['train_seconds']:.1f} s"
                  f" | reached {hits or 'none'}", flush=True)
    summary = {}
    for name in args.models:
        mine = [r for r in runs if r["model"] == name]
        summary[name] = {
            "mean_error": statistics.mean(r["val_error"] for r in mine),
            "errors": [round(r["val_error"], 2) for r in mine],
            "median_seconds": statistics.median(r["train_seconds"] for r in mine),
        }
        print(f"{name:>16}: mean error {summary[name]['mean_error']:.3f} % over seeds {args.seeds}, "
              f"median loop {summary[name]['median_seconds']:.1f} s")
    report = {"machine": f"{platform.node()} / {device_name(device)} / {os.cpu_count()} CPUs",
              "torch": torch.__version__, "date": time.strftime("%Y-%m-%d"), "data": data.description,
              "summary": summary, "runs": runs}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
