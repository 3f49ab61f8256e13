"""The ``ecgwm`` command line: ``ecgwm --help`` lists the subcommands."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .. import __version__


def _data_info(args: argparse.Namespace) -> int:
    from ..data import dataset_info

    info = dataset_info()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    for entry in info:
        print(f"{entry['key']}: {entry['title']}")
        print(f"  contents : {entry['contents']}")
        print(f"  size     : {entry['size_bytes'] / 1e6:.2f} MB in {entry['path']}")
        print(f"  licence  : {entry['licence']}")
        print(f"  citation : {entry['citation']}")
        print(f"  source   : {entry['url']}")
    return 0


def _data_validate(args: argparse.Namespace) -> int:
    from ..data import MalformedTableError, load_clinical_table

    try:
        table = load_clinical_table(args.file)
    except (MalformedTableError, FileNotFoundError) as err:
        print(f"ecgwm data validate: {err}", file=sys.stderr)
        return 2
    print(json.dumps(table.summary(), indent=2))
    return 0


def _data_twins(args: argparse.Namespace) -> int:
    from ..data import load_clinical_table
    from ..synthetic.twins import write_twins

    table = load_clinical_table(args.table)
    folder = write_twins(table.kept, folder=args.out, progress=not args.quiet)
    print(f"{len(table.kept)} semi-synthetic twins in {folder} (ECGRDVQ layout; set ECGWM_DATA={folder} to load them)")
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``ecgwm`` (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="ecgwm",
        description="ECG-WM companion: real ECG data, the physiological ODE prior and the book's figures.",
    )
    parser.add_argument("--version", action="version", version=f"ecgwm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = sub.add_parser("data", help="bundled real data sets").add_subparsers(
        dest="data_command", required=True, metavar="ACTION"
    )
    info = data.add_parser("info", help="list the bundled data sets: size, rows/records, licence, citation")
    info.add_argument("--json", action="store_true", help="print JSON instead of text")
    info.set_defaults(run=_data_info)
    validate = data.add_parser("validate", help="check an SCR-002 clinical table; print a JSON summary")
    validate.add_argument("file", help="CSV file in the ECGRDVQ SCR-002 format")
    validate.set_defaults(run=_data_validate)
    twins = data.add_parser("twins", help="render the semi-synthetic ECGRDVQ digital twins as WFDB records (cached)")
    twins.add_argument("--table", help="SCR-002 CSV (default: the bundled table or $ECGWM_DATA)")
    twins.add_argument("--out", help="output folder (default: a cache folder under $ECGWM_CACHE or ~/.cache/ecgwm)")
    twins.add_argument("--quiet", action="store_true", help="no progress bars")
    twins.set_defaults(run=_data_twins)

    figure = sub.add_parser("figure", help="regenerate a book figure: ecgwm figure NAME --out FILE.png")
    figure.add_argument("name", help="figure name, or 'list' to list them")
    figure.add_argument("--out", help="output image (.png, .pdf, .svg)")
    figure.add_argument("--dpi", type=int, default=150, help="resolution for raster output (default 150)")
    figure.set_defaults(run=_figure)

    from .assess import add_assess_parser
    from .pkpd import add_pkpd_parser
    from .predict import add_predict_parser
    from .simulate import add_simulate_parser

    add_simulate_parser(sub)
    add_pkpd_parser(sub)
    add_predict_parser(sub)
    add_assess_parser(sub)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ecgwm`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
