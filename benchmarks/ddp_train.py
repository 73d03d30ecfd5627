"""How fast is data-parallel training under torchrun, and do the ranks stay identical?

    torchrun --standalone --nproc-per-node 2 benchmarks/ddp_train.py --steps 20 --name ddp
    torchrun --nnodes 2 --nproc-per-node 8 --rdzv-endpoint HOST:29500 benchmarks/ddp_train.py ...
    python benchmarks/ddp_train.py --steps 20        # one process: the baseline

Every rank joins the torchrun job (``textgan.training.join_torchrun``) and starts the same run
through ``textgan.training.start_training``, as ``torchrun ... -m textgan.cli.main train`` does:
the cpu preset (``--dim`` wide, ``--batch-size`` per rank, ``--critic-iters``) on ``--corpus``;
each rank trains on its share of every global batch with its own noise seed, gradients are
averaged after every backward, and rank 0 alone writes the run. After one untimed step it times
``--steps`` steps (wall-clock, the median) and checks that every rank's parameters equal rank
0's. Rank 0 writes ``<out>/<name>.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from typing import Any

import torch

from textgan.benchmarking import (
    add_arguments,
    add_corpus_arguments,
    configure,
    corpus_label,
    data_settings,
    write_benchmark_result,
)
from textgan.core.distributed import shutdown
from textgan.training import join_torchrun, start_training

QUESTION = ("How many seconds does a data-parallel generator iteration take under torchrun "
            "(samples per second), and do all ranks end with identical parameters?")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p, "ddp")
    add_corpus_arguments(p)
    p.add_argument("--dim", type=int, default=None, help="Model width [default: the preset's].")
    p.add_argument("--batch-size", type=int, default=None,
                   help="Batch per rank [default: the preset's].")
    p.add_argument("--critic-iters", type=int, default=None,
                   help="Critic steps per generator step [default: the preset's].")
    p.add_argument("--steps", type=int, default=5, help="Timed steps (after one untimed).")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N [default: auto].")
    p.add_argument("--run", default=None,
                   help="Keep the run in this directory (new) [default: a temporary directory].")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    ctx = join_torchrun()
    try:
        config = configure("cpu", train={
            "steps": args.steps + 1, "seed": args.seed, "device": args.device, "threads": args.threads,
            "batch_size": args.batch_size, "critic_iters": args.critic_iters,
            "eval_every": 0, "sample_every": 0, "checkpoint_every": 10**9},
            data=data_settings(args), model={"dim": args.dim})
        with tempfile.TemporaryDirectory(prefix="textgan-ddp-") as tmp:
            # Every rank names the same directory: rank 0's choice is shared by start_training.
            session = start_training(config, out=args.run or f"{tmp}/run", dist=ctx)
            times = []
            started = time.perf_counter()
            for _ in session.events():  # fit checks at the end that all ranks are identical
                times.append(time.perf_counter() - started)
                started = time.perf_counter()
            trainer = session.trainer
            identical = all(ctx.all_equal(m) for m in trainer.models().values())
        if ctx.is_main:
            world, batch = ctx.world_size, session.config.train.batch_size
            s = statistics.median(times[1:]) if len(times) > 1 else times[0]
            results: dict[str, Any] = {
                "corpus": corpus_label(args), "world_size": world,
                "threads_per_rank": args.threads, "dim": session.config.model.dim,
                "batch_per_rank": batch, "global_batch": batch * world,
                "critic_iters": session.config.train.critic_iters, "timed_steps": len(times) - 1,
                "s_per_gen_iter": round(s, 5), "samples_per_s": round(batch * world / s, 2),
                "ranks_identical": identical}
            path = write_benchmark_result(args, QUESTION, results, script=__file__, argv=argv)
            print(f"{world} rank(s): {s:.4f} s per generator iteration, "
                  f"{results['samples_per_s']:.0f} samples/s, identical: {identical}\n"
                  f"result: {path}")
    finally:
        shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
