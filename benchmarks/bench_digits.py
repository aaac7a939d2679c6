"""Does ``helpers.digits.to_mnist`` recover real digits drawn large, off-centre and in either polarity?

Every official MNIST test digit (or the first ``--limit``) is drawn again the way a learner's drawing or
a photo looks: enlarged 4-9 times (bilinear), placed at a random spot on a 280 x 420 canvas, as light
ink on black, as dark ink on white, and as dark ink on uneven grey "paper" with noise. Each version goes
through ``to_mnist`` and is classified by the trained CNN and the post's linear model (trained, or
loaded when ``artifacts_dir`` already holds the finished run, with each model's default recipe, seed 0).
For comparison: the originals, the originals through ``to_mnist``, and the light-on-black canvas simply
shrunk to 28 x 28 without ``to_mnist`` (what feeding a drawing straight in does).

    OMP_NUM_THREADS=1 python -m benchmarks.bench_digits --data-dir ../shared/data   # about 4 min, trained models
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CANVAS = (280, 420)  # height, width of the drawing canvas
SCALES = (4.0, 9.0)  # each digit is enlarged by a factor drawn uniformly from this range

TRANSFORMS = {
    "original": "the MNIST test digit as it is",
    "original_through_to_mnist": "the MNIST test digit through to_mnist (crop, fit 20x20, centre by mass again)",
    "large_off_centre_light_on_dark": "enlarged 4-9x at a random spot of a 280x420 canvas, light ink on black",
    "large_off_centre_dark_on_light": "the same, dark ink on white paper",
    "large_off_centre_dark_on_grey_noisy": "the same, dark ink on uneven grey paper with noise (a photo)",
    "large_off_centre_shrunk_without_to_mnist": "the light-on-black canvas shrunk to 28x28, no to_mnist",
}


def make_versions(image, g, torch, digits, F) -> dict:
    """The versions of one 28 x 28 uint8 digit, as the inputs each transformation gives the model pipeline."""
    scale = SCALES[0] + (SCALES[1] - SCALES[0]) * torch.rand((), generator=g).item()
    size = round(28 * scale)
    top = int(torch.randint(0, CANVAS[0] - size + 1, (), generator=g))
    left = int(torch.randint(0, CANVAS[1] - size + 1, (), generator=g))
    big = F.interpolate(torch.from_numpy(image).float()[None, None] / 255, size=(size, size), mode="bilinear",
                        align_corners=False)[0, 0]
    canvas = torch.zeros(CANVAS)  # the digit enlarged at (top, left) of a black canvas, light ink
    canvas[top : top + size, left : left + size] = big.clamp(0, 1)
    light = (canvas * 255).round().to(torch.uint8).numpy()
    dark = 255 - light
    ramp = torch.linspace(0.62, 0.85, CANVAS[1])[None, :].expand(CANVAS)  # light falling off across the page
    paper = ramp + 0.03 * torch.randn(CANVAS, generator=g)
    ink = torch.from_numpy(light).float() / 255
    grey = (paper * (1 - ink) + 0.12 * ink).clamp(0, 1)
    shrunk = F.interpolate(torch.from_numpy(light).float()[None, None] / 255, size=(28, 28), mode="bilinear",
                           antialias=True, align_corners=False).reshape(784)
    return {
        "original": torch.from_numpy(image).float().reshape(784) / 255,
        "original_through_to_mnist": digits.to_mnist(image),
        "large_off_centre_light_on_dark": digits.to_mnist(light),
        "large_off_centre_dark_on_light": digits.to_mnist(dark),
        "large_off_centre_dark_on_grey_noisy": digits.to_mnist(grey),
        "large_off_centre_shrunk_without_to_mnist": shrunk,
    }


def main() -> None:
    import torch
    from torch.nn import functional as F
    from torchvision.datasets import MNIST

    from helpers import digits
    from helpers.data import ensure_mnist
    from helpers.environment import device_name, pick_device
    from helpers.evaluation import logits_of
    from helpers.training import RunConfig, train

    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_digits", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DATA_DIR", str(ROOT.parent / "shared" / "data")))
    parser.add_argument("--artifacts-dir", default=str(ROOT / "artifacts"), help="where the models' runs are "
                        "(trained there first when missing; the same folders as the notebooks')")
    parser.add_argument("--limit", type=int, default=10_000, help="use the first N test digits (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the sizes, spots and noise")
    parser.add_argument("--smoke", action="store_true", help="smoke-trained models (for trying the script)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "digits.json"))
    args = parser.parse_args()
    if args.limit < 1:
        parser.error(f"--limit {args.limit}: give a positive number of test digits")

    device = pick_device(args.device)
    models, runs = {}, {}
    for name in ("cnn", "seed_linear"):
        result = train(RunConfig(model=name, seed=0, smoke=args.smoke), data_dir=args.data_dir,
                       artifacts_dir=args.artifacts_dir, device=device, progress=False)
        models[name] = result.model.eval()
        runs[name] = {"run_id": result.metrics["run_id"], "test_error": round(result.metrics["val_error"], 3)}
        print(f"{name}: run {runs[name]['run_id']}, {runs[name]['test_error']:.2f} % test error", flush=True)

    test = MNIST(ensure_mnist(args.data_dir), train=False)
    images, labels = test.data[: args.limit].numpy(), test.targets[: args.limit]
    g = torch.Generator().manual_seed(args.seed)
    start = time.perf_counter()
    rows = {name: [] for name in TRANSFORMS}
    for image in images:
        for name, x in make_versions(image, g, torch, digits, F).items():
            rows[name].append(x)
    seconds = time.perf_counter() - start
    print(f"{len(images):,} digits drawn and prepared in {seconds:.0f} s", flush=True)

    results = {}
    for name, description in TRANSFORMS.items():
        x = torch.stack(rows[name]).to(device)
        results[name] = {"description": description}
        for model_name, model in models.items():
            predictions = logits_of(model, x).argmax(1).cpu()
            accuracy = (predictions == labels).double().mean().item() * 100
            results[name][model_name] = {"accuracy": round(accuracy, 2), "error": round(100 - accuracy, 2)}
        print(f"{name:>42}: " + ", ".join(f"{m} {results[name][m]['accuracy']:.2f} %" for m in models), flush=True)

    report = {
        "machine": f"{platform.node()} / {device_name(device)} / {os.cpu_count()} CPUs",
        "torch": torch.__version__,
        "date": date.today().isoformat(),
        "digits": len(images),
        "canvas": list(CANVAS),
        "scales": list(SCALES),
        "seed": args.seed,
        "smoke": args.smoke,
        "models": runs,
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, allow_nan=False) + "\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
