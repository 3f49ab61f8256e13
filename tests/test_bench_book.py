"""The performance budget: the table says what was measured, and the runner measures real time and memory."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("bench_book", ROOT / "benchmarks" / "bench_book.py")
bench = sys.modules["bench_book"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_table_marks_each_target():
    runs = [bench.ChapterRun("book/a.ipynb", 12.04, 300.4),
            bench.ChapterRun("book/b.ipynb", 95.0, 100.0),  # too slow
            bench.ChapterRun("book/c.ipynb", 10.0, 2100.0),  # too much memory
            bench.ChapterRun("book/d.ipynb", 1.0, 90.0, "CellExecutionError: boom")]
    rows = bench.budget_table(runs).splitlines()
    assert rows[2] == "| `book/a.ipynb` | 12.0 | 300 | yes |"
    assert rows[3].endswith("| **no** |") and rows[4].endswith("| **no** |")
    assert "(error: CellExecutionError: boom)" in rows[5]
    assert rows[6] == "| **whole book** (sum of the rows; ≤ 600 s) | 118.0 | 2100 | **no** |"
    fine = bench.budget_table([bench.ChapterRun("x", 90.0, 2048.0)]).splitlines()
    assert fine[-1].endswith("| yes |") and fine[2].endswith("| yes |"), "limits are inclusive"


def test_toc_notebooks_follow_the_book_order():
    names = [p.name for p in bench.toc_notebooks()]
    assert names[0] == "00_framework.ipynb" and "01_data.ipynb" in names
    assert all(n.endswith(".ipynb") for n in names) and "theory.ipynb" not in names


def _notebook(path: Path, source: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("QUICK = True"), nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_runner_measures_the_kernel_memory_and_reports_errors(tmp_path):
    """A SYNTHETIC notebook holding a 400 MiB array must show a peak RSS above that; a failing one reports."""
    big = _notebook(tmp_path / "big.ipynb", "import numpy as np\nx = np.ones(400 * 2**20 // 8)\nx.sum()")
    run = bench.run_chapter(big, timeout_s=120)
    assert not run.error, run.error
    assert 400 < run.peak_rss_mb < 1500 and 0 < run.wall_s < 120
    bad = bench.run_chapter(_notebook(tmp_path / "bad.ipynb", "raise ValueError('boom')"), timeout_s=120)
    assert "ValueError" in bad.error and not bad.within_budget
    original = nbformat.read(big, as_version=4)
    assert all(not c.get("outputs") for c in original.cells if c.cell_type == "code"), "saved outputs untouched"
