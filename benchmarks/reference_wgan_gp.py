"""The plain WGAN-GP step `textgan bench` times as its yardstick, run on its own.

The implementation is :mod:`textgan.bench_reference` (inside the package, so an installed textgan
has it too). This script answers how long one plain generator iteration takes and writes
``<out>/<name>.json``:

    python benchmarks/reference_wgan_gp.py --dim 128 --critic-iters 10 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time


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
    import numpy as np
    import torch

    from textgan.bench_reference import ReferenceWGANGP
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
