"""The ``ecgwm`` command line: ``ecgwm --help`` lists the subcommands."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``ecgwm`` (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="ecgwm",
        description="ECG-WM companion: real ECG data, the physiological ODE prior and the book's figures.",
    )
    parser.add_argument("--version", action="version", version=f"ecgwm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from .assess import add_assess_parser
    from .data import add_data_parser
    from .figure import add_figure_parser
    from .pkpd import add_pkpd_parser
    from .predict import add_predict_parser
    from .rollout import add_rollout_parser
    from .simulate import add_simulate_parser
    from .train import add_train_parser

    add_data_parser(sub)
    add_figure_parser(sub)
    add_simulate_parser(sub)
    add_pkpd_parser(sub)
    add_predict_parser(sub)
    add_assess_parser(sub)
    add_train_parser(sub)
    add_rollout_parser(sub)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ecgwm`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
