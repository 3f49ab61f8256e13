"""Performance budget of the book: wall time and peak memory of every chapter in quick mode.

Each notebook listed in ``_toc.yml`` is executed from a clean kernel, in its
own subprocess (nbclient, the chapter's default parameters, i.e. quick mode),
in memory, so that the saved outputs are untouched. The wall time
includes starting the kernel and importing the libraries, which is what a
reader waits for; the peak resident memory is the largest RSS of any process
of that run (the kernel, measured with ``getrusage`` after it has exited).

Targets (issue 15): each chapter <= 90 s, the whole book <= 10 min, peak RSS
<= 2 GB (a Binder session's memory limit). The result is a markdown table
(``--out``, included by the book's course page); the exit status is 0 unless
``--strict`` is given and a target is missed.

Usage::

    .venv/bin/python benchmarks/bench_book.py --out benchmarks/budget.md
    .venv/bin/python benchmarks/bench_book.py --chapters book/01_data.ipynb
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_LIMIT_S = 90.0
BOOK_LIMIT_S = 600.0
RSS_LIMIT_MB = 2048.0


@dataclass(frozen=True)
class ChapterRun:
    """One chapter's execution: wall time (s), peak RSS (MiB) and the error, if any."""

    chapter: str
    wall_s: float
    peak_rss_mb: float
    error: str = ""

    @property
    def within_budget(self) -> bool:
        """Ran without error within the per-chapter time and the memory target."""
        return not self.error and self.wall_s <= CHAPTER_LIMIT_S and self.peak_rss_mb <= RSS_LIMIT_MB


def toc_notebooks() -> list[Path]:
    """Notebooks named in ``_toc.yml``, in book order."""
    sys.path.insert(0, str(ROOT))
    from conftest import toc_files

    paths = [(ROOT / entry).with_suffix(".ipynb") for entry in toc_files()]
    return [p for p in paths if p.is_file()]


def execute_here(notebook: Path, timeout_s: float) -> dict[str, object]:
    """Execute ``notebook`` in this process's child kernel; peak RSS of this process and its children.

    Runs in memory, in the notebook's folder (relative paths resolve as in the book build).
    """
    import nbclient
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    error = ""
    try:
        nbclient.NotebookClient(nb, timeout=timeout_s, kernel_name="python3",
                                resources={"metadata": {"path": str(notebook.parent)}}).execute()
    except Exception as exc:  # noqa: BLE001 -- any failure is reported in the table, not raised
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
    kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
             resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return {"peak_rss_mb": kb / 1024.0, "error": error}


def run_chapter(notebook: Path, timeout_s: float = 600.0) -> ChapterRun:
    """Execute one chapter in a fresh subprocess and measure it."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--one", str(notebook), "--timeout", str(timeout_s)],
                          capture_output=True, text=True, timeout=timeout_s + 60, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    name = str(notebook.relative_to(ROOT)) if notebook.is_relative_to(ROOT) else notebook.name
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return ChapterRun(name, wall, float("nan"), f"runner failed: {proc.stderr.strip()[-300:]}")
    return ChapterRun(name, wall, float(result["peak_rss_mb"]), str(result["error"]))


def budget_table(runs: list[ChapterRun]) -> str:
    """The markdown table: one row per chapter, then the whole book, with the targets."""
    total = sum(r.wall_s for r in runs)
    peak = max((r.peak_rss_mb for r in runs), default=0.0)

    def verdict(ok: bool) -> str:
        return "yes" if ok else "**no**"

    header = (f"| chapter | wall time (s) | peak RSS (MiB) | within budget (≤ {CHAPTER_LIMIT_S:.0f} s, "
              f"≤ {RSS_LIMIT_MB:.0f} MiB) |")
    lines = [header, "| --- | ---: | ---: | --- |"]
    for r in runs:
        note = verdict(r.within_budget) + (f" (error: {r.error})" if r.error else "")
        lines.append(f"| `{r.chapter}` | {r.wall_s:.1f} | {r.peak_rss_mb:.0f} | {note} |")
    book_ok = total <= BOOK_LIMIT_S and peak <= RSS_LIMIT_MB and all(not r.error for r in runs)
    lines.append(f"| **whole book** (sum of the rows; ≤ {BOOK_LIMIT_S:.0f} s) | {total:.1f} | {peak:.0f} | {verdict(book_ok)} |")
    return "\n".join(lines)


def machine_note() -> str:
    """One line naming what the numbers were measured on."""
    threads = os.environ.get("ECGWM_THREADS", "1")
    return (f"Measured on {os.cpu_count()} CPU cores ({platform.machine()}), Python "
            f"{platform.python_version()}, torch threads per chapter: {threads}; wall time includes "
            "kernel start and imports; peak RSS is the kernel's. Regenerate with `make budget`.")


def main(argv: list[str] | None = None) -> int:
    """Run the chapters, print and optionally write the table; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the markdown table here")
    parser.add_argument("--chapters", nargs="+", type=Path, help="notebooks to run (default: all of _toc.yml)")
    parser.add_argument("--timeout", type=float, default=600.0, help="per-chapter limit in s (default 600)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(execute_here(args.one.resolve(), args.timeout)))
        return 0
    notebooks = [p.resolve() for p in args.chapters] if args.chapters else toc_notebooks()
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        print(f"bench_book: no such notebook(s): {', '.join(missing)}", file=sys.stderr)
        return 2
    runs = []
    for notebook in notebooks:
        runs.append(run_chapter(notebook, args.timeout))
        r = runs[-1]
        print(f"{r.chapter:32s} {r.wall_s:7.1f} s {r.peak_rss_mb:7.0f} MiB {r.error}", flush=True)
    table = budget_table(runs) + "\n\n" + machine_note() + "\n"
    print(table)
    if args.out:
        args.out.write_text(table)
    book_ok = all(r.within_budget for r in runs) and sum(r.wall_s for r in runs) <= BOOK_LIMIT_S
    return 1 if args.strict and not book_ok else 0


if __name__ == "__main__":
    sys.exit(main())
