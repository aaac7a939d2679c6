"""``python -m helpers`` with a hook for tests: once the checkpoint of epoch ``--at-epoch`` is saved, ``--then``

- ``interrupt``: the process sends itself SIGINT (as the stop button or Ctrl-C does);
- ``kill``: the process sends itself SIGKILL (as a runtime that dies);
- ``wait``: the process writes ``<FILE>.waiting`` and trains on only once ``FILE`` exists.

So a test interrupts a run at a known point instead of racing it.

    python -m tests.cli_hooks --at-epoch 1 --then wait:/tmp/go -- train --model cnn ...
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from helpers import runs
from helpers.__main__ import main


def hooked(at_epoch: int, then: str):
    save = runs.RunFolder.save

    def save_then_act(folder, checkpoint):
        save(folder, checkpoint)
        if checkpoint["epoch"] != at_epoch:
            return
        if then == "interrupt":
            os.kill(os.getpid(), signal.SIGINT)
        elif then == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        else:
            go = Path(then.removeprefix("wait:"))
            go.with_name(go.name + ".waiting").touch()
            while not go.exists():
                time.sleep(0.02)

    return save_then_act


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--at-epoch", type=int, required=True)
    parser.add_argument("--then", required=True, help="interrupt, kill or wait:FILE")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    hook = parser.parse_args()
    runs.RunFolder.save = hooked(hook.at_epoch, hook.then)
    sys.exit(main(hook.args[1:] if hook.args[:1] == ["--"] else hook.args))
