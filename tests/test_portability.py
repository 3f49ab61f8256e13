"""Chapters re-execute under another numeric environment (issue 9, book/conventions.md).

The main ``make test`` run checks every chapter with ``pytest --nbval-lax``
in the native environment (torch's AVX-512 kernels where the CPU has them,
one torch thread). Here the numeric chapters run again in a subprocess with
torch's portable kernels (``ATEN_CPU_CAPABILITY=default``), NumPy's SIMD
dispatch switched off, OpenBLAS on its oldest x86 kernels and two threads:
the exact cells (tagged ``nbval-check-output``) must print the same text and
every hidden assert must hold. That is the closest one machine gets to a
user's different CPU.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import toc_files  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

NUMERIC_CHAPTERS = [
    "book/01_data",
    "book/02_ode_prior",
    "book/03_measurement",
    "book/04_actions",
    "book/08_evaluation",
]
"""Chapters re-run here: those whose outputs come from numeric work. A new
chapter whose numbers come from a fit, an optimiser or training adds itself;
keep the total within the time budget stated in book/conventions.md."""


def _numpy_dispatch_features() -> str:
    """NumPy's optional SIMD targets present on this CPU (to disable them all)."""
    from numpy._core import _multiarray_umath as umath

    available = umath.__cpu_features__
    return " ".join(f for f in umath.__cpu_dispatch__ if available.get(f))


def portable_environment() -> dict[str, str]:
    """The environment of the second run: other kernels, other thread count."""
    env = dict(os.environ)
    env.update(
        ATEN_CPU_CAPABILITY="default",  # torch: no AVX2/AVX-512 kernels
        NPY_DISABLE_CPU_FEATURES=_numpy_dispatch_features(),
        OPENBLAS_CORETYPE="Prescott",  # NumPy/SciPy BLAS: SSE-era kernels
        MKL_CBWR="COMPATIBLE",
        ECGWM_THREADS="2",  # torch threads inside the chapters
        OMP_NUM_THREADS="2",
        OPENBLAS_NUM_THREADS="2",
    )
    return env


def test_numeric_chapters_are_in_the_toc():
    listed = set(toc_files())
    missing = [c for c in NUMERIC_CHAPTERS if c not in listed]
    assert not missing, f"NUMERIC_CHAPTERS names files not in _toc.yml: {missing}"


def test_portable_environment_changes_the_kernels():
    code = (
        "import torch, numpy as np;"
        "from numpy._core import _multiarray_umath as u;"
        "print(torch.backends.cpu.get_cpu_capability(),"
        " sum(bool(u.__cpu_features__.get(f)) for f in u.__cpu_dispatch__))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=portable_environment(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0] == "DEFAULT", f"torch still uses {out[0]} kernels"
    assert out[1] == "0", f"NumPy still dispatches to {out[1]} SIMD targets"
    assert np.__version__  # the parent process keeps its native kernels


@pytest.mark.slow
@pytest.mark.parametrize("chapter", NUMERIC_CHAPTERS)
def test_chapter_passes_nbval_in_the_portable_environment(chapter):
    notebook = (ROOT / chapter).with_suffix(".ipynb")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-sanitize-with",
            "tests/nbval_sanitize.cfg",
            "--nbval-cell-timeout",
            "600",
            "-p",
            "no:cacheprovider",
            "-q",
            "-o",
            "addopts=",
            str(notebook),
        ],
        cwd=ROOT,
        env=portable_environment(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, (
        f"{chapter} fails under ATEN_CPU_CAPABILITY=default, no NumPy SIMD, "
        f"OpenBLAS Prescott, 2 threads:\n{result.stdout[-6000:]}"
    )
