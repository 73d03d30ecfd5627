"""The straightforward WGAN-GP language-model step, kept as the yardstick for `textgan bench`.

This is deliberately the plain way to write the paper's training step in PyTorch, independent of
textgan's trainer: float one-hot real batches, three separate critic passes (real, fake,
interpolates), the penalty through ``autograd.grad(create_graph=True)``, fp32, and the critic *not*
frozen during the generator step. Same architecture as ``textgan.text.models`` (1D-conv ResNet,
DIM channels, 5 residual blocks of two kernel-5 convolutions, residual scale 0.3).

It is a benchmark, not a test: ``textgan bench`` runs it interleaved with textgan's own step so
both are timed under the same machine load. Standalone, it answers how long one plain generator
iteration takes and writes ``<out>/<name>.json``:

    python benchmarks/reference_wgan_gp.py --dim 128 --critic-iters 10 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.c1 = nn.Conv1d(dim, dim, 5, padding=2)
        self.c2 = nn.Conv1d(dim, dim, 5, padding=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.3 * self.c2(F.relu(self.c1(F.relu(x))))


class Generator(nn.Module):
    def __init__(self, vocab: int, seq_len: int, dim: int, blocks: int = 5) -> None:
        super().__init__()
        self.dim, self.seq_len = dim, seq_len
        self.fc = nn.Linear(128, dim * seq_len)
        self.blocks = nn.Sequential(*[Block(dim) for _ in range(blocks)])
        self.out = nn.Conv1d(dim, vocab, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.fc(z).view(-1, self.dim, self.seq_len))
        return torch.softmax(self.out(h).transpose(1, 2), dim=-1)


class Critic(nn.Module):
    def __init__(self, vocab: int, seq_len: int, dim: int, blocks: int = 5) -> None:
        super().__init__()
        self.inp = nn.Conv1d(vocab, dim, 1)
        self.blocks = nn.Sequential(*[Block(dim) for _ in range(blocks)])
        self.fc = nn.Linear(seq_len * dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.inp(x.transpose(1, 2)))
        return self.fc(h.flatten(1)).squeeze(1)


class ReferenceWGANGP:
    """One ``step()`` = ``critic_iters`` critic updates + one generator update, written plainly."""

    def __init__(self, ids: np.ndarray, vocab: int, *, dim: int = 128, blocks: int = 5,
                 batch_size: int = 64, critic_iters: int = 10, gp_lambda: float = 10.0,
                 lr: float = 1e-4, seed: int = 0, device: str | torch.device = "cpu") -> None:
        torch.manual_seed(seed)
        self.device = torch.device(device)
        self.ids, self.vocab = ids, vocab
        self.rng = np.random.default_rng(seed)
        seq_len = ids.shape[1]
        self.G = Generator(vocab, seq_len, dim, blocks).to(self.device)
        self.D = Critic(vocab, seq_len, dim, blocks).to(self.device)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr, betas=(0.5, 0.9))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr, betas=(0.5, 0.9))
        self.batch_size, self.critic_iters, self.gp_lambda = batch_size, critic_iters, gp_lambda

    def real_batch(self) -> torch.Tensor:
        rows = self.rng.integers(0, len(self.ids), size=self.batch_size)
        ids = torch.from_numpy(self.ids[rows].astype(np.int64)).to(self.device)
        return F.one_hot(ids, self.vocab).float()

    def step(self) -> None:
        B, dev = self.batch_size, self.device
        for _ in range(self.critic_iters):
            real = self.real_batch()
            fake = self.G(torch.randn(B, 128, device=dev)).detach()
            d_real = self.D(real).mean()
            d_fake = self.D(fake).mean()
            alpha = torch.rand(B, 1, 1, device=dev)
            x_hat = (real + alpha * (fake - real)).requires_grad_(True)
            (grad,) = torch.autograd.grad(self.D(x_hat).sum(), x_hat, create_graph=True)
            penalty = ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
            loss = d_fake - d_real + self.gp_lambda * penalty
            self.opt_d.zero_grad()
            loss.backward()
            self.opt_d.step()
        g_loss = -self.D(self.G(torch.randn(B, 128, device=dev))).mean()
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()


def parser() -> argparse.ArgumentParser:
    from textgan.benchmarking import add_arguments

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p, "reference-wgan-gp")
    p.add_argument("--dim", type=int, default=128, help="Channels [default: 128].")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--critic-iters", type=int, default=10)
    p.add_argument("--seq-len", type=int, default=32)
    p.add_argument("--vocab", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3, help="Timed generator iterations.")
    return p


def main(argv: list[str] | None = None) -> None:
    from textgan.benchmarking import write_benchmark_result

    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    ids = np.random.default_rng(args.seed).integers(0, args.vocab, size=(10_000, args.seq_len),
                                                    dtype=np.uint8)
    ref = ReferenceWGANGP(ids, args.vocab, dim=args.dim, batch_size=args.batch_size,
                          critic_iters=args.critic_iters, seed=args.seed)
    ref.step()  # warm-up
    walls, cpus = [], []
    for _ in range(args.repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        ref.step()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    results = {"dim": args.dim, "batch_size": args.batch_size, "critic_iters": args.critic_iters,
               "seq_len": args.seq_len, "vocab": args.vocab, "repeats": args.repeats,
               "s_per_gen_iter": round(statistics.median(walls), 5),
               "cpu_s_per_gen_iter": round(statistics.median(cpus), 5),
               "s_per_gen_iter_all": [round(t, 5) for t in walls]}
    path = write_benchmark_result(args, "How long does one plain WGAN-GP generator iteration "
                                  "(the yardstick of textgan bench) take?", results,
                                  script=__file__, argv=argv)
    print(f"reference: {results['s_per_gen_iter']:.3f} s per generator iteration (median of "
          f"{args.repeats})\nresult: {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
