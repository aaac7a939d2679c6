"""The generated parts of the notebooks (setup cell, Colab badges) and their hygiene.

    python tools/notebooks.py sync    # rewrite every setup cell and Colab badge (notebooks and README.md)
    python tools/notebooks.py clean   # strip outputs, execution counts and run metadata (nbstripout; ids kept)
    python tools/notebooks.py check   # list every problem, exit 1 if there is any

The GitHub repository and branch that badges and install lines point at are set in one place,
``[tool.mnist-series]`` in pyproject.toml. ``--root DIR`` points a command at another checkout.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import tomllib
import warnings
from pathlib import Path

import nbformat
from nbstripout import strip_output

ROOT = Path(__file__).resolve().parent.parent
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
# A Colab link to a notebook of this series; group 1 is its path in the repository.
LINK = r"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/[^\s)]+?/(notebooks/[\w.-]+\.ipynb)"
BADGE = re.compile(r"\[!\[Open In Colab\]\(" + re.escape(BADGE_IMAGE) + r"\)\]\(" + LINK + r"\)")
SYNC, CLEAN = "run `python tools/notebooks.py sync`", "run `python tools/notebooks.py clean`"
INSTALL = re.compile(r"mnist-series @ git\+https://github\.com/[\w.-]+/[\w.-]+@[^\s\"'`]+")
# What nbstripout's command line strips besides outputs and counts, plus what papermill and Colab add.
STRIP_KEYS = ["metadata.signature", "metadata.widgets", "metadata.papermill", "cell.metadata.collapsed",
              "cell.metadata.ExecuteTime", "cell.metadata.execution", "cell.metadata.heading_collapsed",
              "cell.metadata.hidden", "cell.metadata.scrolled", "cell.metadata.papermill", "cell.metadata.outputId"]


def slug(root: Path = ROOT) -> tuple[str, str]:
    """(owner/repo, branch) from ``[tool.mnist-series]`` in pyproject.toml."""
    section = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mnist-series"]
    return section["repository"], section["branch"]


def colab_url(repository: str, branch: str, notebook: str) -> str:
    return f"https://colab.research.google.com/github/{repository}/blob/{branch}/{notebook}"


def badge(repository: str, branch: str, notebook: str) -> str:
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(repository, branch, notebook)})"


def setup_source(repository: str, branch: str) -> str:
    """The setup cell: the first code cell of every notebook, tagged ``setup``, shown in Colab as a form (its title).

    In Colab, and only when ``helpers`` cannot be imported yet, it installs this repository's package with --no-deps,
    so Colab's own torch, torchvision, numpy and matplotlib stay exactly as they are; a second Run all in the same
    runtime installs nothing. A failed install stops there with one line that says what to check. Elsewhere (a
    checkout whose requirements.txt installed the package, papermill, CI) it does nothing.
    """
    url = f"https://github.com/{repository}"
    return f"""\
# @title Setup: in Colab, install this series' small `helpers` package (once per runtime)
import importlib.util
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("helpers") is None:  # Colab's torch stays as it is
    %pip install --quiet --no-deps "mnist-series @ git+{url}@{branch}"
    importlib.invalidate_caches()
    if importlib.util.find_spec("helpers") is None:  # %pip does not raise when the install fails
        raise RuntimeError("helpers did not install: check that this runtime is online, then run this cell again")"""


# A form in Colab (only its title shows) and a collapsed input in Jupyter.
SETUP_METADATA = {"cellView": "form", "jupyter": {"source_hidden": True}, "tags": ["setup"]}


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob("*.ipynb"))


def tagged(nb, tag: str) -> list:
    return [cell for cell in nb.cells if tag in cell.metadata.get("tags", [])]


def synced(nb, notebook: str, repository: str, branch: str):
    """A copy of ``nb`` with its setup cell and its title cell's badge generated from the slug."""
    nb = copy.deepcopy(nb)
    for cell in tagged(nb, "setup"):
        cell.source = setup_source(repository, branch)
        cell.metadata.update(copy.deepcopy(SETUP_METADATA))
    if nb.cells and nb.cells[0].cell_type == "markdown":
        nb.cells[0].source = BADGE.sub(badge(repository, branch, notebook), nb.cells[0].source)
    for cell in nb.cells[1:]:  # links to the other notebooks in Colab (a relative link does not open there)
        if cell.cell_type == "markdown":
            cell.source = re.sub(LINK, lambda m: colab_url(repository, branch, m[1]), cell.source)
    return nb


def synced_readme(text: str, repository: str, branch: str) -> str:
    text = re.sub(LINK, lambda m: colab_url(repository, branch, m[1]), text)
    return INSTALL.sub(f"mnist-series @ git+https://github.com/{repository}@{branch}", text)


def write(nb, path: Path) -> None:
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def sync(root: Path = ROOT) -> list[str]:
    """Rewrite setup cells and badges from pyproject.toml; returns the files it changed."""
    repository, branch = slug(root)
    changed = []
    for path in notebooks(root):
        nb = read(path)
        new = synced(nb, path.relative_to(root).as_posix(), repository, branch)
        if new != nb:
            write(new, path)
            changed.append(path.relative_to(root).as_posix())
    readme = root / "README.md"
    if readme.is_file() and (text := readme.read_text(encoding="utf-8")) != synced_readme(text, repository, branch):
        readme.write_text(synced_readme(text, repository, branch), encoding="utf-8")
        changed.append("README.md")
    return changed


def stripped(nb):
    """A copy of ``nb`` without outputs, execution counts, run metadata or papermill's injected cell; ids kept."""
    return strip_output(copy.deepcopy(nb), keep_output=False, keep_count=False, keep_id=True,
                        extra_keys=STRIP_KEYS, drop_tagged_cells=["injected-parameters"])


def read(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # about missing or repeated ids, which nbformat repairs: check reports them
        return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def clean(root: Path = ROOT) -> list[str]:
    """Strip every notebook in place; returns the files it changed."""
    changed = []
    for path in notebooks(root):
        text = nbformat.writes(stripped(read(path))) + "\n"  # read() gives a missing or repeated id a new one
        if text != path.read_text(encoding="utf-8"):
            path.write_text(text, encoding="utf-8")
            changed.append(path.relative_to(root).as_posix())
    return changed


def check_notebook(path: Path, root: Path = ROOT) -> list[str]:
    """Every problem of one notebook, as ``problem -> fix`` lines."""
    notebook = path.relative_to(root).as_posix()
    try:
        nb = read(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(copy.deepcopy(nb))  # a copy: validate() quietly repairs missing or repeated ids
    except Exception as error:  # nbformat raises several types for unreadable or invalid files
        return [f"{notebook}: not a valid notebook ({str(error).splitlines()[0][:200]}) -> re-save it from Jupyter"]
    problems = []
    if (nb.nbformat, nb.nbformat_minor) < (4, 5):
        problems.append(f"nbformat {nb.nbformat}.{nb.nbformat_minor}, not 4.5+ (cell ids) -> re-save it from Jupyter")
    ids = [cell.get("id") for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]]  # as stored, unrepaired
    if None in ids or len(set(ids)) < len(ids):
        problems.append(f"cell ids missing or repeated -> {CLEAN} (it gives each such cell a new id)")
    if stripped(nb) != nb:
        problems.append(f"outputs, execution counts or run metadata -> {CLEAN}")
    first_code = next((cell for cell in nb.cells if cell.cell_type == "code"), None)
    if len(tagged(nb, "setup")) != 1 or tagged(nb, "setup")[0] is not first_code:
        problems.append("needs exactly one cell tagged `setup`, the first code cell -> tag it, then run sync")
    parameters = tagged(nb, "parameters")
    if len(parameters) != 1 or parameters[0].cell_type != "code":
        problems.append(f"{len(parameters)} cells tagged `parameters`, papermill needs one code cell -> tag one")
    title = nb.cells[0].source if nb.cells and nb.cells[0].cell_type == "markdown" else ""
    if not title.startswith("# ") or title.count(BADGE_IMAGE) != 1 or not BADGE.search(title):
        problems.append("cell 0 needs a `# Title` line and exactly one Open-in-Colab badge -> add it, then run sync")
    if synced(nb, notebook, *slug(root)) != nb:
        problems.append(f"setup cell or badge differs from pyproject.toml -> {SYNC}")
    meta = nb.metadata
    if meta.get("accelerator") != "GPU" or meta.get("colab", {}).get("gpuType") != "T4":
        problems.append('Colab does not open it on a GPU -> set metadata accelerator "GPU", colab.gpuType "T4"')
    if meta.get("kernelspec", {}).get("name") != "python3":
        problems.append('kernelspec is not python3 -> set metadata kernelspec.name "python3"')
    return [f"{notebook}: {problem}" for problem in problems]


def check_readme(root: Path = ROOT) -> list[str]:
    """README.md: one badge per notebook, every Colab link and install line on the configured slug."""
    text = (root / "README.md").read_text(encoding="utf-8")
    problems = [f"README.md: no single Colab badge for {name} -> add {badge(*slug(root), name)}"
                for name in (path.relative_to(root).as_posix() for path in notebooks(root))
                if [m[1] for m in BADGE.finditer(text)].count(name) != 1]
    problems += [f"README.md: Colab link to {name}, which does not exist -> fix or remove it"
                 for name in {m[1] for m in re.finditer(LINK, text)} if not (root / name).is_file()]
    if text != synced_readme(text, *slug(root)):
        problems.append(f"README.md: a Colab link or install line differs from pyproject.toml -> {SYNC}")
    return problems


def check(root: Path = ROOT) -> list[str]:
    paths = notebooks(root)
    problems = [] if paths else ["notebooks/: no notebooks"]
    return problems + [p for path in paths for p in check_notebook(path, root)] + check_readme(root)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/notebooks.py", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["sync", "clean", "check"])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (default: %(default)s)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.command == "sync":
        print("\n".join(f"synced {name}" for name in sync(root)) or "sync: nothing to change")
    elif args.command == "clean":
        print("\n".join(f"cleaned {name}" for name in clean(root)) or "clean: nothing to change")
    else:
        problems = check(root)
        print("\n".join(problems) or f"OK: {len(notebooks(root))} notebooks and README.md")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
