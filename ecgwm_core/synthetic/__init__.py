"""SYNTHETIC and SEMI-SYNTHETIC ECGs rendered by the ODE prior for data purposes.

Downstream of the real-data loaders (``data``), the measurement (``signal``)
and the prior (``ode``): renderings with known fiducials that validate the
delineator (``groundtruth``), and the ECGRDVQ digital-twin cohort (``twins``).
Everything here is rendered, never recorded.
"""
from .groundtruth import TRUE_INTERVALS, true_intervals, validation_table
from .twins import (
    CACHE_ENV, FS_HZ, TWIN_VERSION, Morphology, render_twins, subject_morphology, subject_traits, write_twins,
)

__all__ = [
    "CACHE_ENV", "FS_HZ", "TRUE_INTERVALS", "TWIN_VERSION", "Morphology", "render_twins", "subject_morphology",
    "subject_traits", "true_intervals", "validation_table", "write_twins",
]
