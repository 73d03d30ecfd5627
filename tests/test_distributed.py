"""Data-parallel training (gloo, 2 CPU processes on 127.0.0.1) equals one process on the combined
batch: same real rows, same noise, same interpolation weights, gradients averaged across ranks."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as tdist
import torch.multiprocessing as mp
import torch.nn.functional as F

from textgan.core import objectives
from textgan.core.distributed import DistributedContext, RankShare, rank_seed
from textgan.core.trainer import TrainConfig, Trainer
from textgan.text.models import TextCritic, TextGenerator, TextModelConfig

WORLD, LOCAL_BATCH, STEPS, CRITIC_ITERS = 2, 3, 3, 2
VOCAB, SEQ = 7, 6
MODEL = TextModelConfig(dim=8, blocks=1, kernel_size=3, noise_dim=5)


class OneHotRows:
    """Seeded random one-hot rows, standing in for a corpus."""

    def __init__(self, seed: int) -> None:
        self.gen = torch.Generator().manual_seed(seed)

    def next_batch(self, batch_size: int, device: torch.device) -> torch.Tensor:
        ids = torch.randint(0, VOCAB, (batch_size, SEQ), generator=self.gen)
        return F.one_hot(ids, VOCAB).float()

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class Streams:
    """Noise and interpolation weights for the *global* batch, drawn once; a rank uses its rows.

    Production ranks draw independent noise (``rank_seed``); here the randomness is aligned by
    construction so that the data-parallel run can be compared exactly with one process.
    """

    def __init__(self, rows: slice) -> None:
        g = torch.Generator().manual_seed(99)
        calls = STEPS * (CRITIC_ITERS + 1)
        self.noise = torch.randn(calls, WORLD * LOCAL_BATCH, MODEL.noise_dim, generator=g)[:, rows]
        self.alpha = torch.rand(STEPS * CRITIC_ITERS, WORLD * LOCAL_BATCH, generator=g)[:, rows]
        self.noise_calls = self.alpha_calls = 0

    def next_noise(self) -> torch.Tensor:
        self.noise_calls += 1
        return self.noise[self.noise_calls - 1]

    def next_alpha(self) -> torch.Tensor:
        self.alpha_calls += 1
        return self.alpha[self.alpha_calls - 1]


def train(dist: DistributedContext | None, rows: slice, batch: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(0 if dist is None else rank_seed(0, dist.rank))  # ranks init differently
    G = TextGenerator(VOCAB, SEQ, MODEL)
    D = TextCritic(VOCAB, SEQ, MODEL)
    data = OneHotRows(7) if dist is None else RankShare(OneHotRows(7), dist.rank, WORLD)
    cfg = TrainConfig(batch_size=batch, critic_iters=CRITIC_ITERS, lr=1e-3, lr_critic=2e-3)
    streams = Streams(rows)
    original = objectives.interpolate
    objectives.interpolate = lambda real, fake, alpha=None: original(real, fake, streams.next_alpha())
    try:
        trainer = Trainer(G, D, data, cfg, torch.device("cpu"), dist=dist)
        trainer.noise = lambda n: streams.next_noise()  # type: ignore[method-assign]
        for _ in range(STEPS):
            trainer.train_step()
    finally:
        objectives.interpolate = original
    state = {f"G.{k}": v for k, v in G.state_dict().items()}
    state.update({f"D.{k}": v for k, v in D.state_dict().items()})
    if dist is not None:
        state["_identical"] = torch.tensor(dist.all_equal(G) and dist.all_equal(D))
    return state


def worker(rank: int, port: int, out: str) -> None:
    torch.set_num_threads(1)
    tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                             world_size=WORLD)
    try:
        ctx = DistributedContext(rank, WORLD, torch.device("cpu"))
        rows = slice(rank * LOCAL_BATCH, (rank + 1) * LOCAL_BATCH)
        torch.save(train(ctx, rows, LOCAL_BATCH), Path(out) / f"rank{rank}.pt")
        tdist.barrier()  # neither rank tears gloo down while the other still talks to it
    finally:
        tdist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_ranks_match_one_process_on_the_combined_batch(tmp_path: Path) -> None:
    mp.spawn(worker, args=(free_port(), str(tmp_path)), nprocs=WORLD, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(WORLD)]
    single = train(None, slice(None), WORLD * LOCAL_BATCH)
    assert all(bool(r.pop("_identical")) for r in ranks)
    for key, value in single.items():
        assert torch.equal(ranks[0][key], ranks[1][key]), key
        torch.testing.assert_close(ranks[0][key], value, rtol=1e-4, atol=1e-6, msg=key)
    # The run actually trained: parameters moved away from the (broadcast) initial values.
    torch.manual_seed(0)
    initial = TextGenerator(VOCAB, SEQ, MODEL).state_dict()
    assert not torch.allclose(initial["output.weight"], single["G.output.weight"])


def test_rank_share_splits_the_global_batch() -> None:
    whole = OneHotRows(3).next_batch(8, torch.device("cpu"))
    parts = [RankShare(OneHotRows(3), r, 2).next_batch(4, torch.device("cpu")) for r in range(2)]
    assert torch.equal(torch.cat(parts), whole)


def test_rank_seeds_differ_and_are_reproducible() -> None:
    seeds = [rank_seed(5, r) for r in range(4)]
    assert len(set(seeds)) == 4 and seeds[0] == 5 and rank_seed(5, 2) == seeds[2]
