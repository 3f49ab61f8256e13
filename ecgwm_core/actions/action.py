"""An intervention as the world model sees it: a drug, a dose and the time since the dose.

Two encodings: the paper's **discrete token** (one id per drug, optionally
per dose bin) and a **continuous vector** (plasma concentration, time since
dose and the drug's ion-channel block profile), which is what the reviewers
asked for instead of tokens.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .pk import DOSE_TO_MG


@dataclass(frozen=True)
class Drug:
    """A formulary entry.

    Attributes
    ----------
    name : short name used in actions (lower case).
    trial_name : its ``EXTRT`` spelling in the ECGRDVQ table.
    dose : the trial's single oral dose, in ``unit``.
    unit : ``"mg"`` or ``"ug"``.
    blocks : ion channels blocked at therapeutic exposure (``"hERG"``, ``"late Na"``, ``"Ca-L"``, ``"peak Na"``).
    cipa_risk : CiPA TdP risk category (Li et al., Clin Pharmacol Ther 2019;105:466-475), ``""`` for placebo.
    """

    name: str
    trial_name: str
    dose: float
    unit: str
    blocks: tuple[str, ...]
    cipa_risk: str


CHANNELS = ("hERG", "late Na", "peak Na", "Ca-L")
FORMULARY: dict[str, Drug] = {
    d.name: d
    for d in (
        Drug("placebo", "Placebo", 0.0, "mg", (), ""),
        Drug("dofetilide", "Dofetilide", 500.0, "ug", ("hERG",), "high"),
        Drug("quinidine", "Quinidine Sulph", 400.0, "mg", ("hERG", "peak Na", "late Na", "Ca-L"), "high"),
        Drug("ranolazine", "Ranolazine", 1500.0, "mg", ("hERG", "late Na"), "low"),
        Drug("verapamil", "Verapamil HCL", 120.0, "mg", ("hERG", "Ca-L"), "low"),
    )
}
"""The ECGRDVQ trial's treatments and doses (Johannesen et al. 2014). Block profiles as
characterised in that study; further drugs are added only with cited PK and C-QTc data."""
DOSE_BINS = (0.75, 1.25)
"""Dose-bin edges as fractions of the trial dose: below, around and above it."""


@dataclass(frozen=True)
class Action:
    """A drug given at a dose, observed some hours later.

    Parameters
    ----------
    drug : formulary name (case-insensitive), e.g. ``"dofetilide"``.
    dose : amount in ``unit`` (≥ 0); numbers (Python or NumPy), stored as float.
    unit : ``"mg"`` or ``"ug"``.
    hours : time since the dose (≥ 0).
    concentration_ng_ml : observed plasma concentration, if measured (≥ 0).

    Raises
    ------
    TypeError
        If a field has the wrong type (the message names the field).
    ValueError
        If the drug or unit is unknown, or a number is negative or not finite.
    """

    drug: str
    dose: float
    unit: str
    hours: float
    concentration_ng_ml: float | None = None

    def __post_init__(self) -> None:
        for field_name in ("drug", "unit"):
            value = getattr(self, field_name)
            if not isinstance(value, str):
                raise TypeError(f"Action.{field_name} must be a string; got {type(value).__name__} {value!r}")
        name = self.drug.strip().lower()
        if name not in FORMULARY:
            raise ValueError(f"unknown drug {self.drug!r}; formulary: {', '.join(FORMULARY)}")
        object.__setattr__(self, "drug", name)
        if self.unit not in DOSE_TO_MG:
            raise ValueError(f"unknown dose unit {self.unit!r}; units: {', '.join(DOSE_TO_MG)}")
        for field_name in ("dose", "hours", "concentration_ng_ml"):
            value = getattr(self, field_name)
            if value is None and field_name == "concentration_ng_ml":
                continue
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"Action.{field_name} must be a number; got {type(value).__name__} {value!r}"
                                + (" (convert it with float())" if isinstance(value, str) else ""))
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{field_name} must be a finite number >= 0; got {value}")
            object.__setattr__(self, field_name, float(value))

    @property
    def dose_mg(self) -> float:
        """The dose in mg."""
        return self.dose * DOSE_TO_MG[self.unit]

    def token(self, dose_bins: bool = False) -> int:
        """Discrete token: the drug's formulary index, or index·3 + dose bin when ``dose_bins``."""
        index = list(FORMULARY).index(self.drug)
        if not dose_bins:
            return index
        entry = FORMULARY[self.drug]
        trial_mg = entry.dose * DOSE_TO_MG[entry.unit]
        ratio = self.dose_mg / trial_mg if trial_mg > 0 else 1.0
        return 3 * index + int(np.searchsorted(DOSE_BINS, ratio, side="right"))

    def vector(self, concentration_ng_ml: float | None = None) -> np.ndarray:
        """Continuous encoding: [log1p(concentration in ng/mL), hours / 24, block of each of :data:`CHANNELS`].

        Parameters
        ----------
        concentration_ng_ml : predicted concentration (e.g. from a :class:`~ecgwm_core.actions.PKFit`);
            defaults to the observed one.

        Raises
        ------
        ValueError
            If neither a predicted nor an observed concentration is available.
        """
        conc = self.concentration_ng_ml if concentration_ng_ml is None else concentration_ng_ml
        if conc is None:
            raise ValueError("no concentration: pass a predicted one or build the Action with concentration_ng_ml")
        blocks = [float(c in FORMULARY[self.drug].blocks) for c in CHANNELS]
        return np.array([math.log1p(conc), self.hours / 24.0, *blocks])
