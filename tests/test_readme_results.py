"""The README's result tables are exactly what benchmarks/report.py writes from benchmarks/results/*.json."""

import importlib.util

from conftest import REPO


def load_report():
    spec = importlib.util.spec_from_file_location("report", REPO / "benchmarks" / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_tables_match_the_benchmark_results():
    report = load_report()
    readme = (REPO / "README.md").read_text()
    assert report.render(readme) == readme, "README tables are stale: run python benchmarks/report.py --write"


def test_every_table_has_its_block_and_the_check_notices_an_edit():
    report = load_report()
    readme = (REPO / "README.md").read_text()
    for name in report.TABLES:
        assert f"<!-- results:{name} -->" in readme and f"<!-- /results:{name} -->" in readme
    tampered = readme.replace("| the post's loop |", "| the post's loop (edited) |", 1)
    assert tampered != readme and report.render(tampered) == readme
