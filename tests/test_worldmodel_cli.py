"""``ecgwm train`` / ``ecgwm rollout``: input errors give one line and exit 2; a rollout writes its npz."""
import numpy as np
import pytest

from ecgwm_core.cli import main
from ecgwm_core.cli.train import CONFIG_NAMES, SCHEDULES
from ecgwm_core.worldmodel.config import CONFIGS, WEIGHT_SCHEDULES


def test_cli_choices_are_the_library_names():
    assert CONFIG_NAMES == tuple(CONFIGS) and SCHEDULES == WEIGHT_SCHEDULES


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from test_worldmodel import _tiny_model

    return str(_tiny_model().save(tmp_path_factory.mktemp("ck") / "tiny"))


@pytest.mark.parametrize("args, message", [
    (["--drug", "aspirin", "--dose", "500", "ug", "--hours", "2"], "unknown drug"),
    (["--drug", "dofetilide", "--dose", "500", "grains", "--hours", "2"], "unknown dose unit"),
    (["--drug", "dofetilide", "--dose", "500", "ug", "--hours", "60"], "0-48"),
    (["--drug", "dofetilide", "--dose", "500", "ug", "--hours", "2", "--subject", "999"], "no pre-dose ECG"),
    (["--drug", "dofetilide", "--dose", "500", "ug", "--hours", "2", "--guidance", "-1"], "--guidance"),
])
def test_rollout_input_errors(checkpoint, tmp_path, capsys, args, message):
    base = ["rollout", "--checkpoint", checkpoint, "--out", str(tmp_path / "r.npz")]
    if "--subject" not in args:
        base += ["--subject", "1001"]
    assert main(base + args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ecgwm rollout: error:") and message in err and "\n" not in err


def test_rollout_missing_checkpoint(tmp_path, capsys):
    code = main(["rollout", "--checkpoint", str(tmp_path / "none"), "--subject", "1001", "--drug", "dofetilide",
                 "--dose", "500", "ug", "--hours", "2", "--out", str(tmp_path / "r.npz")])
    assert code == 2 and "missing" in capsys.readouterr().err


def test_train_bad_lambda(tmp_path, capsys):
    assert main(["train", "--lambda0", "-1", "--out", str(tmp_path / "m")]) == 2
    assert "lambda0 must be >= 0" in capsys.readouterr().err


def test_rollout_writes_npz_and_plot(checkpoint, tmp_path, capsys):
    out, png = tmp_path / "r.npz", tmp_path / "r.png"
    assert main(["rollout", "--checkpoint", checkpoint, "--subject", "1001", "--drug", "dofetilide", "--dose", "500",
                 "ug", "--hours", "2.5", "--samples", "4", "--out", str(out), "--plot", str(png)]) == 0
    printed = capsys.readouterr().out
    assert "subject 1001" in printed and "wrote" in printed
    with np.load(out, allow_pickle=False) as f:
        assert f["beats"].shape[0] == 4 and f["table_qtcf_ms"].shape == (4,) and "table_dqtcf_ms" in f
    assert png.stat().st_size > 10_000
