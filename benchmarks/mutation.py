"""Mutation testing of the core numerical modules with mutmut 3: survival rate per module.

Run by ``make mutation`` (not part of ``make test``). mutmut copies ``ecgwm_core``
into ``mutants/`` and mutates the modules listed in ``setup.cfg``; this script then
runs a seeded sample of the mutants of each module's core functions (``CORE``)
against the fast tests of ``setup.cfg`` and prints, per module, how many survived,
followed by the diff of every surviving mutant.

A full run of every mutant (about 2,000, most tests touching the integrator) takes
hours on two cores, hence the sample; ``--sample 0`` runs every mutant of ``CORE``.

Usage::

    .venv/bin/python benchmarks/mutation.py [--sample 8] [--seed 0] [--max-children 2]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

CORE = {
    "ecgwm_core.ode.mcsharry": ("wrap_angle", "phase_segments", "_cycle", "wave_profile", "solve_relaxation",
                                "integrate_exponential"),
    "ecgwm_core.ode.dipole": ("lead_matrix", "dipole", "project"),
    "ecgwm_core.signal.intervals": ("qtcf_ms", "qtcb_ms"),
    "ecgwm_core.signal.delineate": ("_tangent", "isoelectric", "delineate_beat", "Delineation.intervals"),
    "ecgwm_core.actions.pk": ("one_compartment", "_unpack", "_residuals", "fit_pk"),
    "ecgwm_core.actions.exposure_response": ("concentration_slope", "_aic", "compare_linear_emax"),
}
"""Per module, the functions whose mutants are sampled (the numerics, not printing or plumbing)."""

MUTMUT = [sys.executable, "-m", "mutmut"]
_KEY = re.compile(r"^(?P<module>.+)\.x(?:_|ǁ)(?P<function>.+?)__mutmut_\d+$")


def _function(key: str) -> tuple[str, str]:
    """(module, function) of a mutant key; methods come back as ``Class.method``."""
    match = _KEY.match(key)
    if match is None:
        raise ValueError(f"not a mutmut 3 mutant name: {key!r}")
    function = match["function"].replace("ǁ", ".")
    return match["module"], function.lstrip(".")


def _meta() -> dict[str, int | None]:
    """Every mutant key under ``mutants/`` with its exit code (None: not run yet)."""
    codes: dict[str, int | None] = {}
    for path in Path("mutants").rglob("*.py.meta"):
        codes.update(json.loads(path.read_text())["exit_code_by_key"])
    return codes


def sample(keys: list[str], size: int, seed: int) -> list[str]:
    """A seeded sample of ``size`` mutants of each module's :data:`CORE` functions (all if ``size`` is 0)."""
    by_module: dict[str, list[str]] = defaultdict(list)
    for key in sorted(keys):
        module, function = _function(key)
        if function in CORE.get(module, ()):
            by_module[module].append(key)
    chosen = []
    for module, keys in sorted(by_module.items()):
        # one generator per module: a module's sample does not change when another module's code does
        rng = random.Random(f"{seed}:{module}")
        chosen += keys if size == 0 or len(keys) <= size else sorted(rng.sample(keys, size))
    return chosen


def report(names: list[str]) -> dict[str, dict[str, int]]:
    """Per module: mutants run, killed and survived (timeouts count as killed), from ``mutants/``."""
    codes = _meta()
    table: dict[str, dict[str, int]] = defaultdict(lambda: {"run": 0, "killed": 0, "survived": 0})
    for key in names:
        code = codes.get(key)
        if code is None:
            continue
        row = table[_function(key)[0]]
        row["run"] += 1
        row["survived" if code == 0 else "killed"] += 1
    return dict(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=8, help="mutants per module (0: all of CORE)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-children", type=int, default=2)
    args = parser.parse_args()
    # generation and the stats pass (which tests reach which function) happen on the first call
    first = "ecgwm_core.signal.intervals.x_qtcf_ms__mutmut_1"
    subprocess.run([*MUTMUT, "run", "--max-children", str(args.max_children), first], check=True)
    names = sample(list(_meta()), args.sample, args.seed)
    subprocess.run([*MUTMUT, "run", "--max-children", str(args.max_children), *names], check=True)
    table = report(names)
    print(f"\nMutation testing (mutmut; seeded sample of {args.sample or 'all'} per module, seed {args.seed})")
    print(f"{'module':40s} {'run':>4s} {'killed':>7s} {'survived':>9s} {'survival':>9s}")
    for module, row in sorted(table.items()):
        rate = 100 * row["survived"] / row["run"] if row["run"] else float("nan")
        print(f"{module:40s} {row['run']:4d} {row['killed']:7d} {row['survived']:9d} {rate:8.0f}%")
    codes = _meta()
    survivors = [k for k in names if codes.get(k) == 0]
    print(f"\n{len(survivors)} surviving mutants:")
    for key in survivors:
        shown = subprocess.run([*MUTMUT, "show", key], capture_output=True, text=True).stdout
        print(f"\n## {key}\n{shown.strip()}")


if __name__ == "__main__":
    main()
