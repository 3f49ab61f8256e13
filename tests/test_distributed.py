"""The world model beyond one machine: streaming MIMIC-IV-ECG records and DDP training.

The records are SYNTHETIC: 12-lead ECGs simulated by the ODE prior, written
with ``wfdb.wrsamp`` in the MIMIC-IV-ECG folder layout (``record_list.csv``
and ``files/pNNNN/pNNNNNNNN/sNNNNNNNN/NNNNNNNN``), because the real data need
credentialed access. The DDP test runs 2 processes with the ``gloo`` backend
on the CPU.
"""
from __future__ import annotations

import json
import socket
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
import torch.multiprocessing as mp
import wfdb
from safetensors.torch import load_file
from scipy.signal import resample_poly
from torch import nn
from torch.utils.data import DataLoader

from ecgwm_core.data import STANDARD_12, Recording, load_mimic_ecg
from ecgwm_core.ode import simulate
from ecgwm_core.worldmodel.distributed import DDPConfig, DistEnv, init_distributed, shutdown, train
from ecgwm_core.worldmodel.streaming import (
    ECGWindow, StreamingECGDataset, UnreadableRecordWarning, UnusableRecordError, preprocess,
)

N_RECORDS = 22
WINDOW = ECGWindow(fs=100.0, n_samples=256)  # 2.56 s at 100 Hz keeps the test fast
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
    """(data root for $ECGWM_DATA, record paths): 22 SYNTHETIC 10-s records in the MIMIC-IV-ECG layout."""
    data = tmp_path_factory.mktemp("data")
    signals = simulate(n=N_RECORDS, duration_s=10, fs=500, heart_rate=70, hr_std=3, leads="12",
                       seed=SEED).signal.numpy()
    return data, write_mimic(data / "mimic-iv-ecg" / "1.0", signals)


@pytest.fixture
def env_data(mimic, monkeypatch):
    monkeypatch.setenv("ECGWM_DATA", str(mimic[0]))
    return mimic[1]


def test_preprocess_orders_leads_resamples_and_cuts():
    fs, t = 500.0, np.arange(5000) / 500.0
    sines = np.stack([(k + 1) * 0.1 * np.sin(2 * np.pi * 3.0 * t) for k in range(12)])  # lead k: (k+1)/10 mV
    shuffled = np.random.default_rng(0).permutation(12)
    rec = Recording(signal=sines[shuffled], fs=fs, leads=tuple(STANDARD_12[k] for k in shuffled), name="sines")
    out = preprocess(rec, ECGWindow(fs=100.0, n_samples=256, highpass_hz=None))
    assert out.shape == (12, 256) and out.dtype == np.float32
    np.testing.assert_allclose(out, resample_poly(sines, 1, 5, axis=-1)[:, :256], atol=1e-6)  # scipy reference
    # amplitudes in mV survive: lead k peaks at (k + 1) / 10 mV (away from the resampler's edge)
    np.testing.assert_allclose(np.abs(out[:, 20:]).max(axis=1), 0.1 * np.arange(1, 13), rtol=0.01)


@pytest.mark.parametrize("change, message", [
    (lambda s, leads: (s[:11], leads[:11]), "lacks lead"),
    (lambda s, leads: (s[:, :1000], leads), "shorter than"),
    (lambda s, leads: (np.where(np.arange(s.shape[1]) == 7, np.nan, s), leads), "non-finite"),
])
def test_preprocess_refuses_unusable_records(change, message):
    signal, leads = change(np.zeros((12, 5000)), STANDARD_12)
    with pytest.raises(UnusableRecordError, match=message):
        preprocess(Recording(signal=signal, fs=500.0, leads=tuple(leads), name="bad"), ECGWindow())


def test_every_record_once_across_2_ranks_x_2_workers(env_data):
    paths, seen = env_data, []
    for rank in range(2):
        ds = StreamingECGDataset(paths, 2, window=WINDOW, seed=SEED, rank=rank, world_size=2)
        ds.set_epoch(1)
        planned = [p for b in ds.rank_batches() for p in b]
        by_worker = [[p for b in ds.worker_batches(w, 2) for p in b] for w in range(2)]
        assert not set(by_worker[0]) & set(by_worker[1])  # workers disjoint
        seen += planned
        # what two DataLoader worker processes yield, in order, is the rank's planned records
        got = torch.cat(list(DataLoader(ds, batch_size=None, num_workers=2))).numpy()
        want = np.stack([preprocess(load_mimic_ecg(p), WINDOW) for p in planned])
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
    ds = StreamingECGDataset(paths, 3, window=WINDOW, seed=SEED, world_size=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = torch.cat(list(ds))
    skipped = [str(w.message) for w in caught if issubclass(w.category, UnreadableRecordWarning)]
    assert rows.shape == (5, 12, WINDOW.n_samples) and ds.skipped == 2
    assert len(skipped) == 2 and "(1 skipped so far" in skipped[0] and "(2 skipped so far" in skipped[1]
    assert any("missing" in s for s in skipped) and any("truncated" in s for s in skipped)


class TinyConvAutoencoder(nn.Module):
    """A test stand-in with the world model's autoencoder interface (encode, decode, loss)."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv1d(12, 16, 8, stride=4, padding=2), nn.GELU(),
                                     nn.Conv1d(16, 8, 8, stride=4, padding=2))
        self.decoder = nn.Sequential(nn.ConvTranspose1d(8, 16, 8, stride=4, padding=2), nn.GELU(),
                                     nn.ConvTranspose1d(16, 12, 8, stride=4, padding=2))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        return nn.functional.mse_loss(self.decode(self.encode(batch)), batch)


CONFIG = dict(epochs=2, lr=1e-2, seed=SEED)  # 22 records, global batch 4: 5 steps per epoch, 10 in all


def run(paths, env: DistEnv, batch_size: int, out, num_workers: int = 0):
    torch.manual_seed(SEED)
    model = TinyConvAutoencoder()
    ds = StreamingECGDataset(paths, batch_size, window=WINDOW, seed=SEED, drop_last=True,
                             rank=env.rank, world_size=env.world_size)
    return train(model, ds, DDPConfig(batch_size=batch_size, num_workers=num_workers, **CONFIG), env, out)


def ddp_worker(rank: int, port: int, data: str, paths: list[str], out: str) -> None:
    """One of 2 gloo ranks (started by torch.multiprocessing.spawn), as torchrun would start it."""
    import multiprocessing
    import os

    torch.set_num_threads(1)
    # torchrun execs its ranks, whose DataLoader workers fork; a rank started by mp.spawn would spawn
    # them (re-importing everything, ~5 s each on 2 cores), so fork as under torchrun
    multiprocessing.set_start_method("fork", force=True)
    os.environ |= {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
                   "LOCAL_RANK": str(rank), "WORLD_SIZE": "2", "ECGWM_DATA": data}
    env = init_distributed("gloo")
    result = run(paths, env, 2, out, num_workers=2)  # per-rank batch 2 x 2 ranks
    with open(f"{out}/losses-rank{rank}.json", "w") as f:
        json.dump(result.losses, f)
    shutdown(env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_on_2_gloo_ranks_matches_one_process_on_the_same_global_batch(env_data, mimic, tmp_path):
    torch.set_num_threads(1)
    single = run(env_data, DistEnv(0, 0, 1, torch.device("cpu"), None), 4, tmp_path / "one")
    mp.spawn(ddp_worker, args=(free_port(), str(mimic[0]), env_data, str(tmp_path / "two")), nprocs=2)
    ranks = [json.loads((tmp_path / "two" / f"losses-rank{r}.json").read_text()) for r in range(2)]
    assert len(single.losses) == len(ranks[0]) == 10 and ranks[0] == ranks[1]
    assert single.losses[-1] < 0.5 * single.losses[0]  # it trains
    # same loss curve within 1e-5 relative: only the order of float32 sums differs
    np.testing.assert_allclose(ranks[0], single.losses, rtol=1e-5)
    # the tolerance can fail: the per-rank batch alone (no gradient averaging) gives another curve
    alone = run(env_data, DistEnv(0, 0, 1, torch.device("cpu"), None), 2, None)
    assert np.abs(np.array(alone.losses[:4]) / single.losses[:4] - 1).max() > 1e-2
    # rank 0 wrote the checkpoint: weights equal the single process's, config says 2 ranks
    config = json.loads((tmp_path / "two" / "config.json").read_text())
    assert config["world_size"] == 2 and config["global_batch_size"] == 4 and config["steps"] == 10
    two, one = load_file(tmp_path / "two" / "model.safetensors"), load_file(tmp_path / "one" / "model.safetensors")
    assert two.keys() == one.keys()
    for name in one:
        torch.testing.assert_close(two[name], one[name], rtol=1e-4, atol=1e-5)
