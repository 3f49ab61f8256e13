"""Multi-panel figures sized to the book's text column (book/conventions.md).

A row of four or five panels shrinks to illegible labels on a page; this lays
``n`` panels out in a grid at most ``COLUMN_IN`` inches wide instead.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

COLUMN_IN = 7.0
"""Width of the book's text column in inches (at 100 dpi: 700 px)."""


def panel_grid(n: int, panel_height_in: float = 2.4, max_columns: int = 3,
               **subplot_kw) -> tuple[Figure, list[Axes]]:
    """A figure ``COLUMN_IN`` inches wide holding ``n`` panels in rows of at most ``max_columns``.

    Parameters
    ----------
    n : number of panels (>= 1).
    panel_height_in : height of one row of panels, inches.
    max_columns : most panels per row; 4 panels become 2 x 2 when this is 2 or 3.
    **subplot_kw : passed to ``plt.subplots`` (e.g. ``sharey=True``).

    Returns
    -------
    The figure and its ``n`` axes in reading order; unused grid cells are removed.
    """
    if n < 1 or max_columns < 1:
        raise ValueError(f"need n >= 1 and max_columns >= 1, got n={n}, max_columns={max_columns}")
    columns = min(n, max_columns, 2 if n == 4 else max_columns)
    rows = math.ceil(n / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(COLUMN_IN, panel_height_in * rows),
                             squeeze=False, **subplot_kw)
    flat = list(axes.flat)
    for extra in flat[n:]:
        extra.remove()
    return fig, flat[:n]
