"""Point the book's launch buttons (Binder, repository link) at a repository and branch.

``_config.yml``'s ``repository:`` block is the single place that names the
repository. This script rewrites its ``url`` and ``branch`` lines in place
(comments and everything else untouched) from the environment:

- ``ECGWM_REPOSITORY_URL``: ``https://github.com/OWNER/NAME`` (in GitHub
  Actions the default is the repository the workflow runs in);
- ``ECGWM_REPOSITORY_BRANCH``: the branch Binder checks out (default: the
  workflow's branch, else ``main``).

Usage: ``python .github/set_repository.py [--config _config.yml]``; exits 2
with a one-line message on a bad URL or a config without a repository block.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

GITHUB_URL = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
"""Jupyter Book 1.x aborts on other hosts unless ``repository_provider`` is set."""


def wanted(env: dict[str, str]) -> tuple[str | None, str | None]:
    """(url, branch) requested by the environment; None where nothing is requested."""
    url = env.get("ECGWM_REPOSITORY_URL")
    if not url and env.get("GITHUB_REPOSITORY"):
        url = f"{env.get('GITHUB_SERVER_URL', 'https://github.com')}/{env['GITHUB_REPOSITORY']}"
    branch = env.get("ECGWM_REPOSITORY_BRANCH") or env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME")
    return url, branch


def rewrite(text: str, url: str | None, branch: str | None) -> str:
    """``text`` (a _config.yml) with the repository block's url and branch replaced.

    Raises
    ------
    ValueError
        If the URL is not ``https://github.com/OWNER/NAME``, the branch is
        empty or has spaces, or the text has no ``repository:`` block with
        ``url:`` and ``branch:`` lines.
    """
    if url is not None and not GITHUB_URL.match(url.rstrip("/")):
        raise ValueError(f"ECGWM_REPOSITORY_URL must look like https://github.com/OWNER/NAME; got {url!r}")
    if branch is not None and (not branch or re.search(r"\s", branch)):
        raise ValueError(f"ECGWM_REPOSITORY_BRANCH must be a branch name without spaces; got {branch!r}")
    block = re.search(r"^repository:\n((?:[ \t]+.*\n?)+)", text, re.MULTILINE)
    if not block or not re.search(r"^\s+url:", block.group(1), re.MULTILINE) \
            or not re.search(r"^\s+branch:", block.group(1), re.MULTILINE):
        raise ValueError("no 'repository:' block with 'url:' and 'branch:' lines in the config")
    body = block.group(1)
    if url is not None:
        body = re.sub(r"^(\s+url:).*$", lambda m: f"{m.group(1)} {url.rstrip('/')}", body, count=1, flags=re.MULTILINE)
    if branch is not None:
        body = re.sub(r"^(\s+branch:).*$", lambda m: f"{m.group(1)} {branch}", body, count=1, flags=re.MULTILINE)
    return text[: block.start(1)] + body + text[block.end(1):]


def main(argv: list[str] | None = None) -> int:
    """Rewrite the config named by ``--config`` from the environment; print the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path(__file__).resolve().parent.parent / "_config.yml")
    args = parser.parse_args(argv)
    url, branch = wanted(dict(os.environ))
    try:
        text = args.config.read_text()
        args.config.write_text(rewrite(text, url, branch))
    except (OSError, ValueError) as error:
        print(f"set_repository: {error}", file=sys.stderr)
        return 2
    shown = re.search(r"^repository:\n((?:[ \t]+.*\n?)+)", args.config.read_text(), re.MULTILINE).group(1)
    print(f"{args.config}: repository\n{shown.rstrip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
