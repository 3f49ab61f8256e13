"""Contracts nobody checked before: seeds change what they should and nothing else, rendering and splits
are reproducible, and ``ecgwm data twins`` fails with one line and exit status 2 on bad input."""
import numpy as np
import pytest
import torch

from ecgwm_core.data import load_clinical_table, paired_samples, split_by_subject, subject_folds
from ecgwm_core.data.registry import BUNDLED_ROOT
from ecgwm_core.ode import simulate

TABLE = BUNDLED_ROOT / "ecgrdvq" / "SCR-002.Clinical.Data.csv"


def test_the_seed_drives_the_rr_process_and_nothing_else():
    # with a constant RR nothing random is left: any seed gives the same ECG
    a, b = (simulate(n=2, duration_s=4, leads="12", hr_std=0, seed=s) for s in (1, 2))
    assert torch.equal(a.signal, b.signal)
    # with variability the seed changes the RR ...
    c, d = (simulate(n=2, duration_s=4, hr_std=3, seed=s) for s in (1, 2))
    assert not torch.equal(c.rr, d.rr)
    # ... and only the RR: the same RR gives the same ECG whatever the seed
    for sim in (c, d):
        for seed in (0, 99):
            assert torch.equal(simulate(n=2, duration_s=4, rr=sim.rr, seed=seed).signal, sim.signal)
    # member i depends on (seed, i) only, not on how many are drawn with it
    one, five = simulate(n=1, duration_s=4, hr_std=3, seed=5), simulate(n=5, duration_s=4, hr_std=3, seed=5)
    k = one.rr.shape[1]
    assert torch.equal(one.rr[0], five.rr[0, :k])


def test_rendering_is_reproducible_and_seeded_per_ecg():
    """SEMI-SYNTHETIC twins: the same rows render bit-identically; each ECG's noise is seeded by its EGREFID."""
    from ecgwm_core.synthetic import render_twins

    kept = load_clinical_table().kept
    rows = kept[kept["RANDID"] == 1001].head(3)
    first, table = render_twins(rows, progress=False)
    again, _ = render_twins(rows, progress=False)
    np.testing.assert_array_equal(first, again)
    assert list(table["EGREFID"]) == list(rows["EGREFID"])
    clean, _ = render_twins(rows, noise=False, progress=False)
    noise = first - clean
    assert not np.allclose(noise[0], noise[1])  # different ECGs, different noise
    assert 0.003 < noise.std() < 0.3  # mV: noise is there, and small next to the ECG


def test_splits_are_reproducible_and_depend_on_the_subjects_only():
    pairs = paired_samples(load_clinical_table().kept)
    shuffled = pairs.sample(frac=1.0, random_state=0)
    a, b, c = split_by_subject(pairs, seed=3), split_by_subject(shuffled, seed=3), split_by_subject(pairs, seed=4)
    for part in a:
        assert set(a[part]["RANDID"]) == set(b[part]["RANDID"])  # row order does not matter
        assert a[part].equals(split_by_subject(pairs, seed=3)[part])
    assert any(set(a[p]["RANDID"]) != set(c[p]["RANDID"]) for p in a)
    folds, again = subject_folds(pairs, k=4, seed=1), subject_folds(shuffled, k=4, seed=1)
    for (train, test), (train2, test2) in zip(folds, again):
        assert set(train) == set(train2) and set(test) == set(test2)


def _twins(capsys, *args: str) -> tuple[int, str, str]:
    """``ecgwm data twins ARGS --quiet`` through the console script's entry point (in-process, fast)."""
    from ecgwm_core.cli import main

    status = main(["data", "twins", *args, "--quiet"])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing table", "does not exist"),
        ("not a table", "column"),
        ("header only", "no rows"),
        ("out is a file", "is a file, not a folder"),
    ],
)
def test_data_twins_error_paths(tmp_path, capsys, case, message):
    """Bad input: one line on stderr naming the problem, exit status 2, no traceback, nothing written."""
    table, out = tmp_path / "table.csv", tmp_path / "twins"
    header = TABLE.read_text().splitlines()[0]
    args = ["--table", str(table), "--out", str(out)]
    if case == "missing table":
        args[1] = str(tmp_path / "nope.csv")
    elif case == "not a table":
        table.write_text("a,b\n1,2\n")
    elif case == "header only":
        table.write_text(header + "\n")
    else:
        table.write_text("\n".join(TABLE.read_text().splitlines()[:2]) + "\n")
        out.write_text("a file, not a folder")
        args[3] = str(out)
    status, out_text, err_text = _twins(capsys, *args)
    assert status == 2, err_text
    lines = err_text.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ecgwm data twins: error: "), err_text
    assert message in lines[0], lines[0]
    assert "Traceback" not in err_text and out_text == ""
    if case != "out is a file":
        assert not out.exists()
