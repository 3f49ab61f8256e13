"""The physiological ODE prior: McSharry's ECGSYN model, batched and differentiable in torch.

Public surface: :func:`render` (parameters and RR to mV leads, pure tensors, any
device), :func:`simulate` (heart rate to mV signal with R peaks), the parameter
types and presets, the two integrators and the beat fitting.
"""
from .dipole import DipoleParams, lead_matrix, project
from .fit import EXTENDED_WAVES, fit_dipole, fit_single_lead
from .mcsharry import integrate_exponential, integrate_rk4
from .params import FIVE_WAVES, WaveParams, preset, scale_for_heart_rate
from .render import constant_rr, render
from .rr import rr_process
from .simulate import DIPOLE_PTB, Simulation, paper_dipole, simulate

__all__ = [
    "DIPOLE_PTB", "EXTENDED_WAVES", "FIVE_WAVES", "DipoleParams", "Simulation", "WaveParams",
    "constant_rr", "fit_dipole", "fit_single_lead", "integrate_exponential", "integrate_rk4", "lead_matrix",
    "paper_dipole", "preset", "project", "render", "rr_process", "scale_for_heart_rate", "simulate",
]
