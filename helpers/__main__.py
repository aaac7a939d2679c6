"""Command line: ``python -m helpers train`` trains one model. (``python -m tools.series`` runs the notebooks.)"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, fields

from .config import RunConfig, RunOptions, add_arguments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train one model (resumes its checkpoint) and print its metrics",
                                description="Train one model with its recipe (or your overrides), resuming its "
                                "checkpoint; a finished run is loaded, not retrained. Prints the final metrics "
                                "as JSON.")
    add_arguments(train, RunConfig)
    add_arguments(train, RunOptions)
    args = vars(parser.parse_args(argv))

    from .data import DataError
    from .runs import RunBusyError
    from .training import ParameterError, TrainingDiverged, train

    try:
        config = RunConfig(**{spec.name: args[spec.name] for spec in fields(RunConfig)})
        options = RunOptions(**{spec.name: args[spec.name] for spec in fields(RunOptions)})
        result = train(config, **asdict(options))
        print(json.dumps({k: v for k, v in result.metrics.items() if k != "history"}, indent=1))
        return 0
    except (ParameterError, DataError, RunBusyError, TrainingDiverged) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # the trainer has said where its checkpoint is and how to resume
        print("stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
