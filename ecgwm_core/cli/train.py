"""``ecgwm train``: train the world model (autoencoder + latent diffusion) and write a checkpoint folder."""
from __future__ import annotations

import argparse
import sys

CONFIG_NAMES = ("quick", "paper")
SCHEDULES = ("alpha_bar", "snr_clipped", "constant", "high_noise")
"""Literal copies of worldmodel.config's names, so ``ecgwm --help`` does not import torch (a test checks them)."""


def _train(args: argparse.Namespace) -> int:
    from ..data import MalformedTableError, load_clinical_table
    from ..worldmodel import default_split, get_config, train
    from .output import checked_folder

    checked_folder(args.out)
    try:
        changes = {k: v for k, v in (("lambda0", args.lambda0), ("weight_schedule", args.schedule)) if v is not None}
        config = get_config(args.config, **changes)
        kept = load_clinical_table(args.table).kept
        subjects = None if args.all_subjects else default_split(kept)[0]
        model = train(config, kept, subjects, out=args.out, resume=args.resume, progress=not args.quiet)
    except (ValueError, MalformedTableError, FileNotFoundError) as err:
        print(f"ecgwm train: error: {err}", file=sys.stderr)
        return 2
    timings = ", ".join(f"{k[:-2]} {v:.0f} s" for k, v in model.meta["timings_s"].items())
    print(f"trained {config.name} (lambda0={config.diffusion.lambda0}, {config.diffusion.weight_schedule}) on "
          f"{len(model.meta['subjects'])} subjects, {model.meta['n_pairs']} pairs ({timings}); wrote {args.out}")
    return 0


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ecgwm train``."""
    p = sub.add_parser("train", help="train the world model on the SEMI-SYNTHETIC twins of the trial table")
    p.add_argument("--config", choices=CONFIG_NAMES, default="quick", help="configuration (default quick)")
    p.add_argument("--lambda0", type=float, help="energy weight λ0 toward the ODE anchor (0: no prior)")
    p.add_argument("--schedule", choices=SCHEDULES, help="energy weight schedule w(t)")
    p.add_argument("--resume", action="store_true", help="reuse a finished autoencoder / partial diffusion in --out")
    p.add_argument("--table", help="SCR-002 CSV (default: the bundled table or $ECGWM_DATA)")
    p.add_argument("--all-subjects", action="store_true",
                   help="train on every subject (default: the 12 training subjects of fold 0, 4 held out)")
    p.add_argument("--out", required=True, help="checkpoint folder")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=_train)
