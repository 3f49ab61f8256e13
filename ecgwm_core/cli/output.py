"""Checked output paths for the command line: refuse a bad ``--out`` before computing, write atomically.

A command checks each output path with :func:`checked_output` *before* it
computes anything (the folder exists and is writable, the extension is one it
can write, the path is not a folder), so a mistyped path costs nothing. It
then writes through :func:`atomic_output`: the data go to a hidden temporary
file in the same folder, renamed onto the final name only when the write
succeeded, so a failure (or Ctrl-C) never leaves a half-written file and the
name printed is the name written.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


class OutputPathError(ValueError):
    """An output path cannot be written (missing or read-only folder, unsupported extension)."""


def image_extensions() -> tuple[str, ...]:
    """Extensions matplotlib can save to (``.png``, ``.pdf``, ``.svg``...), with the dot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    return tuple(f".{ext}" for ext in FigureCanvasAgg(Figure()).get_supported_filetypes())


def checked_output(path: str | os.PathLike, extensions: Iterable[str], option: str = "--out") -> Path:
    """The output path, after checking that it can be written.

    Parameters
    ----------
    path : the file the user asked for.
    extensions : accepted extensions with the dot, e.g. ``(".npz",)``; the
        comparison ignores case.
    option : the command-line option named in the error, e.g. ``"--plot"``.

    Returns
    -------
    pathlib.Path
        ``path`` unchanged (never with an extension appended), so the name
        printed is the name written.

    Raises
    ------
    OutputPathError
        If the extension is not one of ``extensions``, ``path`` is a folder,
        or its folder does not exist or is not writable; the message says
        how to fix it.
    """
    out = Path(path)
    allowed = tuple(e.lower() for e in extensions)
    if out.suffix.lower() not in allowed:
        raise OutputPathError(
            f"{option} {out}: unsupported extension {out.suffix or '(none)'!r}; use one of {', '.join(allowed)}"
        )
    if out.is_dir():
        raise OutputPathError(f"{option} {out} is a folder; give a file name ending in {allowed[0]}")
    folder = out.parent
    if not folder.is_dir():
        raise OutputPathError(f"{option} {out}: folder {folder} does not exist; create it first (mkdir -p {folder})")
    _probe(folder, f"{option} {out}")
    return out


def _probe(folder: Path, what: str) -> None:
    """Create and remove a file in ``folder`` (permission bits do not tell for root or special file systems)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise OutputPathError(f"{what}: cannot write in folder {folder} ({err.strerror}); choose another folder") from err


def checked_folder(path: str | os.PathLike, option: str = "--out") -> Path:
    """An output folder that exists and is writable, or does not exist yet below a writable parent.

    Raises
    ------
    OutputPathError
        If ``path`` is a file, or neither it nor its nearest existing parent
        is a writable folder.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputPathError(f"{option} {out} is a file, not a folder; choose a folder name")
    existing = next(p for p in (out, *out.parents) if p.exists())
    if not existing.is_dir():
        raise OutputPathError(f"{option} {out}: {existing} is a file, not a folder; choose another folder")
    _probe(existing, f"{option} {out}")
    return out


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds.

    The temporary file keeps ``path``'s extension (writers such as
    ``numpy.savez`` and ``Figure.savefig`` choose the format by it) and is
    removed if the block raises, so nothing half-written is left.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".partial{path.suffix}")
    os.close(handle)
    temp = Path(temporary)
    try:
        yield temp
        umask = os.umask(0)
        os.umask(umask)
        temp.chmod(0o666 & ~umask)  # mkstemp's 0600 would make the result private
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def human_size(n_bytes: float) -> str:
    """``n_bytes`` as ``"12.3 MB"`` (decimal units, as ``ls -h --si``)."""
    units = ("B", "kB", "MB", "GB", "TB")
    i = 0
    while n_bytes >= 1000 and i < len(units) - 1:
        n_bytes, i = n_bytes / 1000, i + 1
    return f"{n_bytes:.0f} B" if i == 0 else f"{n_bytes:.1f} {units[i]}"
