"""Collect only the notebooks listed in _toc.yml (nbval) besides tests/."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent


def toc_files() -> list[str]:
    """Files named in _toc.yml (without extension), root first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            for part in entry.get("parts", []):
                walk(part.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


def pytest_ignore_collect(collection_path, config):
    if collection_path.suffix == ".ipynb":
        listed = {(ROOT / f).with_suffix(".ipynb") for f in toc_files()}
        return collection_path.resolve() not in listed
    return None
