"""Text presets: ``paper`` is the paper's experiment exactly; ``cpu`` learns visibly on a CPU.

A preset holds only what differs from the defaults of TrainConfig, TextDataConfig and
TextModelConfig, which are the paper's settings.
"""

from __future__ import annotations

from typing import Any

from textgan.config import Preset

PRESETS: dict[str, Preset] = {
    # Gulrajani et al. 2017, gan_language.py: Billion Word, first 10M lines, 32 chars,
    # 2048-char vocabulary, DIM 512, 5 residual blocks, batch 64, 10 critic steps, λ = 10,
    # Adam(1e-4, β = (0.5, 0.9)), 200k generator iterations. All but the line cap are the defaults.
    "paper": Preset(
        "the paper's experiment exactly (DIM 512, 10 critic steps, 200k steps); the default for "
        "--corpus billion_word",
        train={"checkpoint_every": 1000},
        data={"max_lines": 10_000_000},
    ),
    # Learns visibly on a CPU in minutes: the paper's network at DIM 64 with a fast two
    # time-scale recipe (1 critic step per generator step, Adam lr 1e-3 for the generator and 3e-3
    # for the critic, batch 32), the paper code's initialisation, samples and evaluations from a
    # moving average of the generator (ema_decay 0.999, with warm-up), and both learning rates
    # decaying linearly to 0 at `steps` (22k: the steps of an 1800-CPU-second budget, one thread,
    # on a Zen 3 core). The critic is shown the generator's straight-through one-hot output, so it
    # cannot tell generated text by its softness (lower JS-4 and LM bits on Brown beyond seed
    # noise, and not worse on the synthetic grammar, at 1800 CPU-s).
    # measured: docs/results/recipes-brown.json, docs/results/recipes-synthetic-400s.json,
    # docs/results/levers-brown-confirm.json, docs/results/levers-synthetic-confirm.json
    "cpu": Preset(
        "DIM 64 with a fast two time-scale recipe (1 critic step, lr 1e-3/3e-3, batch 32) and "
        "a straight-through one-hot output that learns visibly on two CPU cores in minutes",
        train={"steps": 22000, "batch_size": 32, "critic_iters": 1, "lr": 1e-3,
               "lr_critic": 3e-3, "ema_decay": 0.999, "lr_schedule": "linear",
               "sample_every": 250, "eval_every": 250},
        model={"dim": 64, "gen_output": "straight-through"},
    ),
}
# The synthetic grammar's questions and statements (--corpus synthetic-classes), class-conditional
# with the paper's AC critic: the cpu recipe, labelled. The evaluation logs the oracle's judgement
# of each sample against the class it was generated for: class_accuracy (a sentence of its class)
# and the signs that come first, class_start (its first word) and class_end (its final mark).
# 3000 steps at a constant rate (the cpu preset's 22k-step linear decay is sized for 1800 CPU-s)
# and the softmax output it was measured with.
# measured: docs/results/conditional-text-synthetic.json
PRESETS["cpu-conditional"] = Preset(
    "cpu, class-conditional (AC) on --corpus synthetic-classes, 3000 steps at a constant rate, "
    "softmax output",
    train={**{k: v for k, v in PRESETS["cpu"]["train"].items() if k != "lr_schedule"},
           "steps": 3000, "conditional": "ac"},
    data={"corpus": "synthetic-classes"},
    model={"dim": 64},
)


def default_preset(data_overrides: dict[str, Any]) -> str:
    """``paper`` for Billion Word (the paper's experiment), ``cpu`` for everything else."""
    return "paper" if data_overrides.get("corpus") == "billion_word" else "cpu"
