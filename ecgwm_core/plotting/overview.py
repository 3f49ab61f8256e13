"""The method-overview diagram of ECG-WM, drawn with matplotlib (a schematic, no data).

The flow follows the paper's public description: the pre-intervention ECG is
encoded to a latent, a diffusion model conditioned on the action generates the
post-intervention latent while an energy term pulls its clean estimate towards
an ODE anchor, the decoder turns samples into post-intervention ECG rollouts,
and their clinical risk (mean and spread) ranks the candidate actions that a
proposer suggested.
"""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

FONT_PT = 9.0
"""Smallest font size of the diagram (the book's minimum)."""


@dataclass(frozen=True)
class Box:
    """One block of the diagram: centre (x, y) and size in axes units (0-10 × 0-6)."""

    key: str
    label: str
    x: float
    y: float
    width: float = 1.55
    height: float = 0.9
    colour: str = "#e8eef7"


BOXES = (
    Box("pre", "pre-ECG\n$x_t$", 0.85, 3.2, colour="#fdecea"),
    Box("encoder", "encoder\n$E$", 2.55, 3.2),
    Box("diffusion", "latent diffusion\n$p_\\theta(z_{t+1}\\mid z_t, a)$", 4.85, 3.2, 2.2),
    Box("decoder", "decoder\n$D$", 7.1, 3.2, 1.3),
    Box("rollouts", "post-ECG\nrollouts $\\hat x^{(k)}_{t+1}$", 9.05, 3.2, 1.7, colour="#fdecea"),
    Box("ode", "ODE anchor\n(McSharry prior)", 4.85, 5.2, 2.2, colour="#eaf5e9"),
    Box("risk", "risk\nmean ± spread", 9.05, 0.8, 1.6, colour="#fff4d6"),
    Box("ranking", "ranking\n(mean-variance)", 7.05, 0.8, 1.8, colour="#fff4d6"),
    Box("proposer", "proposer\n(candidate drugs)", 4.85, 0.8, 1.8, colour="#f1e8f7"),
)
"""The blocks, left to right along the data flow."""

ARROWS = (
    ("pre", "encoder", ""),
    ("encoder", "diffusion", "$z_t$"),
    ("diffusion", "decoder", "$z_{t+1}$"),
    ("decoder", "rollouts", ""),
    ("rollouts", "risk", "$K$ samples"),
    ("risk", "ranking", ""),
    ("proposer", "ranking", "$\\{a_i\\}$"),
    ("proposer", "diffusion", "action $a$"),
)
"""Directed edges (from, to, label); the energy coupling is drawn separately."""


def _sides(box: Box) -> dict[str, tuple[float, float]]:
    return {
        "left": (box.x - box.width / 2, box.y), "right": (box.x + box.width / 2, box.y),
        "top": (box.x, box.y + box.height / 2), "bottom": (box.x, box.y - box.height / 2),
    }


def _anchor_points(a: Box, b: Box) -> tuple[tuple[float, float], tuple[float, float]]:
    """Start and end points on the facing sides of two boxes."""
    dx, dy = b.x - a.x, b.y - a.y
    if abs(dx) >= abs(dy) * 1.5:
        start, end = ("right", "left") if dx > 0 else ("left", "right")
    else:
        start, end = ("top", "bottom") if dy > 0 else ("bottom", "top")
    return _sides(a)[start], _sides(b)[end]


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], label: str = "",
           style: str = "-|>", colour: str = "0.2") -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, lw=1.2,
                                 color=colour, shrinkA=2, shrinkB=2))
    if label:
        xm, ym = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        vertical = abs(end[0] - start[0]) < abs(end[1] - start[1])
        ax.text(xm + (0.12 if vertical else 0.0), ym + (0.0 if vertical else 0.14), label,
                fontsize=FONT_PT, ha="left" if vertical else "center",
                va="center" if vertical else "bottom", color=colour)


def _schematic_beat(ax: Axes, box: Box) -> None:
    """A stylised beat (sum of Gaussians, schematic only) above a box."""
    t = np.linspace(-1.0, 1.0, 200)
    waves = ((-0.6, 0.08, 0.15), (-0.08, 0.03, -0.1), (0.0, 0.03, 1.0), (0.08, 0.03, -0.2),
             (0.5, 0.12, 0.3))
    v = sum(a * np.exp(-((t - c) ** 2) / (2 * w**2)) for c, w, a in waves)
    ax.plot(box.x + t * box.width * 0.35, box.y + box.height / 2 + 0.35 + v * 0.3,
            color="#c0392b", lw=1.0)


def plot_method_overview() -> Figure:
    """Draw ECG-WM's method overview: blocks, data flow and the energy coupling (schematic).

    Returns
    -------
    Figure
        A 7 × 4.4 in figure with one axes (no data axes; coordinates 0-10 × 0-6),
        every text at least 9 pt.
    """
    fig, ax = plt.subplots(figsize=(7.0, 4.4))
    ax.set_xlim(0, 10)
    ax.set_ylim(0.2, 5.9)
    ax.axis("off")
    boxes = {b.key: b for b in BOXES}
    for b in BOXES:
        ax.add_patch(FancyBboxPatch((b.x - b.width / 2, b.y - b.height / 2), b.width, b.height,
                                    boxstyle="round,pad=0.04", fc=b.colour, ec="0.3", lw=1.0))
        ax.text(b.x, b.y, b.label, ha="center", va="center", fontsize=FONT_PT)
    for key in ("pre", "rollouts"):
        _schematic_beat(ax, boxes[key])
    for src, dst, label in ARROWS:
        _arrow(ax, *_anchor_points(boxes[src], boxes[dst]), label)
    diffusion, ode = boxes["diffusion"], boxes["ode"]
    _arrow(ax, _sides(ode)["bottom"], _sides(diffusion)["top"], style="<|-|>", colour="#1e7b34",
           label="energy $\\lambda(\\tau)\\,\\|\\hat z_0 - z_{\\mathrm{ODE}}\\|^2$")
    ax.set_title("ECG-WM method overview (schematic, reconstructed from the public description)",
                 fontsize=FONT_PT + 1)
    fig.tight_layout()
    return fig
