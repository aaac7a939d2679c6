"""helpers/README.md's table of where each helper is taught: every section it names exists and its code uses the
helper, and no helper is listed twice."""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO

TABLE = (REPO / "helpers" / "README.md").read_text().split("<!-- taught -->")[1].split("<!-- /taught -->")[0]
ROWS = [(re.findall(r"`([\w.]+)`", names), re.findall(r"(\d\d) §(\d+)", places))
        for names, places in re.findall(r"^\| (`.+?) \| (.+?) \|$", TABLE, re.M)]


def section_code(notebook: str, section: str) -> str:
    """The code of the cells under ``## <section>.`` in notebook ``NN_*``, up to the next ``## `` heading."""
    (path,) = (REPO / "notebooks").glob(f"{notebook}_*.ipynb")
    code, inside = [], False
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and source.startswith("## "):
            inside = source.startswith(f"## {section}.")
        elif inside and cell["cell_type"] == "code":
            code.append(source)
    assert code, f"notebook {notebook} has no section {section} with code"
    return "\n".join(code)


@pytest.mark.parametrize(("names", "places"), ROWS, ids=[", ".join(names) for names, _ in ROWS])
def test_the_section_named_uses_the_helper(names, places):
    assert places, names
    for notebook, section in places:
        code = section_code(notebook, section)
        for name in names:
            module, attribute = name.split(".")
            assert re.search(rf"\b{module}\.{attribute}\b", code), f"{name} is not used in {notebook} §{section}"


def test_the_table_names_each_helper_once_and_every_notebook_that_teaches_one():
    named = [name for names, _ in ROWS for name in names]
    assert named and len(set(named)) == len(named)
    assert {notebook for _, places in ROWS for notebook, _ in places} == {"01", "02", "03", "04", "05", "06"}
