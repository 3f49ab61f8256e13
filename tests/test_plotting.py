"""ECG paper plots are drawn to scale and reject bad input."""
import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from ecgwm_core.data import STANDARD_12
from ecgwm_core.plotting.ecgpaper import MM_PER_MV, MM_PER_S, plot_12lead, plot_strip


def test_12lead_is_true_to_scale():
    fs = 250.0
    signal = np.zeros((12, int(10 * fs)))
    fig = plot_12lead(signal, fs, STANDARD_12)
    fig.canvas.draw()  # the equal-aspect box is applied at draw time
    ax = fig.axes[0]
    bbox = ax.get_window_extent().transformed(fig.dpi_scale_trans.inverted())  # inches
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    mm_per_s = bbox.width * 25.4 / (x1 - x0)
    mm_per_mv = bbox.height * 25.4 / (y1 - y0)
    assert mm_per_s == pytest.approx(MM_PER_S, rel=0.02)
    assert mm_per_mv == pytest.approx(MM_PER_MV, rel=0.02)


def test_bad_input_is_explained():
    fs = 500.0
    with pytest.raises(ValueError, match="must be \\(leads, samples\\)"):
        plot_12lead(np.zeros((11, 5000)), fs, STANDARD_12)
    with pytest.raises(ValueError, match="need 10 s"):
        plot_12lead(np.zeros((12, 1000)), fs, STANDARD_12)
    with pytest.raises(ValueError, match="leads V6 missing"):
        plot_12lead(np.zeros((12, 5000)), fs, (*STANDARD_12[:11], "X"))
    with pytest.raises(ValueError, match="one lead"):
        plot_strip(np.zeros((2, 100)), fs, "II")
