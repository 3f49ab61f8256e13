"""``ecgwm figure``: regenerate a book figure by name."""
from __future__ import annotations

import argparse
import sys


def _figure(args: argparse.Namespace) -> int:
    from ..figures import FIGURES

    if args.name == "list":
        for name, build in FIGURES.items():
            print(f"{name:22s} {build.__doc__.splitlines()[0]}")
        return 0
    if args.name not in FIGURES:
        print(f"ecgwm figure: unknown figure {args.name!r}; known: {', '.join(FIGURES)}", file=sys.stderr)
        return 2
    if not args.out:
        print("ecgwm figure: --out FILE is required", file=sys.stderr)
        return 2
    FIGURES[args.name]().savefig(args.out, dpi=args.dpi)
    print(f"wrote {args.out}")
    return 0


def add_figure_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ecgwm figure NAME --out FILE``."""
    figure = sub.add_parser("figure", help="regenerate a book figure: ecgwm figure NAME --out FILE.png")
    figure.add_argument("name", help="figure name, or 'list' to list them")
    figure.add_argument("--out", help="output image (.png, .pdf, .svg)")
    figure.add_argument("--dpi", type=int, default=150, help="resolution for raster output (default 150)")
    figure.set_defaults(run=_figure)
