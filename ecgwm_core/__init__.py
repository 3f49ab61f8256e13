"""ecgwm_core: the library behind the ECG-WM book.

A physiology-informed ECG world model (Chen et al., arXiv:2605.17580, 2026)
rebuilt in the open: real data and measurement, the McSharry ODE prior,
interventions, latent diffusion, rollouts and risk. Submodules are imported
on use so that ``import ecgwm_core`` stays cheap.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ecgwm")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
