"""The pinned set is one: requirements.txt, environment.yml (Binder) and pyproject agree."""
import re
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def pins() -> dict[str, str]:
    out = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            out[name.lower()] = version
    return out


def conda_pip_pins() -> tuple[dict[str, str], list[str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    out, options = {}, []
    for entry in pip_section:
        if entry.startswith("-"):
            options.append(entry)
            continue
        name, version = entry.split("==")
        out[name.lower()] = version
    return out, options


def test_environment_yml_matches_requirements():
    conda, _ = conda_pip_pins()
    pinned = pins()
    assert set(conda) == set(pinned)
    for name, version in pinned.items():
        # Binder's torch is the same release from the CPU index ("+cpu" local label)
        assert conda[name].split("+")[0] == version, name


def test_binder_gets_cpu_torch():
    conda, options = conda_pip_pins()
    assert conda["torch"].endswith("+cpu")
    assert any("download.pytorch.org/whl/cpu" in o for o in options)
    assert "-e ." in options
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]


def test_torch_is_pinned_below_the_cuda_default_everywhere():
    assert pins()["torch"] == "2.13.0"
    pyproject = (ROOT / "pyproject.toml").read_text()
    torch_spec = next(Requirement(s) for s in re.findall(r'"(torch[^"]*)"', pyproject))
    assert "2.13.0" in torch_spec.specifier and "2.14.0" not in torch_spec.specifier


def test_every_pin_is_installed_at_that_version():
    from importlib.metadata import version

    for name, pinned in pins().items():
        assert version(name).split("+")[0] == pinned, name
