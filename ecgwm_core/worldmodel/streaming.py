"""A streaming dataset over MIMIC-IV-ECG WFDB records, sharded by rank and worker.

MIMIC-IV-ECG holds about 800,000 10-s 12-lead ECGs: too many to hold in
memory, so :class:`StreamingECGDataset` reads them from disk batch by batch
with the project's loader (:func:`ecgwm_core.data.load_mimic_ecg`) and turns
each into the autoencoder's input with :func:`preprocess` (the 12-lead median
beat in mV, built as :mod:`ecgwm_core.worldmodel.representation` builds every
ECG the world model sees).

Sharding
--------
Every epoch the record list is shuffled with a permutation seeded by
``(seed, epoch)`` (the same on every rank), cut into *global batches* of
``batch_size × world_size`` records, and global batch ``k`` is split into
``world_size`` consecutive slices of ``batch_size``: rank ``r`` reads slice
``r``. Within a rank, DataLoader worker ``w`` of ``W`` reads the rank's
batches ``w, w + W, w + 2W, ...``; PyTorch's DataLoader takes batches from its
workers in turn, so the rank sees its batches in order ``0, 1, 2, ...``.
Hence:

- each record is read exactly once per epoch across all ranks × workers
  (with ``drop_last=False``; ``drop_last=True`` leaves out the last
  ``len(paths) mod (batch_size × world_size)`` records of the shuffled list);
- step ``k`` of a run trains on the same records whatever the world size and
  the number of workers, as long as ``batch_size × world_size`` is the same:
  a 2-rank run with batch 8 per rank sees at each step what a 1-process run
  with batch 16 sees (this is what makes the DDP loss curve comparable with a
  single process's);
- the last, partial global batch (``drop_last=False``) is spread as evenly as
  possible over the ranks, so ranks can differ by one batch; the training loop
  in :mod:`ecgwm_core.worldmodel.distributed` stops an epoch as soon as any
  rank runs out.

Unreadable records (missing or corrupt files, missing leads, non-finite
samples, fewer than 3 complete beats) are skipped with an :class:`UnreadableRecordWarning` that
counts them; a batch that lost records is yielded smaller, and a batch that
lost all of them is not yielded.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import IterableDataset, get_worker_info

from ..data import STANDARD_12, Recording, load_mimic_ecg, load_mimic_record_list
from .config import RepresentationConfig
from .representation import strip_beats

_READ_ERRORS = (OSError, ValueError, LookupError, EOFError)
"""What reading or preprocessing a damaged record raises (``wfdb`` raises all four kinds)."""


class UnusableRecordError(ValueError):
    """A record was read but cannot become a model input (missing lead, too short, NaN)."""


class UnreadableRecordWarning(UserWarning):
    """A record was skipped because it could not be read or preprocessed."""


def preprocess(recording: Recording, representation: RepresentationConfig) -> np.ndarray:
    """One record as the autoencoder's input: the 12-lead median beat in mV.

    The 12 standard leads are put in :data:`~ecgwm_core.data.STANDARD_12`
    order and handed to :func:`~ecgwm_core.worldmodel.representation.strip_beats`
    (the delineator's 0.5-40 Hz filters, resampling to ``representation.fs_hz``,
    median over beats in the fixed window around R), exactly as the world model
    represents its training ECGs.

    Parameters
    ----------
    recording : a 12-lead record (any lead order, any sampling rate, ≥ 3 beats).
    representation : the beat window.

    Returns
    -------
    np.ndarray
        ``(12, representation.samples)`` float32 median beat in mV.

    Raises
    ------
    UnusableRecordError
        If a standard lead is missing, a sample is not finite, or fewer than 3
        complete beats are found.
    """
    missing = [name for name in STANDARD_12 if name not in recording.leads]
    if missing:
        raise UnusableRecordError(f"record {recording.name} lacks lead(s) {', '.join(missing)}")
    signal = np.stack([recording.lead(name) for name in STANDARD_12])
    if not np.isfinite(signal).all():
        raise UnusableRecordError(f"record {recording.name} has non-finite samples (NaN or inf)")
    try:
        beats, _, _ = strip_beats(signal[None], recording.fs, representation)
    except ValueError as error:
        raise UnusableRecordError(f"record {recording.name}: {error}") from error
    return beats[0]


def _process_group() -> tuple[int, int]:
    """``(rank, world_size)`` of the default process group, ``(0, 1)`` if there is none."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class StreamingECGDataset(IterableDataset):
    """Batches of median beats read from WFDB records, sharded by rank and worker.

    Yields ``(b, 12, representation.samples)`` float32 tensors in mV with
    ``b <= batch_size`` (smaller only for the last batch or when records were
    skipped). Use it with ``DataLoader(dataset, batch_size=None,
    num_workers=W)``: the dataset batches by itself (see the module docstring
    for the sharding).

    Parameters
    ----------
    paths : record paths as the loader takes them (MIMIC-IV-ECG's ``path``
        column, e.g. ``files/p1000/p10000032/s40689238/40689238``).
    batch_size : records per batch on each rank (the global batch is
        ``batch_size × world_size``).
    representation : the beat window (the world model's ``config.representation``).
    seed : seed of the per-epoch shuffle (same on every rank).
    rank, world_size : this process's shard; by default the default process
        group's, or ``0, 1`` without one.
    drop_last : leave out the last partial global batch, so that every rank
        has the same number of full batches.
    loader : reads one record by path (default :func:`~ecgwm_core.data.load_mimic_ecg`).
    """

    def __init__(
        self,
        paths: Sequence[str],
        batch_size: int,
        *,
        representation: RepresentationConfig = RepresentationConfig(),
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
        drop_last: bool = False,
        loader: Callable[[str], Recording] = load_mimic_ecg,
    ) -> None:
        super().__init__()
        default_rank, default_world = _process_group()
        self.rank = default_rank if rank is None else rank
        self.world_size = default_world if world_size is None else world_size
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1; got {batch_size}")
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank must be in [0, world_size = {self.world_size}); got {self.rank}")
        if len(paths) < batch_size * self.world_size and drop_last:
            raise ValueError(
                f"{len(paths)} records make no full global batch of {batch_size} x {self.world_size} "
                "ranks: lower batch_size or pass drop_last=False"
            )
        self.paths = np.asarray(list(paths), dtype=object)
        self.batch_size = batch_size
        self.representation = representation
        self.seed = seed
        self.drop_last = drop_last
        self.loader = loader
        self.epoch = 0
        self.skipped = 0

    @classmethod
    def from_mimic(cls, batch_size: int, *, limit: int | None = None, **kwargs) -> "StreamingECGDataset":
        """All records of ``$ECGWM_DATA/mimic-iv-ecg/record_list.csv`` (the first ``limit`` if given).

        Raises
        ------
        DataNotFoundError
            If MIMIC-IV-ECG is not under ``$ECGWM_DATA``.
        """
        paths = load_mimic_record_list()["path"].tolist()
        return cls(paths[:limit] if limit is not None else paths, batch_size, **kwargs)

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch's shuffle (call before iterating, on every rank, like DistributedSampler)."""
        self.epoch = epoch

    def rank_batches(self) -> list[list[str]]:
        """This rank's batches of record paths for the current epoch, in step order."""
        order = self.paths[np.random.default_rng([self.seed, self.epoch]).permutation(len(self.paths))]
        global_batch = self.batch_size * self.world_size
        n_full = len(order) // global_batch
        batches = [
            order[k * global_batch + self.rank * self.batch_size:][: self.batch_size].tolist()
            for k in range(n_full)
        ]
        tail = order[n_full * global_batch:]
        if not self.drop_last and len(tail):
            part = np.array_split(tail, self.world_size)[self.rank]
            if len(part):
                batches.append(part.tolist())
        return batches

    def worker_batches(self, worker: int = 0, num_workers: int = 1) -> list[list[str]]:
        """The batches that DataLoader worker ``worker`` of ``num_workers`` reads on this rank."""
        if not 0 <= worker < num_workers:
            raise ValueError(f"worker must be in [0, num_workers = {num_workers}); got {worker}")
        return self.rank_batches()[worker::num_workers]

    def _read(self, path: str) -> np.ndarray | None:
        """One preprocessed record, or ``None`` (with a counted warning) if it is unusable."""
        try:
            return preprocess(self.loader(path), self.representation)
        except _READ_ERRORS as error:
            self.skipped += 1
            warnings.warn(
                f"skipped unreadable record {path} ({self.skipped} skipped so far by rank {self.rank}"
                f"{self._worker_label()}): {type(error).__name__}: {error}",
                UnreadableRecordWarning,
                stacklevel=2,
            )
            return None

    @staticmethod
    def _worker_label() -> str:
        info = get_worker_info()
        return f", worker {info.id}" if info is not None else ""

    def __iter__(self) -> Iterator[torch.Tensor]:
        info = get_worker_info()
        worker, num_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        for batch in self.worker_batches(worker, num_workers):
            signals = [s for s in map(self._read, batch) if s is not None]
            if signals:
                yield torch.from_numpy(np.stack(signals))
