"""ecgwm_core: the library behind the ECG-WM book.

A physiology-informed ECG world model (Chen et al., arXiv:2605.17580, 2026)
rebuilt in the open: real data and measurement, the McSharry ODE prior,
interventions, latent diffusion, rollouts and risk. Submodules are imported
on use so that ``import ecgwm_core`` stays cheap.

One paper component per package; imports flow one way (tests/test_layout.py):

=============================  =====================================================
layer                          packages
=============================  =====================================================
0: data and measurement        ``data`` (loaders, trial, pairs, vocabulary),
                               ``signal`` (filters, beats, delineation, intervals),
                               ``plotting`` (ECG paper, drug colours)
1: physiological prior         ``ode`` (McSharry ECGSYN, dipole, render, fits)
2: interventions and twins     ``actions`` (drugs, PK, exposure-response, effect on
                               the prior), ``synthetic`` (ground truth, digital twins)
3: world model                 ``worldmodel`` (config, autoencoder, denoiser,
                               diffusion, energy, rollout, train, distributed)
4: judging it                  ``evaluation`` (metrics, baselines, protocols),
                               ``risk`` (scores, calibration, proposer, loop)
5: front ends                  ``figures`` (every book figure by name), ``cli``
=============================  =====================================================

A module imports only from its own layer or a lower one.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ecgwm")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
