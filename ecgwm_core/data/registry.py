"""Where the real data sets live: the bundled copies or a user's full downloads.

Each data set is described once in :data:`DATASETS`. :func:`resolve` finds a
file of it, first under ``$ECGWM_DATA`` (a folder holding full PhysioNet
downloads, with or without the ``1.0.0/`` version folder), then among the
copies bundled in ``ecgwm_core/datasets``. A file that is in neither place
raises :class:`DataNotFoundError`, naming the file and how to get it (in one
line, as the command line prints it). An ``$ECGWM_DATA`` that is not an
existing folder is an error too, never a silent fall-back.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

BUNDLED_ROOT = Path(__file__).resolve().parent.parent / "datasets"
ENV_VAR = "ECGWM_DATA"


class DataNotFoundError(FileNotFoundError):
    """A data file is neither under ``$ECGWM_DATA`` nor bundled."""


@dataclass(frozen=True)
class Dataset:
    """One PhysioNet data set the project reads.

    Attributes
    ----------
    key : folder name under the data root (PhysioNet's slug).
    title : full name of the data set.
    url : PhysioNet landing page (for the user to download it; never fetched).
    licence : licence of the data.
    citation : the reference to cite.
    bundled : files shipped with the package, relative to the data set folder
        (empty for data sets read only from ``$ECGWM_DATA``).
    """

    key: str
    title: str
    url: str
    licence: str
    citation: str
    bundled: tuple[str, ...]


ODC_BY = "Open Data Commons Attribution License v1.0 (ODC-By 1.0)"

DATASETS: dict[str, Dataset] = {
    "ecgrdvq": Dataset(
        key="ecgrdvq",
        title="ECG Effects of Ranolazine, Dofetilide, Verapamil, and Quinidine (ECGRDVQ)",
        url="https://physionet.org/content/ecgrdvq/1.0.0/",
        licence=ODC_BY,
        citation=(
            "Johannesen L, et al. Differentiating drug-induced multichannel block on the "
            "electrocardiogram. Clin Pharmacol Ther 2014;96(5):549-558."
        ),
        bundled=("SCR-002.Clinical.Data.csv",),
    ),
    "ptbdb": Dataset(
        key="ptbdb",
        title="PTB Diagnostic ECG Database",
        url="https://physionet.org/content/ptbdb/1.0.0/",
        licence=ODC_BY,
        citation=(
            "Bousseljot R, Kreiseler D, Schnabel A. Nutzung der EKG-Signaldatenbank "
            "CARDIODAT der PTB über das Internet. Biomed Tech 1995;40(S1):317."
        ),
        bundled=(
            "patient001/s0010_re.hea",
            "patient001/s0010_re.dat",
            "patient001/s0010_re.xyz",
        ),
    ),
    "mitdb": Dataset(
        key="mitdb",
        title="MIT-BIH Arrhythmia Database",
        url="https://physionet.org/content/mitdb/1.0.0/",
        licence=ODC_BY,
        citation=(
            "Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. "
            "IEEE Eng Med Biol 2001;20(3):45-50."
        ),
        bundled=("100.hea", "100.dat", "100.atr"),
    ),
    "mimic-iv-ecg": Dataset(
        key="mimic-iv-ecg",
        title="MIMIC-IV-ECG: Diagnostic Electrocardiogram Matched Subset",
        url="https://physionet.org/content/mimic-iv-ecg/1.0/",
        licence="Open Data Commons Open Database License v1.0 (ODbL 1.0)",
        citation=(
            "Gow B, Pollard T, Nathanson LA, et al. MIMIC-IV-ECG: Diagnostic Electrocardiogram "
            "Matched Subset (version 1.0). PhysioNet 2023."
        ),
        bundled=(),
    ),
}


def _dataset(key: str) -> Dataset:
    try:
        return DATASETS[key]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise ValueError(f"unknown data set {key!r}; known data sets: {known}") from None


def candidate_dirs(key: str) -> list[Path]:
    """Folders searched for data set ``key``, in order of preference.

    Under ``$ECGWM_DATA`` both ``<root>/<key>/<version>`` (as ``wget -r`` from
    PhysioNet leaves it: ``1.0.0`` or ``1.0``) and ``<root>/<key>`` are tried;
    the bundled copy comes last.

    Raises
    ------
    DataNotFoundError
        If ``$ECGWM_DATA`` is set but is not an existing folder (a typo must
        not silently fall back to the bundled copies).
    """
    _dataset(key)
    dirs: list[Path] = []
    root = os.environ.get(ENV_VAR)
    if root:
        base = Path(root).expanduser()
        if not base.is_dir():
            raise DataNotFoundError(
                f"{ENV_VAR}={root} is not an existing folder; set it to the folder that holds your PhysioNet "
                f"downloads ({', '.join(k + '/' for k in DATASETS)}) or unset it to use the bundled copies"
            )
        dirs += [base / key / "1.0.0", base / key / "1.0", base / key]
    dirs.append(BUNDLED_ROOT / key)
    return dirs


def resolve(key: str, relative: str) -> Path:
    """Path of ``relative`` inside data set ``key``.

    Parameters
    ----------
    key : data set key, e.g. ``"ptbdb"``.
    relative : path inside the data set, e.g. ``"patient001/s0010_re.hea"``.
        For PTB and MIT-BIH, a file directly in the data set folder is also
        accepted (``s0010_re.hea``) so flat copies work.

    Raises
    ------
    DataNotFoundError
        If the file is in none of :func:`candidate_dirs`; the message names the
        file, the folders searched and where to download the data set.
    """
    dataset = _dataset(key)
    searched = candidate_dirs(key)
    for folder in searched:
        for candidate in (folder / relative, folder / Path(relative).name):
            if candidate.is_file():
                return candidate
    where = ", ".join(str(d) for d in searched)
    hint = (
        f"Download {dataset.title} from {dataset.url} and set {ENV_VAR} to the folder "
        f"that holds '{key}/'"
    )
    if not os.environ.get(ENV_VAR):
        hint += f" ({ENV_VAR} is not set now)"
    raise DataNotFoundError(f"data file '{key}/{relative}' not found (searched {where}). {hint}.")
