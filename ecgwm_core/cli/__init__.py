"""The ``ecgwm`` command line: ``ecgwm --help`` lists the subcommands.

:func:`main` is the one error boundary of every subcommand. A subcommand
raises; it does not print its own errors:

- an *expected* failure, i.e. bad input (``ValueError`` and the project's
  errors derived from it, ``OSError`` such as a missing file, ``MemoryError``),
  prints one line ``ecgwm <command>: error: <what is wrong and how to fix it>``
  and exits with status 2 (as argparse does for usage errors);
- anything else is a bug: one line naming the exception and
  ``run with --debug for the traceback``, exit status 1;
- ``--debug`` (anywhere on the command line) lets the traceback through;
- Ctrl-C exits with 130 and a closed output pipe (``| head``) with 141, quietly;
- warnings print as ``ecgwm <command>: warning: <text>``.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence

from .. import __version__

EXPECTED_ERRORS = (ValueError, OSError, MemoryError)
"""Exceptions that mean bad input or environment rather than a bug in ecgwm."""
EXIT_BAD_INPUT = 2
EXIT_BUG = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``ecgwm`` (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="ecgwm",
        description="ECG-WM companion: real ECG data, the physiological ODE prior and the book's figures.",
    )
    parser.add_argument("--version", action="version", version=f"ecgwm {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of a failure (accepted anywhere on the command line)")
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


def command_name(args: argparse.Namespace) -> str:
    """``"ecgwm data validate"`` for a parsed command line (the subcommand and its action, if any)."""
    actions = [v for k, v in vars(args).items() if k.endswith("_command") and isinstance(v, str)]
    return " ".join(["ecgwm", args.command, *actions])


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _warning_printer(name: str) -> Callable[..., None]:
    def show(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"{name}: warning: {_one_line(str(message))}", file=sys.stderr)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ecgwm`` console script; returns the exit status (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    args = build_parser().parse_args([a for a in argv if a != "--debug"])
    name = command_name(args)
    with warnings.catch_warnings():
        warnings.showwarning = _warning_printer(name)
        try:
            return args.run(args)
        except BrokenPipeError:  # the reader left (e.g. `| head`): stop quietly, as other tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_BROKEN_PIPE
        except KeyboardInterrupt:
            print(f"{name}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except EXPECTED_ERRORS as err:
            if debug:
                raise
            message = _one_line(str(err)) or type(err).__name__
            if isinstance(err, MemoryError):
                message = f"out of memory ({message}); ask for less (fewer or shorter ECGs)"
            print(f"{name}: error: {message}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except Exception as err:  # a bug: say so in one line, keep the traceback for --debug
            if debug:
                raise
            print(f"{name}: error: unexpected {type(err).__name__}: {_one_line(str(err))}; "
                  "run with --debug for the traceback and please report it", file=sys.stderr)
            return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
