"""Real data: the bundled PhysioNet files, their loaders and the catalogue."""
from .catalog import dataset_info
from .layouts import (
    iter_ecgrdvq_ecgs, load_ecgrdvq_ecg, load_mimic_ecg, load_mimic_measurements, load_mimic_record_list,
)
from .ecgrdvq import ClinicalTable, MalformedTableError, load_clinical_table
from .pairs import paired_samples, split_by_subject, subject_folds
from .records import Recording, load_mitdb, load_ptb
from .registry import DATASETS, DataNotFoundError, resolve
from .vocabulary import ACTIVE_DRUGS, DRUGS, MEASUREMENTS, PLACEBO, STANDARD_12, active_drugs

__all__ = [
    "ACTIVE_DRUGS",
    "DRUGS",
    "MEASUREMENTS",
    "PLACEBO",
    "active_drugs",
    "DATASETS",
    "STANDARD_12",
    "ClinicalTable",
    "DataNotFoundError",
    "MalformedTableError",
    "Recording",
    "dataset_info",
    "iter_ecgrdvq_ecgs",
    "load_ecgrdvq_ecg",
    "load_mimic_ecg",
    "load_mimic_measurements",
    "load_mimic_record_list",
    "load_clinical_table",
    "load_mitdb",
    "load_ptb",
    "paired_samples",
    "split_by_subject",
    "subject_folds",
    "resolve",
]
