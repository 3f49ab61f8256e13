"""Plotting shared by every component: ECG paper (grid, 12-lead layout) and the drug colours.

A leaf of the package (matplotlib and numpy only), so that the plots of every
layer can use it without an upward import.
"""
from .colors import DRUG_COLOURS
from .ecgpaper import MM_PER_MV, MM_PER_S, paper_axes, plot_12lead, plot_strip

__all__ = ["DRUG_COLOURS", "MM_PER_MV", "MM_PER_S", "paper_axes", "plot_12lead", "plot_strip"]
