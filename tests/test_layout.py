"""The package's shape: dependencies flow one way, and the old top-level modules are gone."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import ecgwm_core

PACKAGE = Path(ecgwm_core.__file__).resolve().parent
LAYERS = {
    "signal": 0, "data": 0, "plotting": 0,
    "ode": 1,
    "actions": 2, "synthetic": 2,
    "worldmodel": 3,
    "evaluation": 4, "risk": 4,
    "figures": 5, "cli": 5,
}
"""``signal, data, plotting -> ode -> actions, synthetic -> worldmodel -> evaluation, risk -> figures, cli``:
a module may import from its own layer or a lower one (book/conventions.md)."""


def _component(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "ecgwm_core" else None


def _imports(path: Path, module: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module name) of every ecgwm_core import in ``path``, top level or inside functions.

    ``module`` is the file's dotted name (default: from its place in the package).
    """
    module = module or ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            targets = [name] if node.module else [f"{name}.{alias.name}" for alias in node.names]
            found += [(node.lineno, t) for t in targets]
    return [(line, name) for line, name in found if name.startswith("ecgwm_core")]


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "datasets" not in p.parts)


def test_every_component_has_a_layer():
    components = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in SOURCES} - {"__init__"}
    assert components <= set(LAYERS), f"add {sorted(components - set(LAYERS))} to LAYERS and to book/conventions.md"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_never_run_upward(path):
    own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    if own == "__init__":
        return
    upward = [f"line {line}: {name}" for line, name in _imports(path)
              if _component(name) in LAYERS and LAYERS[_component(name)] > LAYERS[own]]
    assert not upward, f"{own} (layer {LAYERS[own]}) imports from a higher layer: {upward}"


def test_the_checker_sees_an_upward_import(tmp_path):
    """The test above can fail: a module of ode importing from worldmodel is reported."""
    probe = tmp_path / "probe.py"
    probe.write_text("import numpy\n\ndef f():\n    from ..worldmodel import config\n")
    assert _imports(probe, "ecgwm_core.ode.probe") == [(4, "ecgwm_core.worldmodel")]
    assert LAYERS["worldmodel"] > LAYERS["ode"]


@pytest.mark.parametrize("old", ["trial", "trialplots", "ecgpaper", "cli_pkpd", "cli_simulate"])
def test_old_top_level_modules_are_gone(old):
    assert not (PACKAGE / f"{old}.py").exists()
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(f"ecgwm_core.{old}")


def test_new_homes_import():
    for name in ("ecgwm_core.cli", "ecgwm_core.data.trial", "ecgwm_core.data.plots", "ecgwm_core.plotting",
                 "ecgwm_core.data.vocabulary", "ecgwm_core.signal.intervals", "ecgwm_core.ode.render"):
        importlib.import_module(name)
