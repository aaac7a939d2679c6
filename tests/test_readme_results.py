"""The results tables (benchmarks/README.md) and the front page's headline block (README.md) are exactly what
benchmarks/report.py writes from benchmarks/results/*.json."""

import pytest

from benchmarks import report


@pytest.mark.parametrize("path", report.PAGES, ids=lambda path: path.relative_to(report.ROOT).as_posix())
def test_results_tables_match_the_benchmark_results(path):
    page = path.read_text()
    assert report.render(page, report.PAGES[path]) == page, "stale tables: run python -m benchmarks.report --write"


def test_every_table_has_its_block_and_the_check_notices_an_edit():
    for path, tables in report.PAGES.items():
        page = path.read_text()
        for name in tables:
            assert page.count(f"<!-- results:{name} -->") == 1 and page.count(f"<!-- /results:{name} -->") == 1
    page = report.TABLES_PAGE.read_text()
    tampered = page.replace("| the post's loop |", "| the post's loop (edited) |", 1)
    assert tampered != page and report.render(tampered) == page
    front = report.FRONT_PAGE.read_text()
    tampered = front.replace("<!-- results:headline -->\n", "<!-- results:headline -->\n| an edited row |\n", 1)
    assert tampered != front and report.render(tampered, report.HEADLINE) == front


def test_the_front_page_shows_only_the_headline():
    front = report.FRONT_PAGE.read_text()
    assert not any(f"<!-- results:{name} -->" in front for name in report.TABLES)
