"""What the generator EMA and in-training evaluation cost at the cpu preset (prints numbers).

    python benchmarks/overhead.py --steps 200 --threads 1
    python benchmarks/overhead.py --steps 400 --penalties     # also the cheaper penalties

Trains the cpu preset's network (DIM 64, batch 32, 1 critic step) on the synthetic corpus with
and without ``ema_decay``, interleaving blocks of steps so both see the same machine load, and
reports process-CPU seconds per step. Then times one in-training evaluation (640 samples, JS-1..4
against the cached held-out statistics, as the eval hook does) and divides by the preset's
``eval_every`` steps: the share of training time evaluation adds. With ``--penalties`` it also
times, in the same interleaving, the preset with ``critic_batching = "joint-penalty"`` and with
``penalty_every = 4`` (both with the EMA).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np
import torch

from textgan.core.trainer import TrainConfig, Trainer, seed_everything
from textgan.eval import evaluate_js
from textgan.text.evaluation import PAPER_SAMPLES, reference_for
from textgan.text.mode import CorpusBatches
from textgan.text.models import TextModelConfig, build_models
from textgan.text.prepare import TextDataConfig, load_corpus
from textgan.text.sampling import generate_ids
from textgan.training import resolve_config


def trainer_for(corpus, ema_decay: float, **options) -> Trainer:
    preset = resolve_config("text", "cpu")
    seed_everything(0)
    generator, critic = build_models(len(corpus.vocab), corpus.seq_len,
                                     TextModelConfig(dim=preset.model.dim))
    cfg = TrainConfig(batch_size=preset.train.batch_size, critic_iters=preset.train.critic_iters,
                      lr=preset.train.lr, lr_critic=preset.train.lr_critic, ema_decay=ema_decay, **options)
    return Trainer(generator, critic, CorpusBatches(corpus.train, len(corpus.vocab), 0), cfg,
                   torch.device("cpu"))


def cpu_seconds(trainer: Trainer, steps: int) -> float:
    start = time.process_time()
    for _ in range(steps):
        trainer.train_step()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="steps per variant, in blocks")
    parser.add_argument("--block", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--penalties", action="store_true", help="also time joint-penalty and "
                        "penalty_every 4")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="textgan-overhead-")
    corpus = load_corpus(TextDataConfig(corpus="synthetic", data_dir=data_dir))
    trainers = {"plain": trainer_for(corpus, 0.0), "ema": trainer_for(corpus, 0.999)}
    if args.penalties:
        trainers["joint-penalty"] = trainer_for(corpus, 0.999, critic_batching="joint-penalty")
        trainers["penalty_every_4"] = trainer_for(corpus, 0.999, penalty_every=4)
    for trainer in trainers.values():
        cpu_seconds(trainer, 5)  # warm-up
    spent = dict.fromkeys(trainers, 0.0)
    for _ in range(args.steps // args.block):
        for name, trainer in trainers.items():
            spent[name] += cpu_seconds(trainer, args.block)
    n = args.steps // args.block * args.block
    per_step = {k: v / n for k, v in spent.items()}
    # One evaluation as the hook does it (argmax ids, seeded by the step).
    reference = reference_for(corpus, "valid")
    plain = trainers["plain"]
    evaluate_js(generate_ids(plain.generator, PAPER_SAMPLES, seed=1).numpy(), reference)
    start = time.process_time()
    for step in range(3):
        evaluate_js(generate_ids(plain.generator, PAPER_SAMPLES, seed=step).numpy(), reference)
    eval_s = (time.process_time() - start) / 3
    eval_every = resolve_config("text", "cpu").train.eval_every
    print(json.dumps({
        "threads": args.threads, "steps": n,
        "cpu_s_per_step": {k: round(v, 5) for k, v in per_step.items()},
        "ema_overhead": round(per_step["ema"] / per_step["plain"] - 1, 4),
        "eval_cpu_s": round(eval_s, 4), "eval_every": eval_every,
        "eval_overhead": round(eval_s / (eval_every * per_step["plain"]), 4),
        "load_avg": list(np.round(np.array(__import__("os").getloadavg()), 2)),
    }))


if __name__ == "__main__":
    main()
