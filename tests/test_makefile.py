"""Every Makefile target a reader is told about runs: help, test-unit, chapter, book-full and clean.

Each runs in a temporary clone of the committed tree (``git clone``), never in the
working tree: ``clean`` deletes folders, and the test targets would otherwise run
the whole suite. The clone borrows this ``.venv`` through a symlink, with its
``requirements.txt`` and ``pyproject.toml`` dated in the past so that the install
stamp counts as fresh and nothing is installed. ``test-unit``, ``chapter`` and
``book-full`` run on a stand-in test file and a stand-in one-cell chapter, so that
the test checks the targets' plumbing (the right tool, the right options, outputs
where the docs say), not the whole book again.
"""
import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None or shutil.which("git") is None,
                                reason="needs make and git")


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A clone of the committed tree with this .venv, a stand-in unit test and a stand-in chapter."""
    target = tmp_path_factory.mktemp("make") / "ecgwm"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(target)], check=True)
    (target / ".venv").symlink_to(ROOT / ".venv")
    for name in ("requirements.txt", "pyproject.toml"):
        os.utime(target / name, (0, 0))  # older than .venv/.installed: no reinstall
    shutil.rmtree(target / "tests")
    (target / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "nbval_sanitize.cfg", target / "tests")
    (target / "tests" / "test_stand_in.py").write_text(
        "import pytest\n\ndef test_runs():\n    assert 1 + 1 == 2\n\n"
        "@pytest.mark.book\ndef test_book_is_deselected():\n    raise AssertionError('book tests must not run')\n")
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                 "display_name": "Python 3"}})
    notebook.cells = [nbformat.v4.new_code_cell("QUICK = True", metadata={"tags": ["parameters"]}),
                      nbformat.v4.new_code_cell("print('quick' if QUICK else 'paper scale')",
                                                metadata={"tags": ["nbval-check-output"]},
                                                outputs=[nbformat.v4.new_output("stream", text="quick\n")],
                                                execution_count=2)]
    notebook.cells[0].execution_count = 1
    nbformat.write(notebook, target / "book" / "stand_in.ipynb")
    return target


def make(clone: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "MAKE"))}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=clone, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_help_lists_every_target(clone):
    result = make(clone, "help")
    assert result.returncode == 0, result.stderr
    listed = {line.split("\t")[0] for line in result.stdout.splitlines()}
    assert {"help", "venv", "book", "book-full", "test", "test-unit", "chapter", "clean", "mutation"} <= listed
    declared = {line.split(":")[0] for line in (clone / "Makefile").read_text().splitlines()
                if line[:1].isalpha() and ":" in line and "=" not in line.split(":")[0]}
    assert listed <= declared


def test_test_unit_runs_the_unit_tests_without_book_tests(clone):
    result = make(clone, "test-unit")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "1 passed, 1 deselected" in result.stdout


def test_chapter_checks_one_notebook_against_its_saved_outputs(clone):
    result = make(clone, "chapter", "NB=book/stand_in.ipynb")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "2 passed" in result.stdout
    # a saved output that the chapter no longer produces must fail the target
    path = clone / "book" / "stand_in.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[1].outputs[0]["text"] = "something else\n"
    nbformat.write(notebook, clone / "book" / "stale.ipynb")
    assert make(clone, "chapter", "NB=book/stale.ipynb").returncode != 0


def test_book_full_runs_one_chapter_at_paper_scale(clone):
    result = make(clone, "book-full", "NB=book/stand_in.ipynb")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    out = nbformat.read(clone / "_build" / "full" / "stand_in.ipynb", as_version=4)
    printed = [o.get("text", "") for c in out.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert "paper scale\n" in printed  # papermill set QUICK = False
    assert nbformat.read(clone / "book" / "stand_in.ipynb", as_version=4).cells[1].outputs[0]["text"] == "quick\n"


def test_clean_removes_build_outputs_only(clone):
    for folder in ("_build/html", ".cache/npm", "_static/mathjax"):
        (clone / folder).mkdir(parents=True, exist_ok=True)
        (clone / folder / "x").write_text("built")
    keep = [clone / "book" / "stand_in.ipynb", clone / "notes_of_someone_else.txt", clone / "_static" / "own.css"]
    keep[1].write_text("uncommitted work")
    keep[2].write_text("/* tracked-looking asset */")
    tracked = [name for name in subprocess.run(["git", "ls-files"], cwd=clone, capture_output=True,
                                               text=True).stdout.split() if (clone / name).exists()]
    result = make(clone, "clean")
    assert result.returncode == 0, result.stderr
    assert not (clone / "_build").exists() and not (clone / ".cache" / "npm").exists()
    assert not (clone / "_static" / "mathjax").exists()
    assert all(path.exists() for path in keep)
    assert all((clone / name).exists() for name in tracked)
    assert (clone / ".venv").is_symlink() and (ROOT / ".venv" / "bin" / "python").exists()
