"""The figure registry: every figure has a chapter and an honest caption; ``figure all`` writes files and a manifest."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from ecgwm_core import figures
from ecgwm_core.cli import main
from ecgwm_core.figures import FIGURES, FigureEntry, export_figures
from ecgwm_core.plotting.overview import BOXES, FONT_PT, plot_method_overview

ROOT = Path(__file__).resolve().parent.parent
PROVENANCE = re.compile(r"\b(real|model|semi-synthetic|schematic|synthetic)\b", re.IGNORECASE)
PNG_MAGIC, PDF_MAGIC = b"\x89PNG\r\n\x1a\n", b"%PDF-"


def _tiny() -> plt.Figure:
    """A one-line test figure (synthetic)."""
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    return fig


def _broken() -> plt.Figure:
    """Always fails (synthetic test entry)."""
    raise RuntimeError("no data here")


@pytest.mark.parametrize("name", list(FIGURES))
def test_every_figure_names_an_existing_chapter_and_its_provenance(name):
    entry = FIGURES[name]
    assert any((ROOT / entry.chapter).with_suffix(s).is_file() for s in (".ipynb", ".md")), entry.chapter
    assert PROVENANCE.search(entry.caption), f"{name}: caption must say real / model / semi-synthetic: {entry.caption}"
    assert callable(entry.build) and entry.source.startswith("ecgwm_core.")


def test_caption_defaults_to_the_docstring_and_is_required():
    assert FigureEntry(_tiny, "book/x").caption == "A one-line test figure (synthetic)."
    assert FigureEntry(_tiny, "book/x", "Given caption (model).").caption == "Given caption (model)."
    with pytest.raises(ValueError, match="give a caption or a docstring"):
        FigureEntry(lambda: None, "book/x")


def test_paper_flag_reaches_figures_that_scale():
    seen = []

    def scalable(quick: bool = True) -> plt.Figure:
        """Scales (synthetic)."""
        seen.append(quick)
        return _tiny()

    entry = FigureEntry(scalable, "book/x")
    assert entry.scales and not FigureEntry(_tiny, "book/x").scales
    plt.close(entry())
    plt.close(entry(paper=True))
    assert seen == [True, False]


def test_export_writes_png_pdf_and_a_manifest_and_reports_failures(tmp_path, monkeypatch):
    monkeypatch.setitem(FIGURES, "tiny", FigureEntry(_tiny, "book/00_framework"))
    monkeypatch.setitem(FIGURES, "broken", FigureEntry(_broken, "book/00_framework"))
    rows, failures = export_figures(tmp_path, names=["method-overview", "broken", "tiny"])
    assert failures == {"broken": "RuntimeError: no data here"}
    assert [r["id"] for r in rows] == ["method-overview", "tiny"]
    for row in rows:
        assert (tmp_path / row["png"]).read_bytes()[:8] == PNG_MAGIC
        assert (tmp_path / row["pdf"]).read_bytes()[:5] == PDF_MAGIC
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    with open(tmp_path / "manifest.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert manifest["figures"] == table == rows
    assert table[0]["source"] == "ecgwm_core.plotting.overview.plot_method_overview"
    assert table[0]["chapter"] == "book/00_framework" and "schematic" in table[0]["caption"]
    assert not (tmp_path / "broken.png").exists()
    with pytest.raises(KeyError, match="unknown figure"):
        export_figures(tmp_path, names=["nope"])


def test_cli_figure_all(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(figures, "FIGURES", {"tiny": FigureEntry(_tiny, "book/00_framework")})
    assert main(["figure", "all", "--out", str(tmp_path / "out"), "--paper"]) == 0
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["paper"] is True
    assert main(["figure", "all"]) == 2
    assert "--out DIR" in capsys.readouterr().err
    monkeypatch.setitem(figures.FIGURES, "broken", FigureEntry(_broken, "book/00_framework"))
    assert main(["figure", "all", "--out", str(tmp_path / "out2")]) == 1
    assert "broken failed: RuntimeError" in capsys.readouterr().err


def test_overview_is_book_sized_with_readable_text():
    fig = plot_method_overview()
    width, _ = fig.get_size_inches()
    texts = [t for ax in fig.axes for t in ax.texts] + [ax.title for ax in fig.axes]
    assert width <= 7.0
    assert min(t.get_fontsize() for t in texts) >= FONT_PT >= 9
    shown = " ".join(t.get_text() for t in texts)
    for box in BOXES:
        assert box.label.split("\n")[0] in shown
    for word in ("energy", "ODE anchor", "proposer", "ranking", "rollouts", "schematic"):
        assert word in shown
    plt.close(fig)
