r"""Data-parallel training over ``torch.distributed`` (launched with ``torchrun``), modality-free.

Every rank holds a full copy of the generator and critic, draws its own share of each batch, and
after every backward the gradients are averaged over ranks before the optimiser step, so all
ranks take the same step and their parameters stay identical. With ``W`` ranks of local batch
``B`` every loss here is a mean over its local batch, hence

$$\nabla \frac{1}{WB}\sum_{i=1}^{WB} \ell_i = \frac{1}{W}\sum_{r=1}^{W} \nabla \frac{1}{B}
  \sum_{i \in r} \ell_i,$$

i.e. one step on the combined batch of ``W·B`` samples (the penalty is a per-sample term, so it
averages the same way).

Why not ``DistributedDataParallel``: the critic loss contains the gradient penalty, computed with
``torch.autograd.grad(..., create_graph=True)`` and then backpropagated again (a double
backward). DDP's reducer launches its bucketed all-reduces from hooks that fire as each
parameter's gradient becomes ready during ``backward()``; ``autograd.grad`` bypasses those hooks
(it returns gradients instead of accumulating them), and with the double backward a parameter
receives gradient contributions from both the first-order and the penalty graphs, which the
reducer's "each parameter ready once per forward" bookkeeping does not expect — DDP documents that
it does not support ``autograd.grad``. (``static_graph=True`` only helps when the set and order of
hooks repeats exactly, which is fragile here.) So the models are used *unwrapped* and the
gradients are all-reduced explicitly, in one flat buffer per model, after the complete backward —
the synchronisation DDP would do, at the one point where every gradient is known to be final.
It costs one all-reduce per optimiser step (no overlap with the backward); for these small
convolutional models that is cheap next to the double backward.

Rank 0 is the main rank: it alone writes logs, samples and checkpoints (see ``Trainer.is_main``).

Coordination (``textgan train`` under torchrun): whatever only rank 0 does (pick the run
directory, prepare the corpus, run hooks, save checkpoints) is followed by an *agreement*, a
collective every rank reaches whether its own part worked or not, so a failure on one rank is
raised on every rank instead of leaving the others waiting in a collective that never comes.
Agreements run on a separate gloo group with a long timeout (``COORDINATION_TIMEOUT``: the other
ranks may wait there for hours while rank 0 prepares a large corpus); the training collectives
keep ``TRAINING_TIMEOUT``. A rank that dies outright (killed, segfault) closes its connections, so
the others' next collective fails at once (and torchrun stops them too).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as tdist
from torch import Tensor, nn

from textgan.errors import TextganError

T = TypeVar("T")

# A training collective waits at most this long for the other ranks (a step never takes this long).
TRAINING_TIMEOUT = timedelta(minutes=30)
# Agreements wait this long: ranks wait there while rank 0 downloads and prepares the corpus.
COORDINATION_TIMEOUT = timedelta(hours=12)


class PeerFailure(TextganError):
    """Another rank failed, so this one stops too.

    On rank 0 the message names the failed rank and its error (rank 0's CLI prints it); the other
    ranks' CLIs print nothing for it, so a failed job reports one line.
    """


@dataclass
class DistributedContext:
    """This process's place in the job: ``rank`` of ``world_size``, on ``device``."""

    rank: int
    world_size: int
    device: torch.device
    local_rank: int = 0
    # The gloo group agreements and shared objects go through (None: the default group).
    control: Any = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @contextmanager
    def peer_errors(self) -> Iterator[None]:
        """Turn a collective's failure (another rank died, was killed or timed out) into one
        line."""
        try:
            yield
        except RuntimeError as err:
            if not _lost_peer(err):
                raise
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            first = first.split("] ", 1)[-1].split(". ")[0]  # drop gloo's source location, advice
            raise PeerFailure(f"lost contact with another rank ({first[:200]}); it failed or was "
                              "stopped — see its message") from None


    def set_device(self, device: torch.device) -> None:
        """This rank trains on ``device`` (chosen once the run's configuration is known)."""
        self.device = device
        if device.type == "cuda":
            torch.cuda.set_device(device)

    # -- coordination (all on the control group, CPU) -------------------------------------------
    def agree(self, error: BaseException | None = None, flag: bool = False) -> bool:
        """Collective: every rank reports whether its own part failed, and a flag.

        Returns whether any rank raised ``flag``. If any rank failed, raises on every rank: a
        failed rank re-raises its own ``error``; the others raise :class:`PeerFailure` naming the
        first failed rank (so rank 0 always has a line to print).
        """
        state = torch.tensor([int(error is not None), int(flag)], dtype=torch.int32)
        tdist.all_reduce(state, op=tdist.ReduceOp.MAX, group=self.control)
        if state[0]:
            reports: list[Any] = [None] * self.world_size
            tdist.all_gather_object(reports, None if error is None else describe(error),
                                    group=self.control)
            if error is not None:
                raise error
            first = next(r for r, message in enumerate(reports) if message is not None)
            raise PeerFailure(f"rank {first}: {reports[first]}")
        return bool(state[1])

    def on_main(self, fn: Callable[[], T]) -> T | None:
        """``fn()`` on rank 0 only, then an agreement; its result on rank 0, None elsewhere."""
        result, error = None, None
        if self.is_main:
            try:
                result = fn()
            except BaseException as err:  # agreed, then re-raised on this rank
                error = err
        self.agree(error)
        return result

    def share(self, fn: Callable[[], T]) -> T:
        """``fn()`` on rank 0 only; every rank gets its (picklable) result."""
        box = [self.on_main(fn)]
        tdist.broadcast_object_list(box, src=0, group=self.control)
        return box[0]  # type: ignore[return-value]

    def everywhere(self, fn: Callable[[], T]) -> T:
        """``fn()`` on every rank, then an agreement (one rank's failure stops them all)."""
        result, error = None, None
        try:
            result = fn()
        except BaseException as err:  # agreed, then re-raised on this rank
            error = err
        self.agree(error)
        return result  # type: ignore[return-value]

    def average(self, values: dict[str, float]) -> dict[str, float]:
        """The mean over ranks of each value (same keys on every rank): one small all-reduce."""
        if not values:
            return values
        flat = torch.tensor(list(values.values()), dtype=torch.float64)
        tdist.all_reduce(flat, op=tdist.ReduceOp.SUM, group=self.control)
        return dict(zip(values, (flat / self.world_size).tolist(), strict=True))

    def gather_on_main(self, obj: Any) -> list[Any] | None:
        """Every rank's ``obj``, in rank order, on rank 0 (None on the others)."""
        out: list[Any] | None = [None] * self.world_size if self.is_main else None
        tdist.gather_object(obj, out, dst=0, group=self.control)
        return out

    def broadcast_modules(self, *modules: nn.Module) -> None:
        """Copy rank 0's parameters and buffers to every rank (identical start)."""
        for module in modules:
            for tensor in [*module.parameters(), *module.buffers()]:
                tdist.broadcast(tensor.data, src=0)

    def average_gradients(self, module: nn.Module) -> None:
        r"""$g \leftarrow \frac{1}{W}\sum_r g_r$ for every parameter with a gradient, in one
        flat all-reduce. A parameter without a gradient on this rank counts as zero."""
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            return
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        tdist.all_reduce(flat, op=tdist.ReduceOp.SUM)
        flat.div_(self.world_size)
        offset = 0
        for p in params:
            n = p.numel()
            p.grad = flat[offset:offset + n].view_as(p).clone()
            offset += n

    def all_equal(self, module: nn.Module) -> bool:
        """Whether every rank holds exactly rank 0's parameters (a check for tests/debugging)."""
        params = [p.detach().reshape(-1) for p in module.parameters()]
        if not params:
            return True
        flat = torch.cat(params)
        reference = flat.clone()
        tdist.broadcast(reference, src=0)
        same = torch.tensor([int(torch.equal(flat, reference))], device=flat.device)
        tdist.all_reduce(same, op=tdist.ReduceOp.MIN)
        return bool(same.item())


@dataclass
class LocalContext:
    """A single process: the same interface as :class:`DistributedContext`, with rank 0 of 1
    and collectives that are identities, so training code needs no "is this distributed?"
    branches."""

    device: torch.device = torch.device("cpu")
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    is_main = True

    @contextmanager
    def peer_errors(self) -> Iterator[None]:
        yield  # there are no peers

    def set_device(self, device: torch.device) -> None:
        self.device = device

    def agree(self, error: BaseException | None = None, flag: bool = False) -> bool:
        if error is not None:
            raise error
        return flag

    def on_main(self, fn: Callable[[], T]) -> T | None:
        return fn()

    def share(self, fn: Callable[[], T]) -> T:
        return fn()

    def everywhere(self, fn: Callable[[], T]) -> T:
        return fn()

    def average(self, values: dict[str, float]) -> dict[str, float]:
        return values

    def gather_on_main(self, obj: Any) -> list[Any] | None:
        return [obj]

    def broadcast_modules(self, *modules: nn.Module) -> None:
        pass

    def average_gradients(self, module: nn.Module) -> None:
        pass

    def all_equal(self, module: nn.Module) -> bool:
        return True


# What training code is handed: the job it is part of, or this process alone.
Context = DistributedContext | LocalContext


def launched_by_torchrun() -> bool:
    """``torchrun`` sets ``WORLD_SIZE``/``RANK``/``LOCAL_RANK`` for each process it starts."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_env(device: str | None = "auto", backend: str | None = None,
                  timeout: timedelta = TRAINING_TIMEOUT) -> Context:
    """Join the process group ``torchrun`` describes; a :class:`LocalContext` for a
    single-process run.

    ``device="auto"`` gives each rank its local GPU (``cuda:LOCAL_RANK``) with NCCL, or the CPU
    with gloo when there is no GPU. ``device=None`` leaves the choice for later
    (:meth:`DistributedContext.set_device`): CPU tensors then go through gloo and, when CUDA is
    present, CUDA tensors through NCCL. Agreements get their own gloo group either way.
    """
    if not launched_by_torchrun():
        return LocalContext()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = None
    if device is not None:
        if device == "auto":
            device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
        dev = torch.device(device)
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
    if backend is None:
        if dev is not None:
            backend = "nccl" if dev.type == "cuda" else "gloo"
        else:
            backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
    if not tdist.is_initialized():
        tdist.init_process_group(backend, timeout=timeout)
    control = tdist.new_group(backend="gloo", timeout=COORDINATION_TIMEOUT)
    return DistributedContext(tdist.get_rank(), tdist.get_world_size(),
                              dev or torch.device("cpu"), local_rank, control)


def shutdown() -> None:
    if tdist.is_initialized():
        tdist.destroy_process_group()


def describe(error: BaseException) -> str:
    """One line for another rank to report: a user error's message, else the exception's type."""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = " ".join(lines)[:300]
    if isinstance(error, TextganError):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _lost_peer(error: BaseException) -> bool:
    """A collective that failed because another rank is gone or never answered."""
    text = str(error)
    return isinstance(error, tdist.DistError) or (
        isinstance(error, RuntimeError)
        and any(mark in text for mark in ("gloo/", "Connection closed by peer",
                                          "Connection reset by peer", "NCCL")))


def rank_seed(seed: int, rank: int) -> int:
    """Each rank's seed for noise, interpolation weights and data order: distinct, reproducible."""
    return seed + 1_000_003 * rank


class RankShare:
    """A rank's share of a global batch: every rank draws the same ``W·B`` rows from identically
    seeded sources and keeps rows ``[rank·B, (rank+1)·B)``.

    With this, ``W`` ranks of batch ``B`` see exactly the real rows one process with batch
    ``W·B`` would (same seed): the property the equivalence test checks. It reads ``W`` times the
    rows it keeps, which is negligible for text ids; a source that can draw a disjoint shard
    directly (``shard(rank, world_size)``) is better for large inputs.
    """

    def __init__(self, source: Any, rank: int, world_size: int) -> None:
        self.source, self.rank, self.world_size = source, rank, world_size
        # The source's label classes (0: unlabelled), so labelled data stays labelled.
        self.num_classes = int(getattr(source, "num_classes", 0))

    def next_batch(self, batch_size: int, device: torch.device) -> Tensor:
        full = self.source.next_batch(batch_size * self.world_size, device)
        return full[self.rank * batch_size:(self.rank + 1) * batch_size]

    def next_labelled_batch(self, batch_size: int,
                            device: torch.device) -> tuple[Tensor, Tensor]:
        data, labels = self.source.next_labelled_batch(batch_size * self.world_size, device)
        mine = slice(self.rank * batch_size, (self.rank + 1) * batch_size)
        return data[mine], labels[mine]

    def state_dict(self) -> dict[str, Any]:
        return self.source.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.source.load_state_dict(state)
