"""The batch delineator gives the per-beat delineator's numbers (SEMI-SYNTHETIC beats: ECGRDVQ twins).

The reference is the per-beat code as it was before the batch path, frozen in
``benchmarks/delineate_baseline.py``: fiducials must agree to 1e-12 s (1e-9 ms) and
every failure must carry the same exception type and message.
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from ecgwm_core.data import load_clinical_table
from ecgwm_core.signal import INTERVALS, Fiducials, delineate_beat, delineate_beats
from ecgwm_core.synthetic import render_twins
from ecgwm_core.worldmodel.config import RepresentationConfig
from ecgwm_core.worldmodel.representation import measure_beats, r_index, strip_beats

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("delineate_baseline", ROOT / "benchmarks" / "delineate_baseline.py")
baseline = importlib.util.module_from_spec(spec)
spec.loader.exec_module(baseline)

REPRESENTATIONS = {"250 Hz": RepresentationConfig(), "500 Hz": RepresentationConfig(fs_hz=500.0, samples=448)}


@pytest.fixture(scope="module")
def strips() -> np.ndarray:
    """30 noisy 10-s twins (3 rows of each of 10 subjects), 500 Hz."""
    kept = load_clinical_table().kept
    rows = kept[kept["RANDID"].isin(sorted(kept["RANDID"].unique())[:10])].groupby("RANDID").head(3)
    return render_twins(rows, progress=False)[0]


def perturbed(strips: np.ndarray, rep: RepresentationConfig, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """210 beats: the twins' median beats with white noise (0-0.3 mV), smooth Gaussian-bump errors (the kind
    a decoder makes) and shrunken beats, at RR scaled by 0.5-1.2, so that some beats fail in every way."""
    beats, rr, _ = strip_beats(strips, 500.0, rep)
    rng = np.random.default_rng(seed)
    t = np.arange(rep.samples)

    def bumps() -> np.ndarray:
        shape = (len(beats), 12, 4, 1)
        centre, width = rng.uniform(0, rep.samples, shape), rng.uniform(3, 30, shape) * rep.fs_hz / 250
        return (rng.normal(0, 0.15, shape) * np.exp(-0.5 * ((t - centre) / width) ** 2)).sum(2)

    variants = [beats + rng.normal(0, sd, beats.shape) for sd in (0, 0.01, 0.03, 0.1, 0.3)]
    variants += [beats + bumps(), beats * rng.uniform(0, 0.3, (len(beats), 1, 1)) + bumps()]
    return np.concatenate(variants), np.tile(rr, len(variants)) * rng.uniform(0.5, 1.2, len(beats) * len(variants))


@pytest.mark.parametrize("name", REPRESENTATIONS)
def test_batch_equals_the_per_beat_delineator(strips, name):
    rep = REPRESENTATIONS[name]
    beats, rr = perturbed(strips, rep)
    new = delineate_beats(beats, rep.fs_hz, r_index(rep), rr)
    old_reasons = set()
    for k, (beat, rr_k) in enumerate(zip(beats, rr)):
        try:
            old = baseline.delineate_beat(beat, rep.fs_hz, r_index(rep), float(rr_k))
        except (ValueError, IndexError, np.linalg.LinAlgError) as err:
            assert type(new[k]) is type(err) and str(new[k]) == str(err), k
            old_reasons.add(str(err))
            continue
        assert isinstance(new[k], Fiducials), (k, new[k])
        np.testing.assert_allclose(list(vars(new[k]).values()), list(vars(old).values()), rtol=0, atol=1e-12)
    ok = sum(isinstance(f, Fiducials) for f in new)
    assert ok >= 150 and len(old_reasons) >= 4, (ok, old_reasons)  # the comparison covers both kinds


def test_measure_beats_equals_the_per_beat_path(strips):
    rep = REPRESENTATIONS["250 Hz"]
    beats, rr = perturbed(strips, rep, seed=1)
    new, old = measure_beats(beats.astype(np.float32), rr, rep), baseline.measure_beats(beats.astype(np.float32), rr, rep)
    assert [m["quality"] for m in new] == [m["quality"] for m in old]
    np.testing.assert_allclose([[m[k] for k in INTERVALS] for m in new], [[m[k] for k in INTERVALS] for m in old],
                               rtol=0, atol=1e-9)


def test_single_beats_and_whole_batch_failures():
    """A non-finite beat is named; a beat too short before R fails every beat of the batch the same way; a single
    beat raises its failure; shapes are checked."""
    rng = np.random.default_rng(0)
    beats = rng.normal(0, 0.01, (3, 12, 224))
    beats[1, 4, 7] = np.nan
    found = delineate_beats(beats, 250.0, 75, np.full(3, 1.0))
    assert str(found[1]) == "non-finite samples"
    assert [str(f) for f in (found[0], found[2])] == ["no QRS complex stands out of the noise"] * 2
    short = delineate_beats(beats, 250.0, 20, np.full(3, 1.0))
    assert [str(f) for f in short] == ["the beat holds too little before the QRS for an isoelectric level"] * 3
    with pytest.raises(ValueError, match="no QRS complex stands out of the noise"):
        delineate_beat(beats[0], 250.0, 75, 1.0)
    with pytest.raises(ValueError, match=r"need \(n, leads, M\) beats and \(n,\) RR intervals"):
        delineate_beats(beats, 250.0, 75, np.ones(2))
    with pytest.raises(ValueError, match="use delineate_beats for a batch"):
        delineate_beat(beats, 250.0, 75, 1.0)
