"""Panels laid out to fit the book's text column (ecgwm_core.plotting.grid)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from ecgwm_core.plotting.grid import COLUMN_IN, panel_grid  # noqa: E402


@pytest.mark.parametrize(("n", "shape"), [(1, (1, 1)), (3, (1, 3)), (4, (2, 2)), (5, (2, 3)), (7, (3, 3))])
def test_panels_fill_rows_of_at_most_three_within_the_column(n, shape):
    fig, axes = panel_grid(n, panel_height_in=2.0)
    try:
        assert len(axes) == n == len(fig.axes), "unused grid cells must be removed"
        rows, columns = shape
        assert fig.get_size_inches().tolist() == [COLUMN_IN, 2.0 * rows]
        assert axes[0].get_gridspec().get_geometry() == (rows, columns)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("bad", [{"n": 0}, {"n": 2, "max_columns": 0}])
def test_rejects_an_empty_grid(bad):
    with pytest.raises(ValueError, match="need n >= 1"):
        panel_grid(**bad)
