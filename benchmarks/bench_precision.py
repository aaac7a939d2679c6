"""bfloat16 only where the hardware does it natively: the CNN's training step in float32 and in bf16 autocast,
on this CPU as it is and with oneDNN capped to AVX2 (``ONEDNN_MAX_CPU_ISA=AVX2``, like a CPU without AVX512-BF16,
e.g. an AVX2-only cloud CPU), and what ``helpers.environment.native_bf16`` decides in each case.

Each measurement runs in a fresh process (the cap is read when oneDNN starts), alternating the order.

    python -m benchmarks.bench_precision                 # about 2 minutes on 2 cores
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


def one_run(precision: str, steps: int) -> dict:
    """Milliseconds per CNN training step (batch 128, SGD) in this process, after a few warm-up steps."""
    import torch
    from torch.nn import functional as F

    from helpers.environment import native_bf16
    from helpers.models import build_model

    model = build_model("cnn")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(128, 784, generator=g), torch.randint(0, 10, (128,), generator=g)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")

    def step():
        with autocast:
            loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return {"precision": precision, "ms_per_step": (time.perf_counter() - start) / steps * 1000,
            "native_bf16": native_bf16(torch.device("cpu")), "onednn_cap": os.environ.get("ONEDNN_MAX_CPU_ISA"),
            "torch": torch.__version__}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_precision", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "precision.json"))
    parser.add_argument("--one", nargs=2, metavar=("PRECISION", "STEPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.one[0], int(args.one[1]))))
        return

    cases = [(cap, precision) for cap in (None, "AVX2") for precision in ("fp32", "bf16")]
    runs = []
    for repeat in range(args.repeats):
        for cap, precision in cases if repeat % 2 == 0 else cases[::-1]:
            env = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
            if cap:
                env["ONEDNN_MAX_CPU_ISA"] = cap
            command = [sys.executable, "-m", "benchmarks.bench_precision", "--one", precision, str(args.steps)]
            out = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
            run = json.loads(out.stdout.strip().splitlines()[-1])
            runs.append(run)
            print(f"oneDNN {cap or 'uncapped':>8} {precision}: {run['ms_per_step']:6.1f} ms a step "
                  f"(native_bf16: {run['native_bf16']})", flush=True)
    summary = {}
    for cap in (None, "AVX2"):
        ms = {p: statistics.median(r["ms_per_step"] for r in runs if r["onednn_cap"] == cap and r["precision"] == p)
              for p in ("fp32", "bf16")}
        native = all(r["native_bf16"] for r in runs if r["onednn_cap"] == cap)
        summary[cap or "uncapped"] = {**ms, "bf16_over_fp32": ms["bf16"] / ms["fp32"], "native_bf16": native,
                                      "trainer_picks": "bf16" if native else "fp32"}
    report = {"machine": f"{platform.node()} / CPU ({platform.machine()}) / {os.cpu_count()} CPUs",
              "torch": runs[0]["torch"], "date": time.strftime("%Y-%m-%d"), "steps": args.steps,
              "summary": summary, "runs": runs}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
