"""``ecgwm figure``: regenerate one book figure by name, or all of them with a manifest."""
from __future__ import annotations

import argparse
import sys

from .output import atomic_output, checked_folder, checked_output, image_extensions


def _figure(args: argparse.Namespace) -> int:
    from ..figures import FIGURES, export_figures

    if args.name == "list":
        for name, entry in FIGURES.items():
            print(f"{name:22s} {entry.chapter:20s} {entry.caption}")
        return 0
    if args.name != "all" and args.name not in FIGURES:
        raise ValueError(f"unknown figure {args.name!r}; known: {', '.join(FIGURES)}")  # cli.main prints it
    if not args.out:
        what = "DIR (a folder)" if args.name == "all" else "FILE"
        raise ValueError(f"--out {what} is required")
    if args.name != "all":
        out = checked_output(args.out, image_extensions())  # before the figure is computed
        with atomic_output(out) as temporary:  # a failed save leaves no half-written image
            FIGURES[args.name](paper=args.paper).savefig(temporary, dpi=args.dpi)
        print(f"wrote {out}")
        return 0
    checked_folder(args.out)
    rows, failures = export_figures(args.out, paper=args.paper, dpi=args.dpi)
    print(f"wrote {len(rows)} figures (PNG + PDF) and manifest.json/.csv to {args.out}")
    for name, error in failures.items():
        print(f"ecgwm figure: {name} failed: {error}", file=sys.stderr)
    return 1 if failures else 0


def add_figure_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ecgwm figure NAME --out FILE`` and ``ecgwm figure all --out DIR [--paper]``."""
    figure = sub.add_parser(
        "figure", help="regenerate book figures: ecgwm figure NAME --out FILE.png | all --out DIR",
        description="Regenerate a book figure by name, or every figure ('all') as PNG and PDF with "
                    "manifest.json/.csv (id, chapter, caption, source function).",
    )
    figure.add_argument("name", help="figure name, 'list' to list them, or 'all'")
    figure.add_argument("--out", help="output image (.png, .pdf, .svg), or a folder for 'all'")
    figure.add_argument("--paper", action="store_true", help="paper-scale variants where a figure has one")
    figure.add_argument("--dpi", type=int, default=150, help="resolution for raster output (default 150)")
    figure.set_defaults(run=_figure)
