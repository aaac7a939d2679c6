"""Fast on the CPUs learners have: every model's loop on a quiet machine and beside a busy process.

One run of this script measures, side by side on this machine:
1. each model's training loop (one epoch of its recipe, official split) with 1 and with 2 intra-op threads,
   quiet and beside a background load, and which thread count the trainer picks;
2. the post's loop against the trainer (the post's recipe, a few epochs), quiet and busy.

The background load is one CPU-bound process that this script starts and stops itself: PyTorch, one thread,
multiplying matrices without a pause, like a second notebook training. Every measured run happens in a fresh
process after a pause, and the order of the variants alternates from one repeat to the next.

    python benchmarks/bench_cpu.py --data-dir ../shared/data            # about 6 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD = "import torch\ntorch.set_num_threads(1)\na = torch.rand(256, 256)\nwhile True:\n    a = (a @ a).tanh_()\n"


def one_run(kind: str, model: str, threads: int, epochs: int, data_dir: str, seed: int) -> dict:
    """Train once in this process (``kind``: "trainer" or "post") and return the loop time."""
    import torch

    sys.path.insert(0, str(ROOT))
    from helpers.data import load_mnist
    from helpers.models import build_model
    from helpers.reference import post_loop
    from helpers.training import RunConfig, Trainer

    torch.set_num_threads(threads)
    data = load_mnist(data_dir)
    recipe = RunConfig(model=model, epochs=epochs).recipe
    if kind == "post":
        out = post_loop(build_model(model, seed), data, epochs=epochs, batch_size=recipe.batch_size, lr=recipe.lr,
                        seed=seed)
        seconds, error = out["train_seconds"], out["final_val_error"]
    else:
        trainer = Trainer(build_model(model, seed), data, recipe, seed=seed, threads=threads)
        trainer.fit()
        seconds, error = trainer.train_seconds, trainer.results()["val_error"]
    return {"kind": kind, "model": model, "threads": threads, "epochs": epochs, "seed": seed,
            "seconds": seconds, "val_error": error}


def measure(cases: list[tuple], repeats: int, busy: bool, pause: float, data_dir: str) -> list[dict]:
    load = subprocess.Popen([sys.executable, "-c", LOAD]) if busy else None
    try:
        if busy:
            time.sleep(2.0)  # let the load get going
        runs = []
        for repeat in range(repeats):
            for kind, model, threads, epochs in cases if repeat % 2 == 0 else cases[::-1]:
                time.sleep(pause)
                command = [sys.executable, __file__, "--one", kind, model, str(threads), str(epochs), str(repeat),
                           "--data-dir", data_dir]
                out = subprocess.run(command, capture_output=True, text=True, check=True,
                                     env={k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")})
                run = {**json.loads(out.stdout.strip().splitlines()[-1]), "busy": busy}
                runs.append(run)
                print(f"{'busy' if busy else 'quiet':>5} {kind:>7} {model:>16} {threads} thread(s), {epochs} epoch(s): "
                      f"{run['seconds']:7.2f} s, error {run['val_error']:.2f} %", flush=True)
        return runs
    finally:
        if load is not None:
            load.kill()
            load.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DATA_DIR", str(ROOT.parent / "shared" / "data")))
    parser.add_argument("--models", nargs="+", default=["seed_linear", "softmax", "mlp", "cnn"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--post-epochs", type=int, default=3)
    parser.add_argument("--pause", type=float, default=3.0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cpu.json"))
    parser.add_argument("--one", nargs=5, metavar=("KIND", "MODEL", "THREADS", "EPOCHS", "SEED"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, model, threads, epochs, seed = args.one
        print(json.dumps(one_run(kind, model, int(threads), int(epochs), args.data_dir, int(seed))))
        return

    import torch

    sys.path.insert(0, str(ROOT))
    from helpers.models import MODELS

    cases = [("trainer", m, t, 1) for m in args.models for t in (1, 2)]
    cases += [("post", "seed_linear", 2, args.post_epochs), ("trainer", "seed_linear", 1, args.post_epochs)]
    runs = []
    for busy in (False, True):
        runs += measure(cases, args.repeats, busy, args.pause, args.data_dir)

    def median(kind, model, threads, epochs, busy):
        return statistics.median(r["seconds"] for r in runs if (r["kind"], r["model"], r["threads"], r["epochs"],
                                                                r["busy"]) == (kind, model, threads, epochs, busy))

    models = {}
    for m in args.models:
        chosen = MODELS[m].cpu_threads or torch.get_num_threads()
        row = {f"{'busy' if b else 'quiet'}_{t}": median("trainer", m, t, 1, b) for t in (1, 2) for b in (False, True)}
        row["threads_chosen"] = chosen
        row["busy_over_quiet"] = row[f"busy_{chosen}"] / row[f"quiet_{chosen}"]
        models[m] = row
    post = {f"{kind}_{'busy' if b else 'quiet'}": median(kind, "seed_linear", t, args.post_epochs, b)
            for kind, t in (("post", 2), ("trainer", 1)) for b in (False, True)}
    post["speedup_quiet"] = post["post_quiet"] / post["trainer_quiet"]
    post["speedup_busy"] = post["post_busy"] / post["trainer_busy"]
    report = {"machine": f"{platform.node()} / CPU ({platform.machine()}) / {os.cpu_count()} CPUs",
              "torch": torch.__version__, "date": time.strftime("%Y-%m-%d"), "repeats": args.repeats,
              "load": "one process: PyTorch, 1 thread, 256x256 matrix products without a pause",
              "models": models, "post_vs_trainer": {"epochs": args.post_epochs, **post}, "runs": runs}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({"models": models, "post_vs_trainer": post}, indent=1))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
