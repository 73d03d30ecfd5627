"""How close to the CPU's matmul peak does the cpu preset's training step run, where does its time
go, and what does a second thread buy?

    python benchmarks/step_speed.py --repeats 30

Times ``textgan bench`` at the ``cpu`` preset's shape (DIM 64, batch 32, one critic step, 32
characters, vocabulary 100) with one thread and with ``--threads-2`` threads, each time with the
plain reference implementation and the ``--variant`` changes interleaved (the same machine load
for all). ``fraction_of_matmul_peak`` is the counted GFLOP per generator iteration over the median
seconds, against an n × n fp32 matmul timed in the same rounds. Then profiles ``--profile-steps``
iterations of textgan's step on one thread (``torch.profiler``) and reports the share of self CPU
time of each operator group: oneDNN convolutions (forward and backward, including the penalty's
double backward), the optimiser, element-wise and the rest. Writes ``<out>/<name>.json``.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from typing import Any

SHAPE = {"dim": 64, "batch_size": 32, "critic_iters": 1, "seq_len": 32, "vocab": 100}

# operator name -> group of the time breakdown (first match wins; the rest is "other")
GROUPS = (("convolution", ("convolution",)), ("optimiser", ("adam", "_foreach", "lerp")),
          ("element-wise", ("relu", "threshold", "clamp", "add", "mul", "div", "sub", "sqrt",
                            "pow", "sum", "mean", "norm", "where", "copy", "softmax", "fill")))


def group_of(name: str) -> str:
    lowered = name.lower()
    for group, keys in GROUPS:
        if any(key in lowered for key in keys):
            return group
    return "other"


def profile_shares(cfg: Any, steps: int) -> dict[str, float]:
    """Share of self CPU time per operator group over ``steps`` profiled iterations."""
    import numpy as np
    import torch
    from torch.profiler import ProfilerActivity, profile

    from textgan.bench import SYNTHETIC_ROWS, _textgan_step

    ids = np.random.default_rng(cfg.seed).integers(0, cfg.vocab, size=(SYNTHETIC_ROWS,
                                                                       cfg.seq_len),
                                                   dtype=np.uint8)
    step = _textgan_step(cfg, ids, torch.device("cpu"), {})
    for _ in range(3):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    shares: dict[str, float] = defaultdict(float)
    for event in prof.key_averages():
        if event.key.startswith("aten::"):  # leaf operators: their self time is the kernels'
            shares[group_of(event.key)] += event.self_cpu_time_total
    total = sum(shares.values()) or 1.0
    return {group: round(t / total, 4) for group, t in sorted(shares.items())}


def parser() -> argparse.ArgumentParser:
    from textgan.benchmarking import add_arguments

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p, "step-speed")
    p.add_argument("--threads-2", type=int, default=2, dest="threads_2",
                   help="The second thread count timed [default: 2; 0: skip].")
    p.add_argument("--repeats", type=int, default=30, help="Timed iterations per implementation.")
    p.add_argument("--variant", action="append", default=None,
                   help="textgan bench variants timed beside (repeatable) [default: joint].")
    p.add_argument("--profile-steps", type=int, default=20,
                   help="Iterations profiled for the time breakdown (0: skip).")
    for key, value in SHAPE.items():
        p.add_argument(f"--{key.replace('_', '-')}", type=int, default=value, dest=key)
    return p


def main(argv: list[str] | None = None) -> None:
    import torch

    from textgan.bench import BenchConfig, run_bench
    from textgan.benchmarking import write_benchmark_result

    args = parser().parse_args(argv)
    variants = args.variant if args.variant is not None else ["joint"]
    shape = {key: getattr(args, key) for key in SHAPE}
    by_threads: dict[str, Any] = {}
    for threads in [args.threads] + ([args.threads_2] if args.threads_2 else []):
        cfg = BenchConfig(**shape, threads=threads, repeats=args.repeats, warmup=2,
                          variants=list(variants), seed=args.seed)
        out = run_bench(cfg)
        rows = {name: {"s_per_gen_iter": round(r["s_per_gen_iter"], 4),
                       "cpu_s_per_gen_iter": round(r["cpu_s_per_gen_iter"], 4),
                       "gflop_per_gen_iter": float(f"{r['gflop_per_gen_iter']:.4g}"),
                       "gflops": float(f"{r['gflops']:.4g}"),
                       "fraction_of_matmul_peak": round(r["fraction_of_matmul_peak"], 3)}
                for name, r in out["implementations"].items()}
        by_threads[str(threads)] = {"matmul_peak_gflops": round(out["matmul_peak_gflops"]["fp32"],
                                                                 1),
                                    "load_avg_1min": out["load_avg_1min"],
                                    "implementations": rows}
        for name, row in rows.items():
            print(f"{threads} thread(s) {name:16s} {row['s_per_gen_iter']:.3f} s/iter "
                  f"{row['gflops']:6.1f} GFLOP/s = {row['fraction_of_matmul_peak']:.0%} of "
                  f"{by_threads[str(threads)]['matmul_peak_gflops']:.0f}", flush=True)
    results: dict[str, Any] = {"shape": shape, "variants": variants, "repeats": args.repeats,
                               "threads": by_threads}
    if args.threads_2:
        one, two = (by_threads[str(t)]["implementations"]["textgan"]["s_per_gen_iter"]
                    for t in (args.threads, args.threads_2))
        results["speedup_threads"] = round(one / two, 3)
        print(f"{args.threads_2} threads over {args.threads}: {one / two:.2f}x")
    if args.profile_steps:
        torch.set_num_threads(args.threads)
        cfg = BenchConfig(**shape, threads=args.threads, seed=args.seed)
        results["self_time_shares"] = profile_shares(cfg, args.profile_steps)
        print("self CPU time: " + ", ".join(f"{k} {v:.0%}"
                                            for k, v in results["self_time_shares"].items()))
    path = write_benchmark_result(args, "How close to the CPU's matmul peak does the cpu preset's "
                                  "training step run, where does its time go, and what does a "
                                  "second thread buy?", results, script=__file__, argv=argv)
    print(f"result: {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
