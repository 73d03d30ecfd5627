"""One schema for settings: presets, CLI flags and config.toml all follow the config dataclasses."""

from __future__ import annotations

import pytest

# Every preset's effective configuration, recorded from the code before presets were reduced to
# their differences from the defaults. A setting added later may add keys; these values must stay.
RESOLVED_PRESETS = {
    ("text", "paper"): {
        "train": {"steps": 200000, "batch_size": 64, "critic_iters": 10, "objective": "wgan-gp",
                  "gp_lambda": 10.0, "clip": 0.01, "optimizer": "adam", "lr": 0.0001, "lr_critic": None,
                  "betas": [0.5, 0.9], "precision": "fp32", "critic_batching": "separate", "seed": 0,
                  "device": "auto", "log_every": 1, "checkpoint_every": 1000, "sample_every": 100,
                  "eval_every": 100, "keep_checkpoints": 3},
        "data": {"corpus": None, "corpus_path": None, "valid_path": None, "data_dir": "data",
                 "seq_len": 32, "pad": "`", "tokenizer": "char", "max_vocab": 2048, "vocab_size": 4000,
                 "sp_model_type": "unigram", "sp_character_coverage": 1.0, "max_lines": 10000000,
                 "encoding_errors": "strict"},
        "model": {"dim": 512, "blocks": 5, "kernel_size": 5, "res_scale": 0.3, "noise_dim": 128,
                  "init": "paper"},
    },
    ("text", "cpu"): {
        "train": {"steps": 3000, "batch_size": 32, "critic_iters": 1, "objective": "wgan-gp",
                  "gp_lambda": 10.0, "clip": 0.01, "optimizer": "adam", "lr": 0.001, "lr_critic": 0.003,
                  "betas": [0.5, 0.9], "precision": "fp32", "critic_batching": "separate", "seed": 0,
                  "device": "auto", "log_every": 1, "checkpoint_every": 500, "sample_every": 250,
                  "eval_every": 250, "keep_checkpoints": 3},
        "data": {"corpus": None, "corpus_path": None, "valid_path": None, "data_dir": "data",
                 "seq_len": 32, "pad": "`", "tokenizer": "char", "max_vocab": 2048, "vocab_size": 4000,
                 "sp_model_type": "unigram", "sp_character_coverage": 1.0, "max_lines": None,
                 "encoding_errors": "strict"},
        "model": {"dim": 64, "blocks": 5, "kernel_size": 5, "res_scale": 0.3, "noise_dim": 128,
                  "init": "paper"},
    },
    ("image", "paper-mnist"): {
        "train": {"steps": 200000, "batch_size": 50, "critic_iters": 5, "objective": "wgan-gp",
                  "gp_lambda": 10.0, "clip": 0.01, "optimizer": "adam", "lr": 0.0001, "lr_critic": None,
                  "betas": [0.5, 0.9], "precision": "fp32", "critic_batching": "separate", "seed": 0,
                  "device": "auto", "log_every": 1, "checkpoint_every": 1000, "sample_every": 1000,
                  "eval_every": 1000, "keep_checkpoints": 3},
        "data": {"dataset": "mnist", "data_path": None, "data_dir": "data", "download": True,
                 "grid_images": 64, "swd_images": 1000, "swd_projections": 128, "fid": False,
                 "fid_images": 5000},
        "model": {"arch": "dcgan", "dim": 64, "noise_dim": 128},
    },
    ("image", "paper-cifar10"): {
        "train": {"steps": 100000, "batch_size": 64, "critic_iters": 5, "objective": "wgan-gp",
                  "gp_lambda": 10.0, "clip": 0.01, "optimizer": "adam", "lr": 0.0002, "lr_critic": None,
                  "betas": [0.0, 0.9], "precision": "fp32", "critic_batching": "separate", "seed": 0,
                  "device": "auto", "log_every": 1, "checkpoint_every": 1000, "sample_every": 1000,
                  "eval_every": 1000, "keep_checkpoints": 3},
        "data": {"dataset": "cifar10", "data_path": None, "data_dir": "data", "download": True,
                 "grid_images": 64, "swd_images": 1000, "swd_projections": 128, "fid": False,
                 "fid_images": 5000},
        "model": {"arch": "resnet", "dim": 128, "noise_dim": 128},
    },
    ("image", "cpu"): {
        "train": {"steps": 300, "batch_size": 50, "critic_iters": 5, "objective": "wgan-gp",
                  "gp_lambda": 10.0, "clip": 0.01, "optimizer": "adam", "lr": 0.001, "lr_critic": None,
                  "betas": [0.5, 0.9], "precision": "fp32", "critic_batching": "separate", "seed": 0,
                  "device": "auto", "log_every": 1, "checkpoint_every": 100, "sample_every": 50,
                  "eval_every": 50, "keep_checkpoints": 3},
        "data": {"dataset": "mnist", "data_path": None, "data_dir": "data", "download": True,
                 "grid_images": 64, "swd_images": 1000, "swd_projections": 128, "fid": False,
                 "fid_images": 5000},
        "model": {"arch": "dcgan", "dim": 16, "noise_dim": 128},
    },
    ("toy", "paper"): {
        "train": {"steps": 100000, "batch_size": 256, "critic_iters": 5, "objective": "wgan-gp",
                  "gp_lambda": 0.1, "clip": 0.01, "optimizer": "adam", "lr": 0.0001, "lr_critic": None,
                  "betas": [0.5, 0.9], "precision": "fp32", "critic_batching": "separate", "seed": 0,
                  "device": "auto", "log_every": 1, "checkpoint_every": 5000, "sample_every": 5000,
                  "eval_every": 500, "keep_checkpoints": 3},
        "data": {"dataset": "8gaussians", "plot_points": 1000, "eval_points": 2560},
        "model": {"dim": 512, "hidden_layers": 3, "noise_dim": 2, "fixed_generator": False},
    },
    ("toy", "cpu"): {
        "train": {"steps": 1000, "batch_size": 256, "critic_iters": 5, "objective": "wgan-gp",
                  "gp_lambda": 1.0, "clip": 0.01, "optimizer": "adam", "lr": 0.001, "lr_critic": None,
                  "betas": [0.5, 0.9], "precision": "fp32", "critic_batching": "separate", "seed": 0,
                  "device": "auto", "log_every": 1, "checkpoint_every": 500, "sample_every": 250,
                  "eval_every": 100, "keep_checkpoints": 3},
        "data": {"dataset": "8gaussians", "plot_points": 1000, "eval_points": 2560},
        "model": {"dim": 128, "hidden_layers": 3, "noise_dim": 2, "fixed_generator": False},
    },
    ("toy", "figure1"): {
        "train": {"steps": 300, "batch_size": 256, "critic_iters": 5, "objective": "wgan-gp",
                  "gp_lambda": 0.1, "clip": 0.01, "optimizer": "adam", "lr": 0.0001, "lr_critic": None,
                  "betas": [0.5, 0.9], "precision": "fp32", "critic_batching": "separate", "seed": 0,
                  "device": "auto", "log_every": 1, "checkpoint_every": 300, "sample_every": 100,
                  "eval_every": 50, "keep_checkpoints": 3},
        "data": {"dataset": "8gaussians", "plot_points": 1000, "eval_points": 2560},
        "model": {"dim": 512, "hidden_layers": 3, "noise_dim": 2, "fixed_generator": True},
    },
}


@pytest.mark.parametrize("mode,preset", list(RESOLVED_PRESETS))
def test_presets_resolve_as_recorded(mode, preset):
    from textgan.training import resolve_config

    resolved = resolve_config(mode, preset).to_dict()
    for section, values in RESOLVED_PRESETS[mode, preset].items():
        assert {k: resolved[section][k] for k in values} == values, section


def test_every_preset_is_recorded():
    from textgan.training import MODES, presets_for

    assert {(m, p) for m in MODES for p in presets_for(m)} == set(RESOLVED_PRESETS)
