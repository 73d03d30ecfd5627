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
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as tdist
from torch import Tensor, nn


@dataclass
class DistributedContext:
    """This process's place in the job: ``rank`` of ``world_size``, on ``device``."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

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
        flat = torch.cat([p.detach().reshape(-1) for p in module.parameters()])
        reference = flat.clone()
        tdist.broadcast(reference, src=0)
        same = torch.tensor([int(torch.equal(flat, reference))], device=flat.device)
        tdist.all_reduce(same, op=tdist.ReduceOp.MIN)
        return bool(same.item())


def launched_by_torchrun() -> bool:
    """``torchrun`` sets ``WORLD_SIZE``/``RANK``/``LOCAL_RANK`` for each process it starts."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_env(device: str = "auto", backend: str | None = None) -> DistributedContext | None:
    """Join the process group ``torchrun`` describes; ``None`` for a single-process run.

    ``device="auto"`` gives each rank its local GPU (``cuda:LOCAL_RANK``) with NCCL, or the CPU
    with gloo when there is no GPU.
    """
    if not launched_by_torchrun():
        return None
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device == "auto":
        device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if not tdist.is_initialized():
        tdist.init_process_group(backend or ("nccl" if dev.type == "cuda" else "gloo"))
    return DistributedContext(tdist.get_rank(), tdist.get_world_size(), dev)


def shutdown() -> None:
    if tdist.is_initialized():
        tdist.destroy_process_group()


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

    def next_batch(self, batch_size: int, device: torch.device) -> Tensor:
        full = self.source.next_batch(batch_size * self.world_size, device)
        return full[self.rank * batch_size:(self.rank + 1) * batch_size]

    def state_dict(self) -> dict[str, Any]:
        return self.source.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.source.load_state_dict(state)
