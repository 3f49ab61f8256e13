"""Render the dipole prior at a constant heart rate and measure it with the project's delineator.

The one place where "what does the delineator read on this ODE rendering?" is
computed: used by the actions' calibration loop and by the figures that show an
action's effect, which take its results instead of rendering themselves.
"""
from __future__ import annotations

from ..signal import measure_ecg
from .dipole import DipoleParams
from .render import constant_rr
from .simulate import Simulation, simulate


def render_measured(params: DipoleParams, rr_s: float, fs: float = 500.0,
                    duration_s: float = 10.0) -> tuple[Simulation, dict]:
    """A noise-free 12-lead rendering at constant RR and its measured intervals.

    Parameters
    ----------
    params : unbatched dipole parameters.
    rr_s : R-R interval in s.
    fs : sampling frequency in Hz.
    duration_s : length in s.

    Returns
    -------
    (Simulation, dict)
        The rendering (one ECG, 12 leads, mV) and :func:`~ecgwm_core.signal.measure_ecg`'s
        output on it (intervals in ms).

    Raises
    ------
    ValueError
        When the delineator cannot measure the rendering (its quality is not ``"ok"``).
    """
    rr = constant_rr(rr_s, duration_s, dtype=params.theta.dtype, device=params.theta.device)
    sim = simulate(n=1, duration_s=duration_s, fs=fs, leads="12", params=params, rr=rr, wander_mv=0.0)
    measured = measure_ecg(sim.signal[0].detach().cpu().numpy(), fs)
    if measured["quality"] != "ok":
        raise ValueError(f"the rendered ECG could not be measured: {measured['quality']}")
    return sim, measured
