"""The learner's path, as in one Colab runtime: each notebook runs top to bottom, then again in the same kernel with
other parameters (the setup cell, under a stand-in ``google.colab``, installs nothing the second time), and every
"Try it" exercise of ``tests/exercises/`` lands as its notebook says it will."""

from __future__ import annotations

import re

import nbformat
import pytest
from conftest import REPO

from tests.exercises import exercises, learners_path, words
from tools.series import NOTEBOOKS

EXERCISES = exercises()


def try_it(name: str) -> str:
    """The notebook's prose, whitespace folded."""
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    return words(" ".join(c.source for c in nb.cells if c.cell_type == "markdown"))


def shown_code(name: str) -> dict[str, list[str]]:
    """The lines of code each exercise of the notebook's Try it shows in its ```python blocks, by exercise id (a
    line with a ``___`` blank is the learner's to fill in)."""
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    shown = {}
    for block in re.split(r"\*\*(?=\d\d-\d+\b)", text)[1:]:
        blocks = re.findall(r"```python\n(.*?)```", block, re.S)
        shown[block[:4].rstrip(" ·.")] = [line.strip() for b in blocks for line in b.splitlines() if line.strip()]
    return shown


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_exercise_is_in_its_notebook_with_what_it_promises(name):
    text = try_it(name)
    listed = re.findall(r"\*\*(\d\d-\d+)\b", text)
    assert listed == [e.id for e in EXERCISES[name]], "the Try it ids and tests/exercises disagree"
    for exercise in EXERCISES[name]:
        assert words(exercise.says) in text, exercise.id
        assert exercise.measured, f"{exercise.id}: measure what it shows at the learner's size"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_code_an_exercise_shows_is_the_code_ci_runs(name):
    shown = shown_code(name)
    for exercise in EXERCISES[name]:
        ran = [line.strip() for line in exercise.code.splitlines()]
        missing = [line for line in shown.get(exercise.id, []) if "___" not in line and line not in ran]
        assert not missing, f"{exercise.id} shows lines that CI does not run: {missing}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_notebook_runs_again_in_the_same_runtime_and_its_exercises_land(name, notebook_data_dir, tmp_path):
    executed = learners_path(name, notebook_data_dir, tmp_path / "artifacts")
    settings = [nb.metadata["learners_path"] for nb in executed]
    assert len(settings) >= 2 and settings[1]["parameters"] != settings[0]["parameters"]
    assert sorted(i for s in settings for i in s["exercises"]) == sorted(e.id for e in EXERCISES[name])
