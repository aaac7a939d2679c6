"""Fast on the CPUs learners have: one run measures the three things the README's CPU tables show.

1. Every model's training loop (one epoch of its recipe, official split) with 1 thread and 2 threads (the
   trainer's policy, ``MODELS[name].cpu_threads``, is one of them: 1 for the linear models, all cores for the
   others), on the quiet machine and beside a background load.
2. The post's loop against the trainer (the post's recipe, a few epochs), quiet and busy.
3. Time to 99 % test accuracy: the peer's recipe (``peer_recipe.py``) against ``cnn_fast``, quiet
   (``benchmarks.bench_time_to_99`` runs each of them).
4. Where the time goes: PyTorch's profiler over a few dozen steps of ``seed_linear`` and ``cnn``, quiet and busy.

The background load is one CPU-bound process that this script starts and stops itself (``fresh_runs.LOAD``),
like a second notebook training. Every measured run happens in a fresh process after a pause, the order of the
variants alternating from one repeat to the next (``fresh_runs.py``).

    python -m benchmarks.bench_cpu --data-dir ../shared/data            # about 25 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from benchmarks.fresh_runs import (
    LOAD_TEXT,
    alternating,
    background_load,
    machine,
    run_fresh,
    seeds_and_variants,
    timed_fit,
    write_json,
)

ROOT = Path(__file__).resolve().parent.parent
PROFILED = [("seed_linear", 1, False), ("cnn", 2, False), ("cnn", 2, True), ("cnn", 1, True)]
PROFILED_STEPS = {"seed_linear": 1000, "cnn": 40}  # enough steps that the loop's fixed costs do not show


def one_run(kind: str, model: str, threads: int, epochs: int, data_dir: str, seed: int) -> dict:
    """Train once in this process (``kind``: "trainer" or "post") and return the loop time."""
    import torch

    from benchmarks.reference import post_loop
    from helpers.data import load_mnist
    from helpers.evaluation import evaluate
    from helpers.models import build_model
    from helpers.training import RunConfig, Trainer

    data = load_mnist(data_dir)
    recipe = RunConfig(model=model, epochs=epochs).recipe
    if kind == "post":
        torch.set_num_threads(threads)
        out = post_loop(build_model(model, seed), data, epochs=epochs, batch_size=recipe.batch_size, lr=recipe.lr,
                        seed=seed)
        seconds, error = out["train_seconds"], out["final_val_error"]
    else:
        trainer = Trainer(build_model(model, seed), data, recipe, seed=seed, threads=threads)
        seconds = timed_fit(trainer)
        error = evaluate(trainer.model, data.val)[1].item()
    return {"kind": kind, "model": model, "threads": threads, "epochs": epochs, "seed": seed,
            "seconds": seconds, "val_error": error}


def one_profile(model: str, threads: int, data_dir: str) -> dict:
    """PyTorch's profiler over the training steps of one epoch of the trainer (its second: the first warms up,
    the third is timed without the profiler)."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from helpers.data import Mnist, Split, load_mnist
    from helpers.models import build_model
    from helpers.training import RunConfig, Trainer

    steps = PROFILED_STEPS[model]
    full = load_mnist(data_dir)
    recipe = RunConfig(model=model, epochs=3).recipe
    n = steps * recipe.batch_size
    data = Mnist(Split(full.train.x[:n], full.train.y[:n]), Split(full.val.x[:1000], full.val.y[:1000]), "subset")
    trainer = Trainer(build_model(model, 0), data, recipe, threads=threads, eval_every=10**9)
    torch.set_num_threads(threads)
    trainer.train_epoch()  # warm-up: first-call costs and first touches of memory stay out
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        trainer.train_epoch()
    before = trainer.seconds
    trainer.train_epoch()
    wall = (trainer.seconds - before) / steps
    ops = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in ops) / steps
    return {"model": model, "threads": threads, "steps": steps, "batch_size": recipe.batch_size,
            "wall_us_per_step": wall * 1e6, "op_us_per_step": total,
            "top_ops": [{"op": e.key, "us_per_step": e.self_cpu_time_total / steps, "calls_per_step": e.count / steps}
                        for e in ops[:8]]}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_cpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DATA_DIR", str(ROOT.parent / "shared" / "data")))
    parser.add_argument("--models", nargs="+", default=["seed_linear", "softmax", "mlp", "cnn", "cnn_fast"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--post-epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="time to 99 %%: seeds per recipe")
    parser.add_argument("--pause", type=float, default=3.0)
    parser.add_argument("--parts", nargs="+", default=["models", "post", "time_to_99", "profile"],
                        choices=["models", "post", "time_to_99", "profile"])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cpu.json"))
    parser.add_argument("--one", nargs=5, metavar=("KIND", "MODEL", "THREADS", "EPOCHS", "SEED"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--profile", nargs=2, metavar=("MODEL", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        import json

        kind, model, threads, epochs, seed = args.one
        print(json.dumps(one_run(kind, model, int(threads), int(epochs), args.data_dir, int(seed))))
        return
    if args.profile:
        import json

        print(json.dumps(one_profile(args.profile[0], int(args.profile[1]), args.data_dir)))
        return

    import torch

    from benchmarks.bench_time_to_99 import summarise
    from helpers.models import MODELS

    cores = os.cpu_count()

    def policy(model):  # the trainer's thread count for the model: its own, or all cores (PyTorch's default)
        return MODELS[model].cpu_threads or cores

    cases = [("trainer", m, t, 1) for m in args.models for t in (1, cores)] if "models" in args.parts else []
    if "post" in args.parts:
        cases += [("post", "seed_linear", cores, args.post_epochs),
                  ("trainer", "seed_linear", policy("seed_linear"), args.post_epochs)]
    runs = []
    for busy in (False, True):
        with background_load(busy):
            for repeat, (kind, model, threads, epochs) in alternating(cases, args.repeats):
                run = run_fresh([sys.executable, "-m", "benchmarks.bench_cpu", "--one", kind, model, str(threads),
                                 str(epochs), str(repeat), "--data-dir", args.data_dir], args.pause)
                runs.append({**run, "busy": busy})
                print(f"{'busy' if busy else 'quiet':>5} {kind:>7} {model:>11} threads {threads}, {epochs} epoch(s): "
                      f"{run['seconds']:7.2f} s, error {run['val_error']:.2f} %", flush=True)

    def median(kind, model, threads, epochs, busy):
        return statistics.median(r["seconds"] for r in runs if (r["kind"], r["model"], r["threads"], r["epochs"],
                                                                r["busy"]) == (kind, model, threads, epochs, busy))

    report = {"machine": machine(), "torch": torch.__version__, "date": time.strftime("%Y-%m-%d %H:%M"),
              "repeats": args.repeats, "load": LOAD_TEXT}
    if "models" in args.parts:
        models = {}
        for m in args.models:
            own = policy(m)
            row = {"threads_chosen": own, "cores": cores}
            for t in (1, cores):
                for b in (False, True):
                    row[f"{'busy' if b else 'quiet'}_{t}"] = median("trainer", m, t, 1, b)
            row["busy_over_quiet"] = row[f"busy_{own}"] / row[f"quiet_{own}"]
            models[m] = row
        report["models"] = models
    if "post" in args.parts:
        post = {f"{kind}_{'busy' if b else 'quiet'}": median(kind, "seed_linear", t, args.post_epochs, b)
                for kind, t in (("post", cores), ("trainer", policy("seed_linear"))) for b in (False, True)}
        post["speedup_quiet"] = post["post_quiet"] / post["trainer_quiet"]
        post["speedup_busy"] = post["post_busy"] / post["trainer_busy"]
        report["post_vs_trainer"] = {"epochs": args.post_epochs, **post}
    if "time_to_99" in args.parts:
        every, ttn = 10, []
        for seed, variant in seeds_and_variants(args.seeds, ["peer", "ours"]):
            run = run_fresh([sys.executable, "-m", "benchmarks.bench_time_to_99", "--one", variant, str(seed),
                             "--data-dir", args.data_dir, "--every", str(every)], args.pause + 2)
            ttn.append(run)
            print(f"time to 99 %: {variant:>4} seed {seed}: {run['seconds_to_99']} s, final accuracy "
                  f"{run['final_accuracy']:.2f} %", flush=True)
        report["time_to_99"] = {"eval_every": every, "summary": summarise(ttn, ["peer", "ours"]), "runs": ttn}
    if "profile" in args.parts:
        profiles = []
        for model, threads, busy in PROFILED:
            with background_load(busy):
                out = run_fresh([sys.executable, "-m", "benchmarks.bench_cpu", "--profile", model, str(threads),
                                 "--data-dir", args.data_dir], args.pause)
            profiles.append({**out, "busy": busy})
            print(f"profile {model} {threads} thread(s) {'busy' if busy else 'quiet'}: "
                  f"{out['wall_us_per_step']:.0f} us a step, top op {out['top_ops'][0]['op']}", flush=True)
        report["profile"] = profiles
    report["runs"] = runs
    write_json(args.out, report)


if __name__ == "__main__":
    main()
