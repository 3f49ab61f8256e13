"""Colours shared by every figure of the book."""

DRUG_COLOURS = {
    "Placebo": "0.45",
    "Dofetilide": "#d62728",
    "Quinidine Sulph": "#9467bd",
    "Ranolazine": "#2ca02c",
    "Verapamil HCL": "#1f77b4",
}
"""One colour per ECGRDVQ treatment, used in every chapter."""
