"""Notebook hygiene for the series: keep badges, install lines, cell ids and metadata consistent.

The GitHub repository and branch that every Open-in-Colab badge and every setup-cell install line
point at live in one place, ``[tool.mnist-series]`` in pyproject.toml. This tool keeps the notebooks
and README.md in step with it and keeps committed notebooks free of outputs.

    python tools/notebooks.py check           # list every problem, exit 1 if there is any
    python tools/notebooks.py sync            # rewrite badges and install lines from pyproject.toml
    python tools/notebooks.py clean [FILE...] # strip outputs, execution counts and transient metadata

``--root DIR`` points any command at another checkout (default: the parent of tools/). Standard
library and nbformat only, so it runs anywhere the notebooks can be opened.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
import tomllib

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = "notebooks"
NOTEBOOK_GLOB = "*.ipynb"
README = "README.md"
PACKAGE = "mnist-series"  # the distribution name in pyproject.toml's [project]

SETUP_TAG = "setup"
PARAMETERS_TAG = "parameters"

COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
COLAB_GITHUB = "https://colab.research.google.com/github/"
COLAB_GUARD = 'if "google.colab" in sys.modules:'

# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](<url>)
BADGE_RE = re.compile(r"\[!\[[^\]]*\]\(" + re.escape(COLAB_BADGE_IMAGE) + r"\)\]\((?P<url>[^)\s]*)\)")
# Any Colab link to a file on GitHub, badge or not.
COLAB_URL_RE = re.compile(re.escape(COLAB_GITHUB) + r"[^\s)\"'<>\]]+")
# The requirement in an install line: mnist-series @ git+https://github.com/<owner>/<repo>@<ref>
INSTALL_URL_RE = re.compile(
    re.escape(PACKAGE) + r"\s*@\s*git\+https://github\.com/(?P<slug>[^@\s\"']+?)(?:\.git)?@(?P<ref>[^\s\"']+)"
)
PIP_LINE_RE = re.compile(r"^\s*[%!]\s*pip3?\s+install\b")

# Written by Jupyter, papermill, Colab or ipywidgets when a notebook runs; never worth committing.
TRANSIENT_NOTEBOOK_METADATA = ("papermill", "widgets")
TRANSIENT_CELL_METADATA = ("execution", "ExecuteTime", "papermill", "outputId")
INJECTED_TAG = "injected-parameters"  # the cell papermill adds below `parameters` when it runs a notebook

CELL_ID_RE = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")


# --------------------------------------------------------------------------------------------------
# Configuration and the canonical strings derived from it


@dataclass(frozen=True)
class Config:
    repository: str  # GitHub <owner>/<repo>
    branch: str


def load_config(root: Path | str = REPO_ROOT) -> Config:
    """Read ``[tool.mnist-series]`` (repository, branch) from ``root/pyproject.toml``."""
    path = Path(root) / "pyproject.toml"
    with path.open("rb") as stream:
        data = tomllib.load(stream)
    try:
        section = data["tool"]["mnist-series"]
        repository, branch = section["repository"], section["branch"]
    except KeyError as missing:
        raise SystemExit(f"{path}: [tool.mnist-series] needs `repository` and `branch` (missing {missing})") from None
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository):
        raise SystemExit(f"{path}: [tool.mnist-series] repository must be <owner>/<repo>, got {repository!r}")
    if not branch or any(c.isspace() for c in branch) or "@" in branch:
        raise SystemExit(f"{path}: [tool.mnist-series] branch {branch!r} is not a usable git ref")
    return Config(repository=repository, branch=branch)


def colab_url(config: Config, notebook: str) -> str:
    """Colab URL that opens ``notebook`` (a path relative to the repo root, e.g. notebooks/01_x.ipynb)."""
    return f"{COLAB_GITHUB}{config.repository}/blob/{config.branch}/{notebook}"


def badge_markdown(config: Config, notebook: str) -> str:
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({colab_url(config, notebook)})"


def install_requirement(config: Config) -> str:
    return f"{PACKAGE} @ git+https://github.com/{config.repository}@{config.branch}"


def install_line(config: Config) -> str:
    """The setup cell's install line, without its indentation."""
    return f'%pip install --quiet --no-deps "{install_requirement(config)}"'


def setup_cell_source(config: Config) -> str:
    """The documented setup cell, the first code cell of every notebook (tagged ``setup``)."""
    return (
        "# Setup: in Colab, install this series' small `helpers` package from GitHub; Colab's own torch,\n"
        "# torchvision, numpy and matplotlib are left exactly as they are (--no-deps). Locally, use the checkout.\n"
        "import sys\n"
        "from pathlib import Path\n"
        "\n"
        f"{COLAB_GUARD}\n"
        f"    {install_line(config)}\n"
        "else:  # a local checkout: import `helpers` from it (a pip-installed copy works as well)\n"
        '    checkout = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "helpers").is_dir()), None)\n'
        "    if checkout:\n"
        "        sys.path.insert(0, str(checkout))"
    )


def parse_colab_url(url: str) -> tuple[str, str, str] | None:
    """Split a Colab GitHub URL into (repository, branch, path); None when it is not one."""
    if not url.startswith(COLAB_GITHUB):
        return None
    parts = url[len(COLAB_GITHUB) :].split("/")
    if len(parts) < 5 or parts[2] != "blob":
        return None
    repository, rest = "/".join(parts[:2]), "/".join(parts[3:])
    marker = f"/{NOTEBOOK_DIR}/"
    if marker in f"/{rest}":  # a branch may contain slashes: split at the notebooks folder
        branch, _, path = f"/{rest}".partition(marker)
        return repository, branch.lstrip("/"), NOTEBOOK_DIR + "/" + path
    branch, _, path = rest.partition("/")
    return repository, branch, path


# --------------------------------------------------------------------------------------------------
# Reading and writing notebooks without letting nbformat change them behind our back


def notebook_paths(root: Path | str = REPO_ROOT) -> list[Path]:
    return sorted((Path(root) / NOTEBOOK_DIR).glob(NOTEBOOK_GLOB))


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(path)


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Load a notebook as stored: no upgrade, no ids invented, no validation side effects."""
    return nbformat.from_dict(json.loads(path.read_text(encoding="utf-8")))


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """The file content nbformat itself writes (sorted keys, indent 1, trailing newline)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # validation warnings are check's job, not the writer's
        text = nbformat.writes(nb, version=nbformat.NO_CONVERT)
    return text if text.endswith("\n") else text + "\n"


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    path.write_text(notebook_text(nb), encoding="utf-8", newline="\n")


def _tags(cell) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return list(tags) if isinstance(tags, list) else []


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _new_cell_id(taken: set[str]) -> str:
    while True:
        candidate = uuid.uuid4().hex[:8]
        if candidate not in taken:
            return candidate


# --------------------------------------------------------------------------------------------------
# check


@dataclass(frozen=True)
class Problem:
    file: str  # relative to the repo root
    where: str  # "cell 3 (id 'abc')", "metadata", "line 7", ...
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.what} -> fix: {self.fix}"


CLEAN = "run `python tools/notebooks.py clean`"
SYNC = "run `python tools/notebooks.py sync`"


def _where(index: int, cell) -> str:
    cell_id = cell.get("id") if isinstance(cell, dict) else None
    return f"cell {index} (id {cell_id!r})" if cell_id else f"cell {index}"


def check_notebook(path: Path, config: Config, root: Path | str = REPO_ROOT) -> list[Problem]:
    """Every problem with one notebook, in cell order."""
    root = Path(root)
    rel = _rel(path, root)
    problems: list[Problem] = []

    def add(where: str, what: str, fix: str) -> None:
        problems.append(Problem(rel, where, what, fix))

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        add("file", f"cannot be read as JSON ({error})", "restore it from git or re-save it from Jupyter")
        return problems
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        add("file", "is not a notebook (no list of cells)", "restore it from git or re-save it from Jupyter")
        return problems
    cells = raw["cells"]

    # nbformat's own schema (cell ids are checked below: nbformat only warns about them)
    if raw.get("nbformat") != 4 or not isinstance(raw.get("nbformat_minor"), int) or raw["nbformat_minor"] < 5:
        add(
            "file",
            f"is nbformat {raw.get('nbformat')}.{raw.get('nbformat_minor')}, the series uses 4.5+ (cell ids)",
            f"re-save it in Jupyter, then {CLEAN}",
        )
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                nbformat.validate(nbformat.from_dict(json.loads(json.dumps(raw))))
            except nbformat.ValidationError as error:
                message = " ".join(str(error.message).split())
                add(
                    "file", f"is not valid nbformat: {message[:300]}", "fix the JSON by hand or re-save it from Jupyter"
                )

    # outputs, execution counts, transient metadata, cell ids
    seen_ids: dict[str, int] = {}
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        where = _where(index, cell)
        cell_id = cell.get("id")
        if cell_id is None:
            add(f"cell {index}", "has no cell id", CLEAN)
        elif not isinstance(cell_id, str) or not CELL_ID_RE.match(cell_id):
            add(where, "has an invalid cell id", CLEAN)
        elif cell_id in seen_ids:
            add(where, f"duplicates the cell id of cell {seen_ids[cell_id]}", CLEAN)
        else:
            seen_ids[cell_id] = index
        if cell.get("cell_type") == "code":
            if cell.get("outputs"):
                add(where, f"has {len(cell['outputs'])} output(s); committed notebooks carry none", CLEAN)
            if cell.get("execution_count") is not None:
                add(where, f"has execution count {cell['execution_count']}", CLEAN)
        if INJECTED_TAG in _tags(cell):
            add(where, f"is papermill's `{INJECTED_TAG}` cell", CLEAN)
        transient = [key for key in TRANSIENT_CELL_METADATA if key in cell.get("metadata", {})]
        if transient:
            add(where, f"has transient metadata {', '.join(transient)}", CLEAN)
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    transient = [key for key in TRANSIENT_NOTEBOOK_METADATA if key in metadata]
    if transient:
        add("metadata", f"has transient notebook metadata {', '.join(transient)}", CLEAN)

    # cell 0: title and exactly one badge, pointing at this very file
    expected_badge = badge_markdown(config, rel)
    first = cells[0] if cells and isinstance(cells[0], dict) else None
    if first is None or first.get("cell_type") != "markdown":
        add(
            "cell 0",
            "is not the markdown title cell",
            f"insert a markdown cell 0 with a `# Title` line and the badge {expected_badge}",
        )
    else:
        where = _where(0, first)
        text = _source(first)
        title = text.splitlines()[0] if text.strip() else ""
        if not re.match(r"#\s+\S", title):
            add(where, "does not start with a `# Title` line", "make the first line of cell 0 `# <title>`")
        images = text.count(COLAB_BADGE_IMAGE)
        badges = list(BADGE_RE.finditer(text))
        if images == 0:
            add(where, "has no Open-in-Colab badge", f"add this line below the title: {expected_badge}")
        elif images > 1:
            add(where, f"has {images} Open-in-Colab badges, expected exactly one", "keep only this notebook's badge")
        elif not badges:
            add(where, "has a Colab badge image that is not a link", f"replace it with {expected_badge}")
        else:
            url = badges[0]["url"]
            parsed = parse_colab_url(url)
            if parsed is None:
                add(where, f"badge link {url!r} is not a Colab GitHub URL", f"replace it with {expected_badge}")
            else:
                repository, branch, target = parsed
                if (repository, branch) != (config.repository, config.branch):
                    add(
                        where,
                        f"badge points at {repository}@{branch}, not {config.repository}@{config.branch}",
                        SYNC,
                    )
                if target != rel:
                    add(where, f"badge opens {target}, not this notebook ({rel})", SYNC)

    # the setup cell: tagged, first code cell, installs exactly the helpers from the configured repo
    code = [
        (index, cell) for index, cell in enumerate(cells) if isinstance(cell, dict) and cell.get("cell_type") == "code"
    ]
    setups = [(index, cell) for index, cell in code if SETUP_TAG in _tags(cell)]
    canonical = install_line(config)
    if not setups:
        add(
            "notebook",
            f"has no code cell tagged `{SETUP_TAG}`",
            f"make the first code cell the documented setup cell (installs {install_requirement(config)!r}) "
            f"and tag it `{SETUP_TAG}`",
        )
    elif len(setups) > 1:
        add(
            ", ".join(_where(index, cell) for index, cell in setups),
            f"{len(setups)} cells are tagged `{SETUP_TAG}`, expected one",
            f"keep the `{SETUP_TAG}` tag on the first code cell only",
        )
    if setups:
        index, cell = setups[0]
        where = _where(index, cell)
        if code[0][0] != index:
            add(
                where,
                f"the setup cell is not the first code cell (cell {code[0][0]} is)",
                "move it above every code cell",
            )
        lines = _source(cell).splitlines()
        pips = [number for number, line in enumerate(lines) if PIP_LINE_RE.match(line)]
        if not pips:
            add(where, "setup cell has no `%pip install` line", f"add, under `{COLAB_GUARD}`: {canonical}")
        elif len(pips) > 1:
            add(where, f"setup cell has {len(pips)} pip install lines, expected one", f"keep only: {canonical}")
        else:
            line = lines[pips[0]].strip()
            named = INSTALL_URL_RE.search(line)
            if line != canonical:
                if named and INSTALL_URL_RE.sub(install_requirement(config), line) == canonical:
                    add(
                        where,
                        f"install line names {named['slug']}@{named['ref']}, not {config.repository}@{config.branch}",
                        SYNC,
                    )
                else:
                    add(where, f"install line is `{line}`", f"make it exactly `{canonical}`")
            above = [text.strip() for text in lines[: pips[0]] if text.strip()]
            if not above or above[-1] != COLAB_GUARD or not lines[pips[0]].startswith((" ", "\t")):
                add(where, f"install line is not guarded by `{COLAB_GUARD}`", "install only inside Colab")

    # papermill's parameters cell
    tagged = [
        (index, cell) for index, cell in enumerate(cells) if isinstance(cell, dict) and PARAMETERS_TAG in _tags(cell)
    ]
    if not tagged:
        add(
            "notebook",
            f"has no cell tagged `{PARAMETERS_TAG}` (papermill)",
            f"tag the cell of knobs `{PARAMETERS_TAG}`",
        )
    elif len(tagged) > 1:
        add(
            ", ".join(_where(index, cell) for index, cell in tagged),
            f"{len(tagged)} cells are tagged `{PARAMETERS_TAG}`, papermill needs exactly one",
            f"keep the `{PARAMETERS_TAG}` tag on one code cell",
        )
    for index, cell in tagged:
        if cell.get("cell_type") != "code":
            add(_where(index, cell), f"a {cell.get('cell_type')} cell is tagged `{PARAMETERS_TAG}`", "tag a code cell")

    # notebook metadata that makes Colab open it on a GPU with the right kernel
    if metadata.get("accelerator") != "GPU":
        add(
            "metadata",
            f"accelerator is {metadata.get('accelerator')!r}, not 'GPU'",
            'set metadata "accelerator": "GPU"',
        )
    colab = metadata.get("colab")
    if not isinstance(colab, dict):
        add("metadata", "has no `colab` dict", 'set metadata "colab": {"provenance": [], "gpuType": "T4"}')
    else:
        if colab.get("provenance") != []:
            add("metadata", "colab.provenance is not []", 'set metadata "colab"."provenance": []')
        if colab.get("gpuType") != "T4":
            add(
                "metadata",
                f"colab.gpuType is {colab.get('gpuType')!r}, not 'T4'",
                'set metadata "colab"."gpuType": "T4"',
            )
    kernelspec = metadata.get("kernelspec")
    if not isinstance(kernelspec, dict) or kernelspec.get("name") != "python3":
        add(
            "metadata",
            "kernelspec is not python3",
            'set metadata "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}',
        )
    elif kernelspec.get("language", "python") != "python":
        add(
            "metadata",
            f"kernelspec language is {kernelspec.get('language')!r}",
            'set "kernelspec"."language": "python"',
        )
    return problems


def check_readme(root: Path | str, config: Config, notebooks: list[str]) -> list[Problem]:
    """README.md: one badge per notebook, each with the configured repository and branch."""
    root = Path(root)
    path = root / README
    if not path.is_file():
        return [Problem(README, "file", "is missing", "add README.md with one Colab badge per notebook")]
    problems: list[Problem] = []
    badged: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"line {number}"
        for match in COLAB_URL_RE.finditer(line):
            url = match.group(0)
            parsed = parse_colab_url(url)
            if parsed is None:
                problems.append(Problem(README, where, f"{url!r} is not a Colab GitHub URL", "point it at a notebook"))
                continue
            repository, branch, target = parsed
            if (repository, branch) != (config.repository, config.branch):
                problems.append(
                    Problem(
                        README,
                        where,
                        f"Colab link to {target} uses {repository}@{branch}, not {config.repository}@{config.branch}",
                        SYNC,
                    )
                )
            if target not in notebooks:
                problems.append(
                    Problem(README, where, f"Colab link opens {target}, which does not exist", "fix or remove it")
                )
        for match in BADGE_RE.finditer(line):
            parsed = parse_colab_url(match["url"])
            if parsed and parsed[2] in notebooks:
                if parsed[2] in badged:
                    problems.append(
                        Problem(
                            README,
                            where,
                            f"second badge for {parsed[2]} (first on line {badged[parsed[2]]})",
                            "keep one badge per notebook",
                        )
                    )
                badged.setdefault(parsed[2], number)
        for match in INSTALL_URL_RE.finditer(line):
            if (match["slug"], match["ref"]) != (config.repository, config.branch):
                problems.append(
                    Problem(
                        README,
                        where,
                        f"install instruction names {match['slug']}@{match['ref']}, "
                        f"not {config.repository}@{config.branch}",
                        SYNC,
                    )
                )
    for notebook in notebooks:
        if notebook not in badged:
            problems.append(
                Problem(README, "badges", f"no Colab badge for {notebook}", f"add {badge_markdown(config, notebook)}")
            )
    return problems


def check(root: Path | str = REPO_ROOT) -> list[Problem]:
    """Every hygiene problem in the repository at ``root``; empty when all is well."""
    root = Path(root)
    config = load_config(root)
    paths = notebook_paths(root)
    problems: list[Problem] = []
    if not paths:
        problems.append(Problem(f"{NOTEBOOK_DIR}/", "folder", "has no notebooks", f"add {NOTEBOOK_DIR}/NN_name.ipynb"))
    for path in paths:
        problems.extend(check_notebook(path, config, root))
    problems.extend(check_readme(root, config, [_rel(path, root) for path in paths]))
    return problems


# --------------------------------------------------------------------------------------------------
# sync


def _sync_text(text: str, config: Config, own: str | None = None) -> str:
    """Point Colab links and install requirements in ``text`` at the configured repository and branch.

    With ``own`` (a notebook path), badges are pointed at that notebook; other Colab links keep their
    target and only change repository and branch.
    """
    if own is not None:
        url = colab_url(config, own)
        text = BADGE_RE.sub(
            lambda m: m.string[m.start() : m.start("url")] + url + m.string[m.end("url") : m.end()], text
        )

    def relink(match: re.Match) -> str:
        parsed = parse_colab_url(match.group(0))
        return match.group(0) if parsed is None else colab_url(config, parsed[2])

    text = COLAB_URL_RE.sub(relink, text)
    return INSTALL_URL_RE.sub(install_requirement(config), text)


def _set_source(cell, text: str) -> None:
    # keep the stored shape (string or list of lines) so the file diff stays minimal
    cell["source"] = text.splitlines(keepends=True) if isinstance(cell.get("source"), list) else text


def sync(root: Path | str = REPO_ROOT) -> list[str]:
    """Rewrite badges and install lines from pyproject.toml; returns one line per change made."""
    root = Path(root)
    config = load_config(root)
    changes: list[str] = []
    for path in notebook_paths(root):
        rel = _rel(path, root)
        nb = read_notebook(path)
        changed: list[str] = []
        for index, cell in enumerate(nb.cells):
            before = _source(cell)
            if cell.get("cell_type") == "markdown":
                after = _sync_text(before, config, own=rel if index == 0 else None)
            elif cell.get("cell_type") == "code":
                after = INSTALL_URL_RE.sub(install_requirement(config), before)
            else:
                continue
            if after != before:
                _set_source(cell, after)
                changed.append(f"cell {index} ({'badge' if cell.cell_type == 'markdown' else 'install line'})")
        if changed:
            write_notebook(nb, path)
            changes.append(f"{rel}: {', '.join(changed)} -> {config.repository}@{config.branch}")
    readme = root / README
    if readme.is_file():
        before = readme.read_text(encoding="utf-8")
        after = _sync_text(before, config)
        if after != before:
            readme.write_text(after, encoding="utf-8", newline="\n")
            count = sum(a != b for a, b in zip(before.splitlines(), after.splitlines(), strict=False))
            changes.append(f"{README}: {count} line(s) -> {config.repository}@{config.branch}")
    return changes


# --------------------------------------------------------------------------------------------------
# clean


def clean_notebook(nb: nbformat.NotebookNode) -> list[str]:
    """Strip outputs, execution counts and transient metadata; add missing ids. Returns what changed."""
    changed: list[str] = []
    if nb.get("nbformat") == 4 and nb.get("nbformat_minor", 0) < 5:
        nb["nbformat_minor"] = 5
        changed.append("nbformat 4.5")
    for key in TRANSIENT_NOTEBOOK_METADATA:
        if key in nb.get("metadata", {}):
            del nb["metadata"][key]
            changed.append(f"metadata.{key}")
    injected = [index for index, cell in enumerate(nb.cells) if INJECTED_TAG in _tags(cell)]
    if injected:
        nb.cells = [cell for cell in nb.cells if INJECTED_TAG not in _tags(cell)]
        changed.append(f"papermill's {INJECTED_TAG} cell(s) {', '.join(map(str, injected))}")
    taken = {cell.get("id") for cell in nb.cells if isinstance(cell.get("id"), str)}
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not CELL_ID_RE.match(cell_id) or cell_id in seen:
            cell["id"] = _new_cell_id(taken | seen)
            changed.append(f"cell {index} id")
        seen.add(cell["id"])
        if cell.get("cell_type") == "code":
            if cell.get("outputs") != []:
                changed.append(f"cell {index} outputs")
            if cell.get("execution_count", 0) is not None:
                changed.append(f"cell {index} execution count")
            cell["outputs"] = []
            cell["execution_count"] = None
        for key in TRANSIENT_CELL_METADATA:
            if key in cell.get("metadata", {}):
                del cell["metadata"][key]
                changed.append(f"cell {index} metadata.{key}")
    return changed


def clean(root: Path | str = REPO_ROOT, paths: list[Path | str] | None = None) -> list[str]:
    """Clean ``paths`` (default: every notebook) in place; returns one line per file changed."""
    root = Path(root)
    changes: list[str] = []
    for path in [Path(p) for p in paths] if paths else notebook_paths(root):
        nb = read_notebook(path)
        changed = clean_notebook(nb)
        if changed:
            write_notebook(nb, path)
            shown = ", ".join(changed[:8]) + (f", ... ({len(changed)} in all)" if len(changed) > 8 else "")
            changes.append(f"{_rel(path, root)}: removed/fixed {shown}")
    return changes


# --------------------------------------------------------------------------------------------------
# command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/notebooks.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="report every hygiene problem; exit 1 if there is any")
    commands.add_parser("sync", help="rewrite badges and install lines from [tool.mnist-series] in pyproject.toml")
    clean_parser = commands.add_parser("clean", help="strip outputs, execution counts and transient metadata")
    clean_parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to clean (default: all)")
    args = parser.parse_args(argv)
    root = args.root.resolve()

    if args.command == "check":
        problems = check(root)
        for problem in problems:
            print(problem)
        if problems:
            print(f"{len(problems)} problem(s) found", file=sys.stderr)
            return 1
        config = load_config(root)
        print(
            f"OK: {len(notebook_paths(root))} notebooks and {README} are clean and point at "
            f"{config.repository}@{config.branch}"
        )
        return 0
    if args.command == "sync":
        changes = sync(root)
    else:
        changes = clean(root, args.notebooks or None)
    for change in changes:
        print(change)
    if not changes:
        print(f"{args.command}: nothing to change")
    return 0


if __name__ == "__main__":
    sys.exit(main())
