"""Command line: ``python -m helpers run`` executes the series; ``python -m helpers train`` trains one model."""

from __future__ import annotations

import argparse
import json
import sys

from .data import DEFAULT_DATA_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="execute notebooks 01 to 05 in order with papermill")
    run.add_argument("--smoke", action="store_true", help="tiny, fast version of the same work")
    run.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="folder that holds MNIST/raw (default: "
                     "$MNIST_DATA_DIR, else ./data; downloaded there when missing)")
    run.add_argument("--artifacts-dir", default="artifacts", help="checkpoints, metrics, figures and the "
                     "executed notebooks (default: ./artifacts)")

    train = commands.add_parser("train", help="train one model (resumes its checkpoint) and print its metrics")
    train.add_argument("--model", default="seed_linear")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument("--eval-every", type=int, default=500)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--smoke", action="store_true")
    train.add_argument("--holdout", type=int, default=0)
    train.add_argument("--target-error", type=float)
    train.add_argument("--device", default="auto")
    train.add_argument("--no-resume", dest="resume", action="store_false")
    train.add_argument("--no-progress", dest="progress", action="store_false")
    train.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    train.add_argument("--artifacts-dir", default="artifacts")

    args = parser.parse_args(argv)
    from .data import DataError
    from .series import SeriesError
    from .training import ParameterError

    try:
        return _dispatch(args)
    except (ParameterError, DataError, SeriesError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from .series import run_series

        run_series(smoke=args.smoke, data_dir=args.data_dir, artifacts_dir=args.artifacts_dir)
        return 0

    from .training import RunConfig
    from .training import train as train_run

    config = RunConfig(model=args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                       eval_every=args.eval_every, seed=args.seed, smoke=args.smoke, holdout=args.holdout,
                       target_error=args.target_error)
    result = train_run(config, data_dir=args.data_dir, artifacts_dir=args.artifacts_dir, device=args.device,
                       resume=args.resume, progress=args.progress)
    summary = {k: v for k, v in result.metrics.items() if k != "history"}
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
