"""The book's conventions that a machine can check without building it (book/conventions.md).

Every check runs on every page of ``_toc.yml``, including chapters added
later: code lines of at most 88 characters, citations that resolve in
``references.bib``, one hidden solution per exercise, numbered figures with
captions and real alt text, and chapters that fix their numeric environment.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import toc_files  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MAX_LINE = 88
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
BIB_KEY = re.compile(r"^@\w+\{([^,\s]+),", re.M)
DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{(exercise|solution)\}\s*(\S*)", re.M)
OPTION = re.compile(r"^:(label|class):\s*(\S+)", re.M)


def _source(entry: str) -> Path:
    for suffix in (".ipynb", ".md"):
        path = (ROOT / entry).with_suffix(suffix)
        if path.is_file():
            return path
    raise FileNotFoundError(f"{entry} in _toc.yml has no .ipynb or .md file")


def _cells(entry: str) -> list[dict]:
    """Cells of a notebook, or one markdown cell holding a .md page."""
    path = _source(entry)
    if path.suffix == ".md":
        return [{"cell_type": "markdown", "source": path.read_text(), "metadata": {}}]
    cells = json.loads(path.read_text())["cells"]
    for cell in cells:
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    return cells


def _markdown(entry: str) -> str:
    return "\n".join(c["source"] for c in _cells(entry) if c["cell_type"] == "markdown")


def _notebooks() -> list[str]:
    return [e for e in toc_files() if _source(e).suffix == ".ipynb"]


def exercises_and_solutions(text: str) -> tuple[list[str], dict[str, list[str]]]:
    """Exercise labels in order, and for each label the classes of its solutions.

    Parameters
    ----------
    text : MyST markdown holding ``{exercise}`` and ``{solution}`` directives.
    """
    labels, solutions = [], {}
    for match in DIRECTIVE.finditer(text):
        fence, kind, argument = match.groups()
        body = text[match.end() : text.find("\n" + fence, match.end())]
        options = dict(OPTION.findall(body))
        if kind == "exercise":
            labels.append(options.get("label", ""))
        else:
            solutions.setdefault(argument, []).append(options.get("class", ""))
    return labels, solutions


def test_exercise_parser_on_a_known_text():
    text = (
        "```{exercise} One\n:label: ex-a\nText\n```\n\n"
        "````{solution} ex-a\n:class: dropdown\n```python\n1\n```\n````\n\n"
        "```{exercise} Two\n:label: ex-b\nText\n```\n"
    )
    labels, solutions = exercises_and_solutions(text)
    assert labels == ["ex-a", "ex-b"]
    assert solutions == {"ex-a": ["dropdown"]}


@pytest.mark.parametrize("entry", _notebooks())
def test_code_lines_fit_the_column(entry):
    long = [
        (i, n + 1, len(line))
        for i, cell in enumerate(_cells(entry))
        if cell["cell_type"] == "code"
        for n, line in enumerate(cell["source"].splitlines())
        if len(line) > MAX_LINE
    ]
    assert not long, (
        f"{entry}: code lines longer than {MAX_LINE} characters (cell, line, length): "
        f"{long[:8]}; run `ruff format --line-length {MAX_LINE} {_source(entry)}`"
    )


def test_every_citation_resolves():
    bib = (ROOT / "references.bib").read_text()
    known = set(BIB_KEY.findall(bib))
    assert len(known) >= 10, "references.bib holds too few entries"
    missing = {}
    for entry in toc_files():
        for group in CITE.findall(_markdown(entry)):
            for key in (k.strip() for k in group.split(",")):
                if key not in known:
                    missing.setdefault(entry, []).append(key)
    assert not missing, f"{{cite}} keys not in references.bib: {missing}"


def test_every_bibliography_entry_has_a_doi_or_a_note_why_not():
    bib = (ROOT / "references.bib").read_text()
    for block in re.split(r"\n(?=@)", bib):
        if not block.startswith("@"):
            continue
        key = BIB_KEY.match(block).group(1)
        assert "doi" in block or "no DOI" in block, f"{key}: give its DOI or say 'no DOI'"


@pytest.mark.parametrize("entry", _notebooks())
def test_every_exercise_has_one_hidden_solution(entry):
    labels, solutions = exercises_and_solutions(_markdown(entry))
    assert labels, f"{entry}: no numbered exercises (use the {{exercise}} directive)"
    assert all(labels), f"{entry}: an exercise has no :label:"
    for label in labels:
        found = solutions.get(label, [])
        assert len(found) == 1, f"{entry}: exercise {label} has {len(found)} solutions"
        assert "dropdown" in found[0], f"{entry}: the solution of {label} is not hidden"
    orphans = set(solutions) - set(labels)
    assert not orphans, f"{entry}: solutions without an exercise: {orphans}"


@pytest.mark.parametrize("entry", _notebooks())
def test_figures_are_numbered_with_caption_and_alt_text(entry):
    for i, cell in enumerate(_cells(entry)):
        tags = cell.get("metadata", {}).get("tags", [])
        shows_image = any(
            "image/png" in out.get("data", {}) for out in cell.get("outputs", [])
        )
        if not shows_image or {"remove-output", "remove-cell"} & set(tags):
            continue
        meta = cell["metadata"].get("mystnb", {})
        figure, alt = meta.get("figure", {}), meta.get("image", {}).get("alt", "")
        assert figure.get("name") and figure.get("caption"), (
            f"{entry} cell {i}: a figure needs metadata mystnb.figure.name and .caption"
        )
        assert len(alt.split()) >= 6 and not re.search(r"\.(png|jpe?g|svg)\b", alt), (
            f"{entry} cell {i}: give the figure real alt text (mystnb.image.alt)"
        )


@pytest.mark.parametrize("entry", _notebooks())
def test_chapter_fixes_its_parameters_and_numeric_environment(entry):
    cells = [c for c in _cells(entry) if c["cell_type"] == "code"]
    parameters = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert parameters and "QUICK" in parameters[0]["source"], (
        f"{entry}: the first code cell must be tagged 'parameters' and set QUICK"
    )
    code = "\n".join(c["source"] for c in cells)
    if re.search(r"^\s*import torch", code, re.M):
        for call in ("torch.manual_seed", "torch.set_num_threads",
                     "torch.use_deterministic_algorithms"):
            assert call in code, f"{entry}: call {call} in the imports cell"


@pytest.mark.parametrize("entry", _notebooks())
def test_exact_cells_are_tagged_and_claims_are_asserted(entry):
    cells = _cells(entry)
    tags = [set(c.get("metadata", {}).get("tags", [])) for c in cells]
    hidden_asserts = [
        c for c, t in zip(cells, tags)
        if c["cell_type"] == "code" and "remove-cell" in t and "assert" in c["source"]
    ]
    checked = [t for t in tags if "nbval-check-output" in t]
    assert checked or hidden_asserts, (
        f"{entry}: nothing is checked; tag exact cells 'nbval-check-output' and "
        "assert fitted numbers in hidden cells (book/conventions.md)"
    )
