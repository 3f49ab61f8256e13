"""The world model beyond one machine: streaming MIMIC-IV-ECG records and DDP training.

The records are SYNTHETIC: 12-lead ECGs simulated by the ODE prior, written
with ``wfdb.wrsamp`` in the MIMIC-IV-ECG folder layout (``record_list.csv``
and ``files/pNNNN/pNNNNNNNN/sNNNNNNNN/NNNNNNNN``), because the real data need
credentialed access. The DDP test runs 2 processes with the ``gloo`` backend
on the CPU.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
import wfdb
from safetensors.torch import load_file
from scipy.signal import resample_poly
from torch.utils.data import DataLoader

from ecgwm_core.data import STANDARD_12, Recording, load_mimic_ecg
from ecgwm_core.ode import simulate
from ecgwm_core.worldmodel import BeatAutoencoder, get_config
from ecgwm_core.worldmodel.distributed import DDPConfig, DistEnv, init_distributed, main, train
from ecgwm_core.worldmodel.streaming import (
    StreamingECGDataset, UnreadableRecordWarning, UnusableRecordError, preprocess,
)

N_RECORDS = 22
REP = get_config("quick").representation
SEED = 3


def write_mimic(root, signals: np.ndarray) -> list[str]:
    """Write SYNTHETIC records (n, 12, samples) at 500 Hz in the MIMIC-IV-ECG layout; return their paths."""
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, sig in enumerate(signals):
        subject, study = 10000000 + 37 * i, 40000000 + i
        folder = f"files/p{str(subject)[:4]}/p{subject}/s{study}"
        (root / folder).mkdir(parents=True, exist_ok=True)
        wfdb.wrsamp(str(study), fs=500, units=["mV"] * 12, sig_name=[s.lower() for s in STANDARD_12],
                    p_signal=sig.T, fmt=["16"] * 12, adc_gain=[1000.0] * 12, baseline=[0] * 12,
                    write_dir=str(root / folder))
        rows.append({"subject_id": subject, "study_id": study, "file_name": str(study),
                     "ecg_time": "2180-07-23 08:44:00", "path": f"{folder}/{study}"})
    pd.DataFrame(rows).to_csv(root / "record_list.csv", index=False)
    return [r["path"] for r in rows]


@pytest.fixture(scope="module")
def mimic(tmp_path_factory):
    """(data root for $ECGWM_DATA, record paths): 22 SYNTHETIC 10-s records in the MIMIC-IV-ECG layout.

    Beside the ODE's own variability, each record is scaled by its own gain so that batches differ.
    """
    data = tmp_path_factory.mktemp("data")
    signals = simulate(n=N_RECORDS, duration_s=10, fs=500, heart_rate=70, hr_std=3, leads="12",
                       seed=SEED).signal.numpy()
    gains = np.random.default_rng(SEED).uniform(0.4, 2.5, N_RECORDS)  # records differ, so batches do too
    signals *= gains[:, None, None]
    return data, write_mimic(data / "mimic-iv-ecg" / "1.0", signals)


@pytest.fixture
def env_data(mimic, monkeypatch):
    monkeypatch.setenv("ECGWM_DATA", str(mimic[0]))
    return mimic[1]


def test_preprocess_gives_the_median_beat_in_standard_lead_order():
    torch.set_num_threads(1)
    x = simulate(n=1, duration_s=10, fs=500, heart_rate=60, hr_std=0, wander_mv=0, leads="12",
                 seed=1).signal.numpy()[0]  # SYNTHETIC, noise-free
    beat = preprocess(Recording(signal=x, fs=500.0, leads=STANDARD_12, name="ode"), REP)
    assert beat.shape == (12, REP.samples) and beat.dtype == np.float32
    shuffled = np.random.default_rng(0).permutation(12)
    same = preprocess(Recording(signal=x[shuffled], fs=500.0, leads=tuple(STANDARD_12[k] for k in shuffled),
                                name="ode"), REP)
    np.testing.assert_array_equal(same, beat)
    # R sits at before_s into the window (0.3 s x 250 Hz = sample 75) in the lead with the largest QRS
    lead = int(np.argmax(np.ptp(x, axis=1)))
    assert abs(int(np.argmax(np.abs(beat[lead]))) - round(REP.before_s * REP.fs_hz)) <= 2
    # every beat of a noise-free record is the same: the median beat keeps each lead's peak-to-peak in mV
    np.testing.assert_allclose(np.ptp(beat, axis=1), np.ptp(x, axis=1), rtol=0.05, atol=0.01)
    # a record at another rate (scipy's polyphase resampler to 250 Hz) gives the same beat within 10 µV
    slow = preprocess(Recording(signal=resample_poly(x, 1, 2, axis=-1), fs=250.0, leads=STANDARD_12, name="ode"),
                      REP)
    np.testing.assert_allclose(slow, beat, atol=0.01)


@pytest.mark.parametrize("change, message", [
    (lambda s, leads: (s[:11], leads[:11]), "lacks lead"),
    (lambda s, leads: (np.where(np.arange(s.shape[1]) == 7, np.nan, s), leads), "non-finite"),
    (lambda s, leads: (s[:, :600], leads), "at least 3 complete beats"),
])
def test_preprocess_refuses_unusable_records(change, message):
    x = simulate(n=1, duration_s=10, fs=500, heart_rate=60, leads="12", seed=2).signal.numpy()[0]  # SYNTHETIC
    signal, leads = change(x, STANDARD_12)
    with pytest.raises(UnusableRecordError, match=message):
        preprocess(Recording(signal=signal, fs=500.0, leads=tuple(leads), name="bad"), REP)


def test_every_record_once_across_2_ranks_x_2_workers(env_data):
    paths, seen = env_data, []
    for rank in range(2):
        ds = StreamingECGDataset(paths, 2, representation=REP, seed=SEED, rank=rank, world_size=2)
        ds.set_epoch(1)
        planned = [p for b in ds.rank_batches() for p in b]
        by_worker = [[p for b in ds.worker_batches(w, 2) for p in b] for w in range(2)]
        assert not set(by_worker[0]) & set(by_worker[1])  # workers disjoint
        seen += planned
        # what two DataLoader worker processes yield, in order, is the rank's planned records
        got = torch.cat(list(DataLoader(ds, batch_size=None, num_workers=2))).numpy()
        want = np.stack([preprocess(load_mimic_ecg(p), REP) for p in planned])
        np.testing.assert_array_equal(got, want)
    assert sorted(seen) == sorted(paths) and len(seen) == N_RECORDS  # each record exactly once


def test_step_batches_do_not_depend_on_world_size_and_epochs_reshuffle():
    paths = [f"r{i:02d}" for i in range(N_RECORDS)]
    one = StreamingECGDataset(paths, 4, seed=SEED, rank=0, world_size=1, drop_last=True)
    two = [StreamingECGDataset(paths, 2, seed=SEED, rank=r, world_size=2, drop_last=True) for r in range(2)]
    assert len(one.rank_batches()) == N_RECORDS // 4 == len(two[0].rank_batches())
    for step, batch in enumerate(one.rank_batches()):
        assert batch == two[0].rank_batches()[step] + two[1].rank_batches()[step]
    first = one.rank_batches()
    one.set_epoch(1)
    assert one.rank_batches() != first
    assert sorted(sum(one.rank_batches(), [])) != sorted(paths)  # drop_last leaves 2 records out ...
    assert len(sum(one.rank_batches(), [])) == N_RECORDS - N_RECORDS % 4  # ... and only those


def test_unreadable_records_are_skipped_with_a_counted_warning(env_data, mimic):
    paths = list(env_data[:5])
    dat = mimic[0] / "mimic-iv-ecg" / "1.0" / f"{paths[1]}.dat"
    truncated = dat.parent / "truncated"
    truncated.with_suffix(".hea").write_text(dat.with_suffix(".hea").read_text().replace(dat.stem, "truncated"))
    truncated.with_suffix(".dat").write_bytes(dat.read_bytes()[:999])
    paths += [str(truncated.relative_to(mimic[0] / "mimic-iv-ecg" / "1.0")), "files/p1/p1/s1/missing"]
    ds = StreamingECGDataset(paths, 3, representation=REP, seed=SEED, world_size=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = torch.cat(list(ds))
    skipped = [str(w.message) for w in caught if issubclass(w.category, UnreadableRecordWarning)]
    assert rows.shape == (5, 12, REP.samples) and ds.skipped == 2
    assert len(skipped) == 2 and "(1 skipped so far" in skipped[0] and "(2 skipped so far" in skipped[1]
    assert any("missing" in s for s in skipped) and any("truncated" in s for s in skipped)


def run_main(data, out, batch_size: int, processes: int = 1) -> list[float]:
    """Train with ``python -m ecgwm_core.worldmodel.distributed`` (under torchrun if ``processes > 1``)."""
    args = ["--config", "quick", "--out", str(out), "--batch-size", str(batch_size), "--epochs", "2",
            "--seed", str(SEED), "--lr", "3e-3", "--no-amp", "--checkpoint-every", "0", "--device", "cpu"]
    if processes == 1:
        assert main([*args, "--num-workers", "0"]) == 0
    else:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}"]
        done = subprocess.run([*launcher, "-m", "ecgwm_core.worldmodel.distributed", *args, "--num-workers", "2"],
                              env=os.environ | {"ECGWM_DATA": str(data)},
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "autoencoder_curve.json").read_text())


@pytest.mark.slow  # 35-50 s on 2 shared cores: three Python processes start and import torch
def test_ddp_on_2_gloo_ranks_matches_one_process_on_the_same_global_batch(env_data, mimic, tmp_path):
    torch.set_num_threads(1)
    # 22 records, global batch 4 (2 ranks x 2, or 1 process x 4): 5 steps per epoch, 2 epochs
    single = run_main(mimic[0], tmp_path / "one", 4)
    ddp = run_main(mimic[0], tmp_path / "two", 2, processes=2)  # 2 ranks x 2 DataLoader workers each
    assert len(single) == len(ddp) == 10
    assert single[-1] < 0.5 * single[0]  # it trains
    # the same loss curve within 1e-5 relative (measured: 1.4e-7): only the order of float32 sums differs
    np.testing.assert_allclose(ddp, single, rtol=1e-5)
    # the tolerance can fail: the per-rank batch alone (no gradient averaging over ranks) gives another curve
    alone = run_main(mimic[0], tmp_path / "alone", 2)
    assert np.abs(np.array(alone[:4]) / single[:4] - 1).max() > 1e-2
    # rank 0 wrote the checkpoint: weights equal the single process's, the JSON says 2 ranks
    info = json.loads((tmp_path / "two" / "autoencoder.json").read_text())
    assert info["world_size"] == 2 and info["global_batch_size"] == 4 and info["steps"] == 10
    two, one = (load_file(tmp_path / d / "autoencoder.safetensors") for d in ("two", "one"))
    assert two.keys() == one.keys() == BeatAutoencoder(get_config("quick").autoencoder, REP).state_dict().keys()
    for name in one:
        torch.testing.assert_close(two[name], one[name], rtol=1e-3, atol=1e-5)


def test_missing_mimic_exits_with_code_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ECGWM_DATA", str(tmp_path))
    assert main(["--out", str(tmp_path / "out"), "--config", "quick"]) == 2
    assert "mimic-iv-ecg/record_list.csv" in capsys.readouterr().err


def test_single_process_without_torchrun(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    env = init_distributed("cpu")
    assert (env.rank, env.world_size, env.distributed, env.is_main, env.device.type) == (0, 1, False, True, "cpu")
    with pytest.raises(ValueError, match="device must be"):
        init_distributed("tpu")


def test_dataset_sharded_for_another_world_is_refused():
    ds = StreamingECGDataset(["a", "b", "c", "d"], 2, rank=0, world_size=2)
    env = DistEnv(0, 0, 1, torch.device("cpu"), None)
    with pytest.raises(ValueError, match="sharded for batch 2 x 2 ranks"):
        train(BeatAutoencoder(get_config("quick").autoencoder, REP), ds, DDPConfig(batch_size=2), env)
