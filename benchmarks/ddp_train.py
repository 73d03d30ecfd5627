"""Data-parallel text GAN training under torchrun (prints numbers; a runnable example of
textgan.core.distributed).

    torchrun --standalone --nproc-per-node 2 benchmarks/ddp_train.py --dim 64 --steps 5
    torchrun --nnodes 2 --nproc-per-node 8 --rdzv-endpoint HOST:29500 benchmarks/ddp_train.py ...

Each rank trains on its share of every global batch (``--batch-size`` per rank; synthetic ids,
or ``--prepared DIR`` for a prepared corpus), with its own noise seed; gradients are averaged
after every backward. Rank 0 alone prints and writes the checkpoint (``--out``). At the end every
rank checks that its parameters equal rank 0's.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from textgan.core.checkpoint import save_checkpoint
from textgan.core.distributed import RankShare, init_from_env, rank_seed, shutdown
from textgan.core.trainer import TrainConfig, Trainer, seed_everything
from textgan.text.mode import CorpusBatches
from textgan.text.models import TextModelConfig, build_models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32, help="per rank")
    parser.add_argument("--critic-iters", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--vocab", type=int, default=100)
    parser.add_argument("--seq-len", type=int, default=32)
    parser.add_argument("--prepared", default=None, help="a prepared corpus directory")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per rank")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default=None, help="rank 0 writes the final checkpoint here")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ctx = init_from_env(args.device)
    rank, world, device = ctx.rank, ctx.world_size, ctx.device

    if args.prepared:
        from textgan.text.prepare import PreparedCorpus

        corpus = PreparedCorpus.open(args.prepared)
        ids, vocab, seq_len = corpus.train, len(corpus.vocab), corpus.seq_len
    else:
        ids = np.random.default_rng(args.seed).integers(0, args.vocab, (20_000, args.seq_len),
                                                        dtype=np.uint8)
        vocab, seq_len = args.vocab, args.seq_len
    seed_everything(args.seed)
    G, D = build_models(vocab, seq_len, TextModelConfig(dim=args.dim))
    # Same data seed on every rank + RankShare: rank r keeps rows [r·B, (r+1)·B) of each global
    # batch. Noise and interpolation weights come from a per-rank seed.
    data = CorpusBatches(ids, vocab, args.seed)
    source = RankShare(data, rank, world)
    seed_everything(rank_seed(args.seed, rank))
    cfg = TrainConfig(batch_size=args.batch_size, critic_iters=args.critic_iters, seed=args.seed)
    trainer = Trainer(G, D, source, cfg, device, dist=ctx)
    trainer.train_step()  # warm-up
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        stats = trainer.train_step()
        times.append(time.perf_counter() - start)
    identical = ctx.all_equal(G) and ctx.all_equal(D)
    if trainer.is_main:
        s = float(np.median(times))
        print(json.dumps({"world_size": world, "threads_per_rank": args.threads, "dim": args.dim,
                          "global_batch": args.batch_size * world, "s_per_gen_iter": s,
                          "samples_per_s": args.batch_size * world / s,
                          "ranks_identical": identical,
                          "critic_loss": float(stats["critic_loss"])}), flush=True)
        if args.out:
            save_checkpoint(Path(args.out), trainer.state_dict())
    shutdown()


if __name__ == "__main__":
    main()
