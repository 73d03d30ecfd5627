"""What do the generator's moving average, the in-training evaluation and the cheaper penalties
cost per step at the cpu preset?

    python benchmarks/overhead.py --steps 400 --penalties --name overhead

Builds the cpu preset's run (through ``textgan.training``) without and with its moving average
(``ema_decay``), and with ``--penalties`` also with ``critic_batching = "joint-penalty"`` and with
``penalty_every = 4``; trains them in interleaved blocks of ``--block`` steps so that all see the
same machine load, and reports process-CPU seconds per step. Then times one in-training
evaluation (``--samples`` argmax samples, JS-1..4 against the cached held-out statistics, as the
evaluation hook does) and divides it by the preset's ``eval_every`` steps: the share of training
time evaluation adds. Writes ``<out>/<name>.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import Any

import torch

from textgan.benchmarking import (
    add_arguments,
    add_corpus_arguments,
    configure,
    corpus_label,
    cpu_time,
    data_settings,
    write_benchmark_result,
)
from textgan.config import PAPER_SAMPLES
from textgan.eval import evaluate_js
from textgan.text.evaluation import reference_for
from textgan.text.prepare import PreparedCorpus
from textgan.text.sampling import generate_ids
from textgan.training import start_training

QUESTION = ("What do the generator's moving average, in-training evaluation and the cheaper "
            "penalties cost per step at the cpu preset?")

# Each variant: the cpu preset with these settings changed.
VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {"ema_decay": 0.0},
    "ema": {},
}
PENALTIES: dict[str, dict[str, Any]] = {
    "joint-penalty": {"critic_batching": "joint-penalty"},
    "penalty_every_4": {"penalty_every": 4},
}


def session_for(args: argparse.Namespace, out: str, **changes: Any) -> Any:
    config = configure("cpu", train={"seed": args.seed, "device": "cpu", "threads": args.threads,
                                     "eval_every": 0, "sample_every": 0, **changes},
                       data=data_settings(args))
    return start_training(config, out=out)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p, "overhead")
    add_corpus_arguments(p)
    p.add_argument("--steps", type=int, default=200, help="Timed steps per variant, in blocks.")
    p.add_argument("--block", type=int, default=20, help="Steps per block.")
    p.add_argument("--warmup", type=int, default=5, help="Untimed steps per variant first.")
    p.add_argument("--samples", type=int, default=PAPER_SAMPLES,
                   help=f"Samples per evaluation [default: {PAPER_SAMPLES}, the hook's].")
    p.add_argument("--penalties", action="store_true",
                   help="Also time joint-penalty and penalty_every 4.")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    variants = {**VARIANTS, **(PENALTIES if args.penalties else {})}
    with tempfile.TemporaryDirectory(prefix="textgan-overhead-") as tmp:
        sessions = {name: session_for(args, f"{tmp}/{name}", **changes)
                    for name, changes in variants.items()}
        trainers = {name: s.trainer for name, s in sessions.items()}
        for trainer in trainers.values():
            cpu_time(trainer.train_step, args.warmup)
        spent = dict.fromkeys(trainers, 0.0)
        blocks = max(1, args.steps // args.block)
        for _ in range(blocks):
            for name, trainer in trainers.items():
                spent[name] += cpu_time(trainer.train_step, args.block)
        n = blocks * args.block
        per_step = {k: v / n for k, v in spent.items()}
        # One evaluation as the hook does it (argmax ids, seeded by the step).
        plain = sessions["plain"]
        corpus = PreparedCorpus.open(plain.setup.extra_state["corpus_dir"])
        reference = reference_for(corpus, "valid")
        generator = plain.setup.generator
        evaluate_js(generate_ids(generator, args.samples, seed=1).numpy(), reference)
        eval_s = cpu_time(lambda: evaluate_js(generate_ids(generator, args.samples,
                                                           seed=2).numpy(), reference), 3) / 3
    eval_every = configure("cpu").train.eval_every
    results = {
        "corpus": corpus_label(args), "steps": n,
        "cpu_s_per_step": {k: round(v, 5) for k, v in per_step.items()},
        "ema_overhead": round(per_step["ema"] / per_step["plain"] - 1, 4),
        "eval_cpu_s": round(eval_s, 4), "eval_samples": args.samples, "eval_every": eval_every,
        "eval_overhead": round(eval_s / (eval_every * per_step["plain"]), 4),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }
    table = [{"variant": k, "settings": str(variants[k] or "the preset"),
              "cpu_s_per_step": round(v, 5),
              "vs_plain": round(v / per_step["plain"] - 1, 4)} for k, v in per_step.items()]
    path = write_benchmark_result(args, QUESTION, results, script=__file__, argv=argv,
                                  table=table)
    for row in table:
        print(f"{row['variant']:16s} {row['cpu_s_per_step']:.4f} CPU-s/step "
              f"({100 * row['vs_plain']:+.1f}% vs plain)")
    print(f"evaluation: {eval_s:.3f} CPU-s every {eval_every} steps "
          f"({100 * results['eval_overhead']:.1f}% of training)\nresult: {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
