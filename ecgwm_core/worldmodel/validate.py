"""Leave-subjects-out check of generated ΔQTcF against the trial, next to the population drug × time mean.

For every held-out subject and treatment period the pre-dose twins (all
replicates) form the :class:`~.rollout.Baseline`; the model generates K ECGs at
each of the period's post-dose time points; the median plausible ΔQTcF is
compared with the observed triplicate-mean ΔQTcF of the table. The reference
predictor is the training subjects' mean ΔQTcF per drug and time point.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.trial import BASELINE_HOURS, subject_changes
from .anchors import trial_action
from .cohort import twin_cohort
from .model import WorldModel
from .rollout import Baseline, baseline_from_beats, rollout


def period_baselines(model: WorldModel, kept: pd.DataFrame, progress: bool = False
                     ) -> dict[tuple[int, str], Baseline]:
    """{(RANDID, EXTRT): Baseline} from the SEMI-SYNTHETIC twins of ``kept``'s pre-dose rows."""
    cohort = twin_cohort(kept, model.config.representation, progress=progress)
    out = {}
    for (randid, drug), rows in cohort.rows.groupby(["RANDID", "EXTRT"]):
        pre = rows[rows["TPT"] == BASELINE_HOURS].index.to_numpy()
        first = next(i for i in pre if i in cohort.centred)
        out[(int(randid), drug)] = baseline_from_beats(model, cohort.beats[pre], cohort.rr_s[pre],
                                                       cohort.centred[first])
    return out


def heldout_dqtcf(model: WorldModel, kept: pd.DataFrame, subjects: np.ndarray, samples: int = 32,
                  seed: int = 0, guidance: float | None = None) -> pd.DataFrame:
    """Generated vs observed ΔQTcF for ``subjects`` (never seen by ``model``).

    Returns
    -------
    pandas.DataFrame
        One row per (``RANDID``, ``drug`` (EXTRT), ``hours``): ``observed`` (table, triplicate means),
        ``generated`` (median over plausible rollouts), ``q05``, ``q95``, ``population`` (training
        subjects' mean), ``n_plausible``.
    """
    seen = set(model.meta.get("subjects", []))
    if seen & set(np.asarray(subjects).tolist()):
        raise ValueError(f"subjects {sorted(seen & set(subjects))} were used to train the model")
    test = kept[kept["RANDID"].isin(subjects)]
    observed = subject_changes(test, "QTcF")
    observed = observed[observed["TPT"] > BASELINE_HOURS]
    train = subject_changes(kept[kept["RANDID"].isin(list(seen))], "QTcF")
    population = train.groupby(["EXTRT", "TPT"])["change"].mean()
    rows = []
    for (randid, drug), base in period_baselines(model, test).items():
        obs = observed[(observed["RANDID"] == randid) & (observed["EXTRT"] == drug)]
        if obs.empty:
            continue
        actions = [trial_action(drug, h) for h in obs["TPT"]]
        summary = rollout(model, base, actions, samples, seed, guidance=guidance).summary().set_index("hours")
        for h, value in zip(obs["TPT"], obs["change"]):
            s = summary.loc[h] if h in summary.index else None
            rows.append({"RANDID": randid, "drug": drug, "hours": h, "observed": value,
                         "generated": np.nan if s is None else s["median"],
                         "q05": np.nan if s is None else s["q05"], "q95": np.nan if s is None else s["q95"],
                         "population": population.get((drug, h), np.nan),
                         "n_plausible": 0 if s is None else int(s["n_plausible"])})
    return pd.DataFrame(rows)


def mae_table(results: pd.DataFrame) -> pd.DataFrame:
    """MAE (ms) of the generated and the population-mean ΔQTcF, overall and per drug, and 90 % band coverage."""
    def one(df: pd.DataFrame) -> pd.Series:
        return pd.Series({"mae_generated": (df["generated"] - df["observed"]).abs().mean(),
                          "mae_population": (df["population"] - df["observed"]).abs().mean(),
                          "coverage_90": df["observed"].between(df["q05"], df["q95"]).mean(), "n": len(df)})

    per_drug = results.groupby("drug").apply(one, include_groups=False)
    per_drug.loc["all"] = one(results)
    return per_drug
