"""SYNTHETIC and SEMI-SYNTHETIC ECGs rendered by the ODE prior for data purposes.

Downstream of the real-data loaders (``data``), the measurement (``signal``)
and the prior (``ode``): renderings with known fiducials that validate the
delineator (``groundtruth``), and the ECGRDVQ digital-twin cohort (``twins``).
Everything here is rendered, never recorded.
"""
