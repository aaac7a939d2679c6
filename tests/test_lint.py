"""ruff lints the helpers, tests, tools, benchmarks and the notebooks (it reads .ipynb files)."""

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO


def test_ruff_finds_nothing():
    ruff = Path(sys.executable).with_name("ruff")
    command = [str(ruff)] if ruff.exists() else [shutil.which("ruff") or "ruff"]
    run = subprocess.run([*command, "check", "--no-cache", "."], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
