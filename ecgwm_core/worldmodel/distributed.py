"""Distributed data-parallel (DDP) training of the world model, for use under ``torchrun``.

The same model code that trains on one CPU trains on many GPUs and machines:
every process (rank) holds a replica of the model, reads its own shard of the
records (:class:`~ecgwm_core.worldmodel.streaming.StreamingECGDataset`), and
PyTorch's :class:`~torch.nn.parallel.DistributedDataParallel` averages the
gradients over ranks after each backward pass, so the replicas stay identical
and one step equals one step of a single process on the *global* batch
(per-rank batch × world size). Rank 0 alone draws the progress bar and writes
checkpoints (``safetensors`` weights + JSON config).

Backend and device: ``nccl`` and ``cuda:$LOCAL_RANK`` on GPUs, ``gloo`` on
the CPU (``--device``, default the config's: ``auto`` for ``paper``, i.e.
CUDA where available). Without ``torchrun`` (no ``RANK`` /
``WORLD_SIZE`` in the environment) the loop runs as one process without a
process group.

Commands (``MIMIC-IV-ECG`` under ``$ECGWM_DATA/mimic-iv-ecg``)::

    # one machine, 8 GPUs, global batch 8 x 32 = 256, bf16 mixed precision
    torchrun --standalone --nproc-per-node=8 -m ecgwm_core.worldmodel.distributed \\
        --out runs/ae-mimic --batch-size 32 --epochs 10 --num-workers 6 --amp

    # two machines x 8 GPUs (global batch 512): run on each machine, NODE_RANK 0 and 1,
    # HOST0 being the address of machine 0 (any free port)
    torchrun --nnodes=2 --nproc-per-node=8 --node-rank=$NODE_RANK \\
        --rdzv-backend=c10d --rdzv-endpoint=HOST0:29500 --rdzv-id=ecgwm-ae \\
        -m ecgwm_core.worldmodel.distributed --out runs/ae-mimic --batch-size 32 --amp

    # CPU only, 2 processes with gloo (what tests/test_distributed.py runs)
    torchrun --standalone --nproc-per-node=2 -m ecgwm_core.worldmodel.distributed \\
        --device cpu --config quick --out runs/ae-cpu --batch-size 4 --max-steps 20 --limit 200

The command trains the world model's beat autoencoder
(:class:`~ecgwm_core.worldmodel.autoencoder.BeatAutoencoder` of ``--config``,
default ``paper``) on the records' 12-lead median beats. Rank 0 writes into
``--out``: ``autoencoder.safetensors`` (weights), ``autoencoder.json`` (world
model, representation and training configuration, world size, global batch,
steps, sha256 of the weights) and ``autoencoder_curve.json`` (loss per step,
MSE in mV²): the files :func:`ecgwm_core.worldmodel.train` resumes from, so
``ecgwm train --config paper --resume --out DIR`` goes on from the pretrained
autoencoder to the diffusion model.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from safetensors.torch import save_file
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..data import DataNotFoundError
from .autoencoder import BeatAutoencoder
from .config import CONFIGS, get_config
from .streaming import StreamingECGDataset

AMP_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}
"""Mixed-precision compute types by name (``float16`` uses a gradient scaler)."""


@dataclass(frozen=True)
class DistEnv:
    """Where this process runs in the job.

    Attributes
    ----------
    rank : global index of this process (0 ... world_size - 1).
    local_rank : index of this process on its machine (selects the GPU).
    world_size : number of processes in the job.
    device : the device this process trains on.
    backend : ``"nccl"`` or ``"gloo"``, or ``None`` without a process group.
    """

    rank: int
    local_rank: int
    world_size: int
    device: torch.device
    backend: str | None

    @property
    def is_main(self) -> bool:
        """Whether this process draws progress and writes checkpoints (rank 0)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Whether a process group is initialised."""
        return self.backend is not None


def init_distributed(device: str = "auto") -> DistEnv:
    """Join the job that ``torchrun`` started, or run as a single process without it.

    Parameters
    ----------
    device : ``"cuda"`` (GPU ``$LOCAL_RANK``, backend ``nccl``), ``"cpu"``
        (backend ``gloo``) or ``"auto"`` (``cuda`` where available, else ``cpu``),
        as :class:`~ecgwm_core.worldmodel.config.WorldModelConfig` names devices.

    Returns
    -------
    DistEnv
        Rank, world size, device and backend of this process.

    Raises
    ------
    ValueError
        If ``device`` is unknown, ``"cuda"`` is asked for without CUDA, or
        ``LOCAL_RANK`` names a GPU this machine does not have.
    """
    if device not in ("auto", "cuda", "cpu"):
        raise ValueError(f"device must be 'auto', 'cuda' or 'cpu'; got {device!r}")
    cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if cuda and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but PyTorch sees no GPU: use --device cpu or auto")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda and local_rank >= torch.cuda.device_count():
        raise ValueError(
            f"LOCAL_RANK={local_rank} but this machine has {torch.cuda.device_count()} GPU(s): "
            "pass --nproc-per-node at most the number of GPUs"
        )
    where = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(where)
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return DistEnv(0, 0, 1, where, None)
    backend = "nccl" if cuda else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, device_id=where if cuda else None)
    return DistEnv(dist.get_rank(), local_rank, dist.get_world_size(), where, backend)


def shutdown(env: DistEnv) -> None:
    """Leave the process group (no-op for a single process)."""
    if env.distributed and dist.is_initialized():
        dist.destroy_process_group()


@dataclass(frozen=True)
class DDPConfig:
    """Training settings of the distributed loop.

    Attributes
    ----------
    batch_size : records per rank and step; global batch = batch_size × world size.
    epochs : passes over the records.
    max_steps : stop after this many optimiser steps (``None``: run all epochs).
    lr : AdamW learning rate.
    weight_decay : AdamW weight decay.
    grad_clip : clip the global gradient norm to this (``None``: no clipping).
    seed : seeds the model initialisation (by the caller), the shuffle of each
        epoch and, as ``seed + rank``, each rank's own random draws.
    amp : mixed precision (autocast) in ``amp_dtype``.
    amp_dtype : ``"bfloat16"`` (no scaler needed) or ``"float16"`` (gradient scaler).
    num_workers : DataLoader worker processes per rank reading records.
    checkpoint_every : also write a checkpoint every this many steps (0: only
        at the end of each epoch).
    """

    batch_size: int = 32
    epochs: int = 1
    max_steps: int | None = None
    lr: float = 1e-3
    weight_decay: float = 0.0
    grad_clip: float | None = None
    seed: int = 0
    amp: bool = False
    amp_dtype: str = "bfloat16"
    num_workers: int = 0
    checkpoint_every: int = 0

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.epochs < 1:
            raise ValueError(f"batch_size and epochs must be >= 1; got {self.batch_size}, {self.epochs}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1 or None; got {self.max_steps}")
        if self.amp_dtype not in AMP_DTYPES:
            raise ValueError(f"amp_dtype must be one of {sorted(AMP_DTYPES)}; got {self.amp_dtype!r}")
        if self.num_workers < 0 or self.checkpoint_every < 0:
            raise ValueError("num_workers and checkpoint_every must be >= 0")


@dataclass
class TrainResult:
    """What a run did.

    Attributes
    ----------
    losses : per step, the loss averaged over ranks (the global batch's mean
        loss when every rank's batch has the same size).
    steps : optimiser steps taken.
    epochs : epochs started.
    seconds : wall time of the loop in s.
    """

    losses: list[float] = field(default_factory=list)
    steps: int = 0
    epochs: int = 0
    seconds: float = 0.0


class _LossModule(nn.Module):
    """Makes ``model.loss`` the ``forward`` that DDP hooks into (DDP syncs gradients of ``forward`` calls)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.model.loss(batch)


def _every_rank_has_a_batch(has_batch: bool, env: DistEnv) -> bool:
    """True while every rank still has a batch, so that all ranks take the same number of steps."""
    if not env.distributed:
        return has_batch
    flag = torch.tensor([int(has_batch)], device=env.device)
    dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag.item())


def _rank_mean(value: torch.Tensor, env: DistEnv) -> float:
    """A scalar averaged over ranks."""
    value = value.detach().float().reshape(1)
    if env.distributed:
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
        value /= env.world_size
    return float(value.item())


def _as_dict(config: Any) -> Any:
    return asdict(config) if is_dataclass(config) and not isinstance(config, type) else config


def save_checkpoint(out: Path, model: nn.Module, info: dict[str, Any], losses: list[float],
                    name: str = "autoencoder") -> None:
    """Write ``{name}.safetensors``, ``{name}.json`` and ``{name}_curve.json`` into ``out``.

    The names match what :func:`ecgwm_core.worldmodel.train` reads back with
    ``resume=True`` (``autoencoder.safetensors``, ``autoencoder_curve.json``), so
    an autoencoder pretrained here is picked up by ``ecgwm train --resume --out DIR``.

    Parameters
    ----------
    out : checkpoint folder (created if needed).
    model : the unwrapped model (not the DDP wrapper) whose ``state_dict`` is saved.
    info : JSON-serialisable description of the run; the weights' sha256 is added.
    losses : the loss curve, one value per step.
    name : file stem.
    """
    out.mkdir(parents=True, exist_ok=True)
    weights = out / f"{name}.safetensors"
    save_file({key: t.detach().cpu().contiguous() for key, t in model.state_dict().items()}, str(weights))
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    (out / f"{name}.json").write_text(json.dumps(info | {"sha256": digest}, indent=2) + "\n")
    (out / f"{name}_curve.json").write_text(json.dumps(losses))


def train(
    model: nn.Module,
    dataset: StreamingECGDataset,
    config: DDPConfig,
    env: DistEnv,
    out: str | Path | None = None,
    model_config: Any = None,
) -> TrainResult:
    """Train ``model`` with DDP on the streaming records; rank 0 checkpoints into ``out``.

    Parameters
    ----------
    model : a module whose ``loss(batch)`` is the scalar to minimise (e.g.
        :class:`~ecgwm_core.worldmodel.autoencoder.BeatAutoencoder`), built
        identically on every rank (seed before building it; DDP also broadcasts
        rank 0's weights).
    dataset : the records, sharded for this rank (its ``batch_size`` must be
        ``config.batch_size``).
    config : training settings.
    env : from :func:`init_distributed`.
    out : checkpoint folder (``None``: no checkpoints).
    model_config : the model's configuration (dataclass or dict), stored in
        ``autoencoder.json``.

    Returns
    -------
    TrainResult
        The loss curve (averaged over ranks) and counts, on every rank.
    """
    if dataset.batch_size != config.batch_size or dataset.world_size != env.world_size:
        raise ValueError(
            f"dataset is sharded for batch {dataset.batch_size} x {dataset.world_size} ranks but the run "
            f"has batch {config.batch_size} x {env.world_size} ranks: build the dataset after init_distributed "
            "with batch_size=config.batch_size"
        )
    out = Path(out) if out is not None else None
    torch.manual_seed(config.seed + env.rank)
    module = _LossModule(model).to(env.device)
    ddp: nn.Module = (
        DistributedDataParallel(module, device_ids=[env.device.index] if env.device.type == "cuda" else None)
        if env.distributed else module
    )
    optimiser = torch.optim.AdamW(ddp.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    amp_dtype = AMP_DTYPES[config.amp_dtype]
    scaler = torch.amp.GradScaler(env.device.type, enabled=config.amp and amp_dtype == torch.float16)
    described = {
        "model": _as_dict(model_config),
        "representation": _as_dict(dataset.representation),
        "train": _as_dict(config),
        "world_size": env.world_size,
        "global_batch_size": config.batch_size * env.world_size,
    }
    result = TrainResult()
    start = time.perf_counter()

    def checkpoint() -> None:
        if out is not None and env.is_main:
            save_checkpoint(out, model, described | {"steps": result.steps, "epochs": result.epochs},
                            result.losses)

    per_epoch = len(dataset.rank_batches())
    total = min(config.max_steps or per_epoch * config.epochs, per_epoch * config.epochs)
    bar = tqdm(total=total, desc=f"DDP x{env.world_size}", disable=not env.is_main)
    ddp.train()
    for epoch in range(config.epochs):
        dataset.set_epoch(epoch)
        result.epochs = epoch + 1
        batches = iter(DataLoader(dataset, batch_size=None, num_workers=config.num_workers,
                                  pin_memory=env.device.type == "cuda"))
        while _every_rank_has_a_batch((batch := next(batches, None)) is not None, env):
            with torch.autocast(env.device.type, dtype=amp_dtype, enabled=config.amp):
                loss = ddp(batch.to(env.device, non_blocking=True))
            optimiser.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if config.grad_clip is not None:
                scaler.unscale_(optimiser)
                nn.utils.clip_grad_norm_(ddp.parameters(), config.grad_clip)
            scaler.step(optimiser)
            scaler.update()
            result.losses.append(_rank_mean(loss, env))
            result.steps += 1
            bar.update()
            bar.set_postfix(loss=f"{result.losses[-1]:.4g}")
            if config.checkpoint_every and result.steps % config.checkpoint_every == 0:
                checkpoint()
            if result.steps == config.max_steps:
                break
        del batches
        checkpoint()
        if result.steps == config.max_steps:
            break
    bar.close()
    result.seconds = time.perf_counter() - start
    if env.distributed:
        dist.barrier()
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ecgwm_core.worldmodel.distributed",
        description="Train the world model's beat autoencoder on MIMIC-IV-ECG ($ECGWM_DATA/mimic-iv-ecg) "
                    "with DDP; start it with torchrun (commands in the module docstring).",
    )
    parser.add_argument("--out", required=True, type=Path, help="checkpoint folder (written by rank 0)")
    parser.add_argument("--config", default="paper", choices=sorted(CONFIGS), help="world-model config")
    parser.add_argument("--batch-size", type=int, help="records per rank and step (default: the config's "
                        "autoencoder batch); the global batch is this x the number of processes")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-steps", type=int, help="stop after this many steps")
    parser.add_argument("--lr", type=float, help="AdamW learning rate (default: the config's)")
    parser.add_argument("--seed", type=int, help="seed (default: the config's)")
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, help="mixed precision (default: the config's)")
    parser.add_argument("--amp-dtype", default="bfloat16", choices=sorted(AMP_DTYPES))
    parser.add_argument("--num-workers", type=int, default=4, help="DataLoader workers per process")
    parser.add_argument("--limit", type=int, help="use only the first N records of record_list.csv")
    parser.add_argument("--checkpoint-every", type=int, default=1000, help="steps between checkpoints (0: per epoch)")
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"),
                        help="cuda (nccl) or cpu (gloo); default: the config's (quick: cpu, paper: auto)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m ecgwm_core.worldmodel.distributed`` (one process of the job).

    Returns
    -------
    int
        0 on success, 2 (with one line on stderr) if the data or an option is unusable.
    """
    args = _parser().parse_args(argv)
    world = get_config(args.config)
    try:
        env = init_distributed(args.device or world.device)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        try:
            config = DDPConfig(
                batch_size=args.batch_size or world.autoencoder.batch, epochs=args.epochs, max_steps=args.max_steps,
                lr=args.lr if args.lr is not None else world.autoencoder.lr,
                seed=args.seed if args.seed is not None else world.seed,
                amp=world.amp if args.amp is None else args.amp, amp_dtype=args.amp_dtype,
                num_workers=args.num_workers, checkpoint_every=args.checkpoint_every,
            )
            dataset = StreamingECGDataset.from_mimic(config.batch_size, limit=args.limit,
                                                     representation=world.representation, seed=config.seed,
                                                     drop_last=True)
        except (DataNotFoundError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        torch.manual_seed(config.seed)
        model = BeatAutoencoder(world.autoencoder, world.representation)
        result = train(model, dataset, config, env, args.out, model_config=world.to_dict())
    finally:
        shutdown(env)
    if env.is_main:
        print(f"{result.steps} steps x global batch {config.batch_size * env.world_size} in {result.seconds:.1f} s, "
              f"final loss {result.losses[-1] * 1e6:.0f} uV^2; checkpoint in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
