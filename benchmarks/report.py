"""The results tables, written from the benchmarks' JSON files, so the tables and the JSON cannot drift apart.

Every table sits in benchmarks/README.md between ``<!-- results:NAME -->`` and ``<!-- /results:NAME -->``; the
front page, README.md, holds one short block written the same way, ``results:headline``.

    python -m benchmarks.report          # print the tables
    python -m benchmarks.report --check  # exit 1 if a table differs from the JSON files (a test checks the same)
    python -m benchmarks.report --write  # rewrite the tables after a benchmark run
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
TABLES_PAGE = ROOT / "benchmarks" / "README.md"  # every table, with what it measures
FRONT_PAGE = ROOT / "README.md"  # the headline block only
POST_ERROR = 7.43  # the seed post's validation error (%)


def load(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text())


def measured_on(report: dict) -> str:
    machine = report["machine"].replace(" / ", ", ")  # host name / device / CPU count
    return f"Measured on {machine}, torch {report['torch']}, {report['date']}."


def percent_list(values) -> str:
    return ", ".join(f"{v:.2f}" for v in values) + " %"


def seconds_range(values) -> str:
    return f"{min(values):.1f}–{max(values):.1f} s"


def reproduction() -> str:
    seed_runs = [r for r in load("models")["runs"] if r["model"] == "seed_linear"]
    train = {r["seed"]: r["train_error"] for r in load("training")["runs"] if r["variant"] == "fast"}
    head = "| | the post | " + " | ".join(f"seed {r['seed']}" for r in seed_runs) + " |"
    rows = [
        head,
        "|---|---|" + "---|" * len(seed_runs),
        "| validation error after the last step | 7.43 % | "
        + " | ".join(f"{r['val_error']:.2f} %" for r in seed_runs) + " |",
        "| training error (cumulative since step 0, the post's definition) | 9.74 % | "
        + " | ".join(f"{train[r['seed']]:.2f} %" for r in seed_runs) + " |",
    ]
    return "\n".join(rows)


def training() -> str:
    report = load("training")
    s, runs = report["summary"], report["runs"]
    post = [r for r in runs if r["variant"] == "post"]
    fast = [r for r in runs if r["variant"] == "fast"]
    same = all(abs(p["val_error"] - f["val_error"]) < 1e-3 for p, f in zip(post, fast, strict=True))
    seeds = ", ".join(str(r["seed"]) for r in fast)
    lines = [
        f"| | median loop time ({report['epochs']} epochs, {len(fast)} seeds) | range | peak RSS |",
        "|---|---|---|---|",
        f"| the post's loop | {s['post']['median_seconds']:.1f} s | "
        f"{seconds_range([r['train_seconds'] for r in post])} | {s['post']['peak_rss_mib']:,.0f} MiB |",
        f"| this project's trainer | {s['fast']['median_seconds']:.1f} s | "
        f"{seconds_range([r['train_seconds'] for r in fast])} | {s['fast']['peak_rss_mib']:,.0f} MiB |",
        f"| speed-up | **{s['speedup']:.1f}×** (ratio of the medians) | "
        f"{min(s['paired_speedups']):.1f}–{max(s['paired_speedups']):.1f}× (each seed's pair) | |",
        "",
        measured_on(report) + " "
        + (f"Both loops end with the same validation error for every seed ({seeds}): "
           f"{percent_list(r['val_error'] for r in fast)}." if same else
           f"Validation errors, seeds {seeds}: post {percent_list(r['val_error'] for r in post)}, "
           f"trainer {percent_list(r['val_error'] for r in fast)}."),
    ]
    return "\n".join(lines)


def recipe_text(recipe: dict, precision: str = "fp32") -> str:
    text = f"{recipe['epochs']} ep, batch {recipe['batch_size']}, lr {recipe['lr']}"
    if recipe.get("optimizer", "sgd") != "sgd":
        text += f", {recipe['optimizer']}"
    elif recipe["momentum"]:
        text += f", SGD momentum {recipe['momentum']}" + (" nesterov" if recipe["nesterov"] else "")
    else:
        text += ", SGD"
    if recipe["weight_decay"]:
        text += f", wd {recipe['weight_decay']}"
    if recipe["schedule"] == "onecycle":
        text += ", one-cycle"
    if recipe["label_smoothing"]:
        text += f", label smoothing {recipe['label_smoothing']}"
    if recipe["shift"]:
        text += f", shifts ±{recipe['shift']}"
    if precision == "bf16":
        text += ", bf16"
    return text


def models() -> str:
    report = load("models")
    lines = [
        "| model | parameters | recipe | test error (seeds "
        + ", ".join(str(r["seed"]) for r in report["runs"] if r["model"] == "seed_linear")
        + ") | mean | loop time (median) | time to 99 % / 99.5 % |",
        "|---|---|---|---|---|---|---|",
    ]

    def time_to(runs, target):
        hits = [r["time_to"][target]["seconds"] for r in runs if target in r["time_to"]]
        if not hits:
            return "–"
        return seconds_range(hits) if len(hits) == len(runs) else f"{len(hits)} of {len(runs)} runs"

    for name in dict.fromkeys(r["model"] for r in report["runs"]):
        runs = [r for r in report["runs"] if r["model"] == name]
        lines.append(
            f"| `{name}` | {runs[0]['parameters']:,} | {recipe_text(runs[0]['recipe'], runs[0]['precision'])} | "
            f"{percent_list(r['val_error'] for r in runs)} | "
            f"**{statistics.mean(r['val_error'] for r in runs):.2f} %** | "
            f"{statistics.median(r['train_seconds'] for r in runs):.1f} s | "
            f"{time_to(runs, '1.0')} / {time_to(runs, '0.5')} |"
        )
    lines += ["", measured_on(report)]
    return "\n".join(lines)


def seed_recipes() -> str:
    report = load("seed_recipes")
    lines = [
        f"| batch, lr, epochs | held-out digits: time to {POST_ERROR} % | test digits: time to {POST_ERROR} % "
        "| test digits: final error |",
        "|---|---|---|---|",
    ]

    def reach(runs) -> str:
        hits = [r["seconds_to_target"] for r in runs if r["seconds_to_target"] is not None]
        if not hits:
            return "never"
        text = f"{min(hits):.2f}–{max(hits):.2f} s"
        return text if len(hits) == len(runs) else f"{text} ({len(hits)} of {len(runs)} seeds)"

    for batch, lr, epochs in sorted({(r["batch_size"], r["lr"], r["epochs"]) for r in report["runs"]}):
        held = [r for r in report["runs"] if r["batch_size"] == batch and r["holdout"]]
        test = [r for r in report["runs"] if r["batch_size"] == batch and not r["holdout"]]
        label = f"{batch}, {lr}, {epochs}" + {32: " (the post)", 64: " (`seed_linear_fast`)"}.get(batch, "")
        lines.append(f"| {label} | {reach(held)} | {reach(test)} | "
                     f"{percent_list(r['final_error'] for r in test)} |")
    lines += ["", measured_on(report)]
    return "\n".join(lines)


def cpu() -> str:
    report = load("cpu")
    cores = next(iter(report["models"].values()))["cores"]
    lines = [
        f"| model | the trainer's threads | quiet: 1 thread | quiet: {cores} threads | busy: 1 thread "
        f"| busy: {cores} threads | busy / quiet (the trainer's threads) |",
        "|---|---|---|---|---|---|---|",
    ]

    def cell(row, key):
        bold = key.endswith(f"_{row['threads_chosen']}")
        return f"**{row[key]:.2f} s**" if bold else f"{row[key]:.2f} s"

    for name, row in report["models"].items():
        own = row["threads_chosen"]
        lines.append(f"| `{name}` | {'1' if own == 1 else f'all ({own})'} | {cell(row, 'quiet_1')} | "
                     f"{cell(row, f'quiet_{cores}')} | {cell(row, 'busy_1')} | {cell(row, f'busy_{cores}')} | "
                     f"**{row['busy_over_quiet']:.2f}×** |")
    p = report["post_vs_trainer"]
    lines += [
        "",
        f"| the post's recipe, {p['epochs']} epochs | the post's loop (PyTorch's default threads) | the trainer "
        "| speed-up |",
        "|---|---|---|---|",
        f"| quiet | {p['post_quiet']:.2f} s | {p['trainer_quiet']:.2f} s | **{p['speedup_quiet']:.1f}×** |",
        f"| busy | {p['post_busy']:.2f} s | {p['trainer_busy']:.2f} s | **{p['speedup_busy']:.1f}×** |",
        "",
        f"One epoch of each model's recipe (loop time, median of {report['repeats']} runs, each in a fresh process; "
        "in bold: the trainer's thread count); "
        f"busy: beside {report['load']}. " + measured_on(report),
    ]
    return "\n".join(lines)


def profile() -> str:
    report = load("cpu")
    lines = ["| model, threads | machine | a step | PyTorch's operations, self time a step (the largest) |",
             "|---|---|---|---|"]
    for row in report["profile"]:
        ops = ", ".join(f"`{op['op'].removeprefix('aten::')}` {op['us_per_step']:.0f}" for op in row["top_ops"][:5])
        lines.append(f"| `{row['model']}`, {row['threads']} | {'busy' if row['busy'] else 'quiet'} | "
                     f"{row['wall_us_per_step']:,.0f} µs | {ops} µs |")
    per_model = {row["model"]: row["steps"] for row in report["profile"]}
    steps = ", ".join(f"{n} for `{model}`" for model, n in per_model.items())
    lines += ["", f"`torch.profiler` over the trainer's steps ({steps}; batch as in the recipe, after as many "
              "steps of warm-up); *a step* is the loop time without the profiler, validation left out. Same run as "
              "the table above."]
    return "\n".join(lines)


def precision() -> str:
    report = load("precision")
    lines = ["| oneDNN | float32 | bf16 autocast | bf16 / float32 | `native_bf16` | the trainer uses |",
             "|---|---|---|---|---|---|"]
    for cap, row in report["summary"].items():
        label = "as this CPU allows (AVX512-BF16)" if cap == "uncapped" else f"capped: `ONEDNN_MAX_CPU_ISA={cap}`"
        lines.append(f"| {label} | {row['fp32']:.1f} ms | {row['bf16']:.1f} ms | {row['bf16_over_fp32']:.2f}× | "
                     f"{row['native_bf16']} | {row['trainer_picks']} |")
    lines += ["", "One CNN training step (batch 128, SGD), median over fresh processes. " + measured_on(report)]
    return "\n".join(lines)


def digits() -> str:
    report = load("digits")
    models = report["models"]
    lines = [f"| the {report['digits']:,} test digits | `cnn` accuracy | `seed_linear` accuracy |", "|---|---|---|"]
    for row in report["results"].values():
        lines.append(f"| {row['description']} | {row['cnn']['accuracy']:.2f} % | "
                     f"{row['seed_linear']['accuracy']:.2f} % |")
    lines += ["", f"The runs used (default recipes, seed {report['seed']}): `cnn` at "
              f"{models['cnn']['test_error']:.2f} % and `seed_linear` at {models['seed_linear']['test_error']:.2f} % "
              "test error. " + measured_on(report)]
    return "\n".join(lines)


def time_to_99() -> str:
    cpu_report = load("cpu")
    report = {**cpu_report["time_to_99"], "machine": cpu_report["machine"], "torch": cpu_report["torch"],
              "date": cpu_report["date"]}
    s = report["summary"]
    lines = ["| recipe | loop time to 99 % test accuracy | median | steps to 99 % | final accuracy | one epoch | "
             "threads, precision |", "|---|---|---|---|---|---|---|"]
    for variant, label in (("peer", "the peer: tuomaso/train_mnist_fast's final recipe, re-implemented"),
                           ("ours", "`cnn_fast`")):
        runs = [r for r in report["runs"] if r["variant"] == variant]
        hits = [r["seconds_to_99"] for r in runs if r["seconds_to_99"] is not None]
        reached = seconds_range(hits) if len(hits) == len(runs) else f"{len(hits)} of {len(runs)} runs"
        median = s[variant]["median_seconds_to_99"]
        lines.append(f"| {label} | {reached} | **{median:.2f} s** | "
                     + ", ".join(str(r["step_to_99"]) for r in runs) + " | "
                     + ", ".join(f"{r['final_accuracy']:.2f}" for r in runs) + " % | "
                     f"{s[variant]['median_loop_seconds']:.2f} s | {runs[0]['threads']}, {runs[0]['precision']} |")
    seeds = ", ".join(str(r["seed"]) for r in report["runs"] if r["variant"] == "ours")
    lines += ["", f"Seeds {seeds}; the test digits scored every {report['eval_every']} steps, with the clock stopped "
              f"while scoring. `cnn_fast` gets there **{s['speedup']:.1f}×** sooner (ratio of the medians). "
              + measured_on(report)]
    return "\n".join(lines)


def headline() -> str:
    """The front page's short table: one line per result, each from the JSON file of its full table."""
    models_report, speed, cpu_report, digits_report = load("models"), load("training"), load("cpu"), load("digits")
    seed_runs = [r for r in models_report["runs"] if r["model"] == "seed_linear"]
    cnn_runs = [r for r in models_report["runs"] if r["model"] == "cnn"]
    s, race = speed["summary"], cpu_report["time_to_99"]["summary"]
    same = s["post"]["val_errors"] == s["fast"]["val_errors"]
    drawn = digits_report["results"]["large_off_centre_dark_on_light"]
    reports = (models_report, speed, cpu_report, digits_report)
    dates = sorted(r["date"][:10] for r in reports)
    torch = ", ".join(sorted({r["torch"] for r in reports}))
    lines = [
        "| | result |",
        "|---|---|",
        f"| the post reproduced (notebook 03; the post: {POST_ERROR} %) | "
        f"{percent_list(r['val_error'] for r in seed_runs)} validation error "
        f"(seeds {', '.join(str(r['seed']) for r in seed_runs)}) |",
        f"| the post's loop against this project's trainer ({speed['epochs']} epochs) | "
        f"**{s['speedup']:.1f}×** faster: {s['post']['median_seconds']:.1f} s against "
        f"{s['fast']['median_seconds']:.1f} s" + (", with the same errors |" if same else " |"),
        f"| `cnn` (notebook 05) | **{statistics.mean(r['val_error'] for r in cnn_runs):.2f} %** validation error "
        f"(mean of seeds {', '.join(str(r['seed']) for r in cnn_runs)}) |",
        f"| time to 99 % validation accuracy: `cnn_fast` against the fastest public recipe | "
        f"**{race['ours']['median_seconds_to_99']:.2f} s** against {race['peer']['median_seconds_to_99']:.2f} s |",
        f"| your digits (notebook 06): validation digits redrawn large, off-centre, dark on white | "
        f"`cnn` reads {drawn['cnn']['accuracy']:.2f} % of them |",
        "",
        f"Measured on the CPU of a {speed['machine'].rsplit(' / ', 1)[1].removesuffix(' CPUs')}-core virtual machine, "
        f"torch {torch}, {dates[0]} to {dates[-1]}.",
    ]
    return "\n".join(lines)


# The blocks of each page: every table in benchmarks/README.md, the headline on the front page.
TABLES = {"reproduction": reproduction, "training": training, "cpu": cpu, "profile": profile, "precision": precision,
          "models": models, "time_to_99": time_to_99, "digits": digits, "seed_recipes": seed_recipes}
HEADLINE = {"headline": headline}
PAGES = {TABLES_PAGE: TABLES, FRONT_PAGE: HEADLINE}


def block(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- results:{name} -->)(.*?)(<!-- /results:{name} -->)", re.S)


def render(page: str, tables: dict = TABLES, where: str = "benchmarks/README.md") -> str:
    """``page`` (the text of ``where``) with each block of ``tables`` replaced by its table from the JSON files."""
    for name, make in tables.items():
        pattern = block(name)
        if not pattern.search(page):
            raise SystemExit(f"{where} has no <!-- results:{name} --> block: add one where its table belongs")
        table = make()
        page = pattern.sub(lambda m, t=table: f"{m.group(1)}\n{t}\n{m.group(3)}", page)
    return page


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if a table differs from the JSON")
    mode.add_argument("--write", action="store_true", help="rewrite the tables in benchmarks/README.md and README.md")
    args = parser.parse_args()
    if not (args.check or args.write):
        for tables in PAGES.values():
            for name, make in tables.items():
                print(f"## {name}\n{make()}\n")
        return 0
    stale = []
    for path, tables in PAGES.items():
        current = path.read_text()
        updated = render(current, tables, str(path.relative_to(ROOT)))
        if args.write:
            path.write_text(updated)
            print(path.relative_to(ROOT), "tables written from", RESULTS.relative_to(ROOT))
        else:
            stale += [f"{path.relative_to(ROOT)} {n}" for n in tables
                      if block(n).search(current).group(2) != block(n).search(updated).group(2)]
    if stale:
        print(f"tables out of date: {', '.join(stale)}; run python -m benchmarks.report --write")
        return 1
    if args.check:
        print("tables match", RESULTS.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
