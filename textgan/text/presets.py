"""Text presets: ``paper`` is the paper's experiment exactly; ``cpu`` learns visibly on 2 cores."""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    # Gulrajani et al. 2017, gan_language.py: Billion Word, first 10M lines, 32 chars,
    # 2048-char vocabulary, DIM 512, 5 residual blocks, batch 64, 10 critic steps, λ = 10,
    # Adam(1e-4, β = (0.5, 0.9)), 200k generator iterations.
    "paper": {
        "train": {"steps": 200_000, "batch_size": 64, "critic_iters": 10, "lr": 1e-4,
                  "lr_critic": None, "betas": [0.5, 0.9], "gp_lambda": 10.0,
                  "objective": "wgan-gp", "precision": "fp32", "checkpoint_every": 1000,
                  "sample_every": 100, "eval_every": 100},
        "model": {"dim": 512, "blocks": 5, "kernel_size": 5, "res_scale": 0.3, "noise_dim": 128},
        "data": {"seq_len": 32, "max_vocab": 2048, "max_lines": 10_000_000},
    },
    # Small enough for two CPU cores: a narrower network and fewer critic steps per generator
    # step. Measured on Brown (benchmarks/recipes.py, DIM 64, 240 CPU-seconds each, one seed):
    # 5 critic steps made 2x the generator steps of the paper's 10 and ended with the lowest
    # JS-4/JS-2 (0.988/0.79 vs 1.000/0.93); TTUR (1 critic step, critic lr 3e-4) dipped lowest
    # early (JS-4 0.966 at 120 s) but drifted back to 0.998, so it is not the default. fp32:
    # CPUs without AVX512-BF16 run bf16 ~12-17x slower. No recipe reached the JS-4 threshold
    # (2x the real-vs-real floor) in these budgets.
    "cpu": {
        "train": {"steps": 2000, "batch_size": 64, "critic_iters": 5, "lr": 1e-4,
                  "lr_critic": None, "betas": [0.5, 0.9], "gp_lambda": 10.0,
                  "objective": "wgan-gp", "precision": "fp32", "checkpoint_every": 200,
                  "sample_every": 50, "eval_every": 100},
        "model": {"dim": 64, "blocks": 5, "kernel_size": 5, "res_scale": 0.3, "noise_dim": 128},
        "data": {"seq_len": 32, "max_vocab": 2048},
    },
}


def default_preset(data_overrides: dict[str, Any]) -> str:
    """``paper`` for Billion Word (the paper's experiment), ``cpu`` for everything else."""
    return "paper" if data_overrides.get("corpus") == "billion_word" else "cpu"
