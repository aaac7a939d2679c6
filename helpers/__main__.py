"""Command line: ``python -m helpers run`` executes the series; ``python -m helpers train`` trains one model."""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="execute notebooks 01 to 07 in order with papermill")
    run.add_argument("--smoke", action="store_true", help="tiny, fast version of the same work")
    run.add_argument("--data-dir", default="data", help="folder that holds MNIST/raw (default: "
                     "$MNIST_DATA_DIR, else ./data; downloaded there when missing)")
    run.add_argument("--artifacts-dir", default="artifacts", help="checkpoints, metrics, figures and the "
                     "executed notebooks (default: ./artifacts)")

    train = commands.add_parser("train", help="train one model (resumes its checkpoint) and print its metrics",
                                description="Train one model with its recipe (or your overrides), resuming its "
                                "checkpoint; a finished run is loaded, not retrained. Prints the final metrics "
                                "as JSON.")
    train.add_argument("--model", default="seed_linear", help="seed_linear (the post's model, default), "
                       "seed_linear_fast, softmax, mlp, cnn or cnn_fast")
    train.add_argument("--epochs", type=int, help="epochs to train (default: the model's recipe)")
    train.add_argument("--batch-size", type=int, help="samples per step (default: the model's recipe)")
    train.add_argument("--lr", type=float, help="learning rate (default: the model's recipe)")
    train.add_argument("--eval-every", type=int, default=500, help="validate on the whole validation set every this "
                       "many steps (default: 500, as the post)")
    train.add_argument("--seed", type=int, default=0, help="initial weights and shuffles (default: 0)")
    train.add_argument("--smoke", action="store_true", help="the same work on 4,096 / 1,024 digits, one epoch")
    train.add_argument("--device", default="auto", help="auto (a GPU when there is one, default), cpu, cuda or cuda:N")
    train.add_argument("--no-resume", dest="resume", action="store_false", help="start afresh: an earlier run of "
                       "the same configuration is moved aside, never deleted")
    train.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    train.add_argument("--data-dir", default="data", help="folder that holds MNIST/raw (default: "
                       "$MNIST_DATA_DIR, else ./data; downloaded there when missing)")
    train.add_argument("--artifacts-dir", default="artifacts", help="checkpoints and metrics go to "
                       "ARTIFACTS_DIR/MODEL/ (default: ./artifacts)")

    args = parser.parse_args(argv)
    from .config import ParameterError
    from .data import DataError
    from .runs import RunBusyError
    from .series import SeriesError, run_series
    from .training import RunConfig, TrainingDiverged, train

    try:
        if args.command == "run":
            run_series(smoke=args.smoke, data_dir=args.data_dir, artifacts_dir=args.artifacts_dir)
            return 0
        config = RunConfig(model=args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                           eval_every=args.eval_every, seed=args.seed, smoke=args.smoke)
        result = train(config, data_dir=args.data_dir, artifacts_dir=args.artifacts_dir, device=args.device,
                       resume=args.resume, progress=args.progress)
        print(json.dumps({k: v for k, v in result.metrics.items() if k != "history"}, indent=1))
        return 0
    except (ParameterError, DataError, SeriesError, RunBusyError, TrainingDiverged) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # the trainer has said where its checkpoint is and how to resume
        print("stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
