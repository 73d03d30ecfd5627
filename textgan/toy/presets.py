"""Toy presets: the paper's gan_toy.py settings, a CPU-length run, and the Figure 1 setup.

A preset holds only what differs from the defaults (ToyModelConfig is the paper's MLPs: 3 × 512,
2-D noise; TrainConfig: wgan-gp, Adam(1e-4, β = (0.5, 0.9))).
"""

from __future__ import annotations

from typing import Any

from textgan.config import Preset

# gan_toy.py: batch 256, 5 critic steps, λ = 0.1, Adam(1e-4, β = (0.5, 0.9)); MLPs 3 × 512.
_PAPER_TRAIN: dict[str, Any] = {"batch_size": 256, "critic_iters": 5, "gp_lambda": 0.1}

PRESETS: dict[str, Preset] = {
    # The paper's 100k generator iterations.
    "paper": Preset(
        "gan_toy.py: batch 256, 5 critic steps, λ = 0.1, 100k steps",
        train={**_PAPER_TRAIN, "steps": 100_000, "checkpoint_every": 5000,
               "sample_every": 5000, "eval_every": 500},
    ),
    # Learns the 8 Gaussians in about 2.5 minutes on a (shared) CPU: MLPs of 128 instead of 512,
    # λ = 1 and Adam at 1e-3 instead of 1e-4. Measured: all 8 modes covered and ‖∇D‖ ≈ 1.03 on
    # interpolates at step 1000, 0.12 s per step.
    "cpu": Preset(
        "MLPs of 128, λ = 1, lr 1e-3: the 8 Gaussians in 1000 steps, minutes on a CPU",
        train={**_PAPER_TRAIN, "steps": 1000, "gp_lambda": 1.0, "lr": 1e-3,
               "sample_every": 250},
        model={"dim": 128},
    ),
    # Figure 1(a): the generator held fixed at real data + N(0, I), only the critic trains (1500
    # critic updates: the two surfaces have clearly parted by then, about 2 minutes on a CPU);
    # run it once with --objective wgan-clip and once with wgan-gp.
    "figure1": Preset(
        "Figure 1(a): only the critic trains, against a fixed generator (run it with "
        "--objective wgan-clip and with wgan-gp)",
        train={**_PAPER_TRAIN, "steps": 300, "checkpoint_every": 300, "eval_every": 50},
        model={"fixed_generator": True},
    ),
}


def default_preset(data_overrides: dict[str, Any]) -> str:
    return "cpu"
