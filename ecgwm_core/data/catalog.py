"""A catalogue of the bundled data sets for ``ecgwm data info``."""
from __future__ import annotations

from .ecgrdvq import load_clinical_table
from .registry import DATASETS, resolve


def _size_bytes(key: str) -> int:
    return sum(resolve(key, name).stat().st_size for name in DATASETS[key].bundled)


def _contents(key: str) -> str:
    if key == "ecgrdvq":
        table = load_clinical_table()
        s = table.summary()
        return f"{s['rows']} rows (ECGs), {s['subjects']} subjects"
    records = sorted({name.rsplit(".", 1)[0] for name in DATASETS[key].bundled})
    return f"{len(records)} record(s): {', '.join(records)}"


def dataset_info() -> list[dict]:
    """One entry per bundled data set: key, title, files used, size, contents, licence, citation.

    Returns
    -------
    list of dict
        Keys ``key``, ``title``, ``path`` (folder the files are read from),
        ``size_bytes``, ``contents`` (rows or records), ``licence``, ``citation``, ``url``.
    """
    info = []
    for key, ds in DATASETS.items():
        if not ds.bundled:
            continue
        info.append(
            {
                "key": key,
                "title": ds.title,
                "path": str(resolve(key, ds.bundled[0]).parent),
                "size_bytes": _size_bytes(key),
                "contents": _contents(key),
                "licence": ds.licence,
                "citation": ds.citation,
                "url": ds.url,
            }
        )
    return info
