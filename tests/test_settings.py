"""One schema for settings: presets, CLI flags and config.toml all follow the config dataclasses."""

from __future__ import annotations

import dataclasses
import re

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
        # the moving average of the generator and linear decay over 22k steps (issue 12's
        # measurements, in the preset's comment)
        "train": {"ema_decay": 0.999, "lr_schedule": "linear",
                  "steps": 22000, "batch_size": 32, "critic_iters": 1, "objective": "wgan-gp",
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
    ("text", "cpu-conditional"): {
        # issue 15: the cpu recipe with the paper's AC critic on the labelled synthetic classes
        "train": {"conditional": "ac", "ac_scale": 1.0, "ac_scale_g": 0.1, "ema_decay": 0.999,
                  "steps": 3000, "batch_size": 32, "critic_iters": 1, "objective": "wgan-gp",
                  "gp_lambda": 10.0, "lr": 0.001, "lr_critic": 0.003, "betas": [0.5, 0.9],
                  "sample_every": 250, "eval_every": 250, "checkpoint_every": 500},
        "data": {"corpus": "synthetic-classes", "labels": "none", "label_column": None,
                 "seq_len": 32, "tokenizer": "char", "max_vocab": 2048, "max_lines": None},
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
        # the paper's CIFAR-10 code: linear decay to 0, generator batch 2 x 64
        "train": {"lr_schedule": "linear", "gen_batch_multiple": 2,
                  "steps": 100000, "batch_size": 64, "critic_iters": 5, "objective": "wgan-gp",
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
    # issue 15: the paper's supervised CIFAR-10 model (gan_cifar_resnet.py, ACGAN)
    ("image", "paper-cifar10-conditional"): {
        "train": {"conditional": "ac", "ac_scale": 1.0, "ac_scale_g": 0.1,
                  "lr_schedule": "linear", "gen_batch_multiple": 2,
                  "steps": 100000, "batch_size": 64, "critic_iters": 5, "objective": "wgan-gp",
                  "gp_lambda": 10.0, "optimizer": "adam", "lr": 0.0002, "lr_critic": None,
                  "betas": [0.0, 0.9], "checkpoint_every": 1000, "sample_every": 1000,
                  "eval_every": 1000},
        "data": {"dataset": "cifar10"},
        "model": {"arch": "resnet", "dim": 128, "noise_dim": 128},
    },
    ("image", "cpu-fashion-conditional"): {
        "train": {"conditional": "ac", "ac_scale": 1.0, "ac_scale_g": 1.0,
                  "steps": 1000, "batch_size": 50, "critic_iters": 5, "objective": "wgan-gp",
                  "gp_lambda": 10.0, "optimizer": "adam", "lr": 0.001, "lr_critic": None,
                  "betas": [0.5, 0.9], "checkpoint_every": 250, "sample_every": 100,
                  "eval_every": 100},
        "data": {"dataset": "fashion-mnist", "label_accuracy_images": 100},
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
    from textgan.modes import MODES

    assert {(m, p) for m in MODES for p in MODES[m].presets} == set(RESOLVED_PRESETS)


def _defaults(config_type):
    from textgan.config import as_dict

    return as_dict(config_type())


def test_no_preset_restates_a_default():
    from textgan.modes import MODES

    for mode in MODES:
        types = MODES[mode].config_types()
        for name, preset in MODES[mode].presets.items():
            for section, values in preset.items():
                defaults = _defaults(types[section])
                restated = {k: v for k, v in values.items() if defaults[k] == v}
                assert not restated, f"{mode} preset {name} restates {section} defaults {restated}"


@pytest.mark.parametrize("mode,preset", list(RESOLVED_PRESETS))
def test_config_toml_round_trips(tmp_path, mode, preset):
    """config.toml as a run writes it reads back as the same configuration, also as --config."""
    from textgan.core.run import Run
    from textgan.training import resolve_config, run_config_from_dict

    config = resolve_config(mode, preset)
    run = Run(tmp_path / "run")
    run.write_config(config.to_dict())
    assert run_config_from_dict(run.read_config()) == config
    assert resolve_config("text", None, str(run.config_path)) == config


# --- every flag is a field -------------------------------------------------------------------

# Options that are not settings: what to do, not how to train or evaluate.
NOT_SETTINGS = {
    "train": {"mode", "preset", "config", "out", "runs_dir", "resume", "reschedule",
              "tensorboard"},
    "prepare": {"force"},
    "eval": {"samples_file", "reference", "run", "samples", "temperature", "temperatures", "plot",
             "as_json", "checkpoint", "raw", "model"},
    "bench": {"as_json"},
}


def _command_fields(command):
    """The flag fields a command offers (eval: some fields of the data and training configs)."""
    from textgan.bench import BenchConfig
    from textgan.core.trainer import TrainConfig
    from textgan.eval import EvalConfig, ReferenceConfig
    from textgan.modes import MODES
    from textgan.text.prepare import TextDataConfig

    classes = {
        "train": [(c, None) for m in MODES.values() for c in m.config_types().values()],
        "prepare": [(TextDataConfig, None)],
        "eval": [(EvalConfig, None), (ReferenceConfig, None),
                 (TextDataConfig, ("seq_len", "data_dir")), (TrainConfig, ("device",))],
        "bench": [(BenchConfig, None)],
    }[command]
    return [f for c, only in dict.fromkeys(classes) for f in dataclasses.fields(c)
            if f.metadata.get("flag") and (only is None or f.name in only)]


def _flag_name(f):
    flag = f.metadata["flag"]
    return flag if isinstance(flag, str) else f.name.replace("_", "-")


def _shown_default(f):
    default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    if isinstance(default, bool):
        return _flag_name(f) if default else f"no-{_flag_name(f)}"
    return str(default)


@pytest.mark.parametrize("command", list(NOT_SETTINGS))
def test_every_flag_is_a_field_with_its_help_and_default(command):
    import typer.main

    from textgan.cli.main import app

    click_command = typer.main.get_command(app).get_command(None, command)
    fields = _command_fields(command)
    offered = set()
    for param in click_command.params:
        if param.name in NOT_SETTINGS[command] or param.name == "help":
            continue
        flag = param.opts[0]
        mine = [f for f in fields if f"--{_flag_name(f)}" == flag]
        assert mine, f"{command} {flag} is no setting's flag"
        assert param.default is None, f"{command} {flag} states a default of its own"
        for f in mine:
            help_text = f.metadata["help"].rstrip(".")
            assert help_text[1:] in param.help, (command, flag, param.help)
        shown = re.search(r"  \[default: (.*)\]$", param.help)  # as click shows one
        if shown:
            assert {shown[1]} == {_shown_default(f) for f in mine}, (command, flag)
        offered.add(flag)
    assert offered == {f"--{_flag_name(f)}" for f in fields}


def test_train_flags_reach_their_sections(monkeypatch):
    import textgan.cli.train
    from textgan.cli.main import run

    seen = {}
    monkeypatch.setattr(textgan.cli.train, "_train", lambda mode, preset, config, overrides, **kw:
                        seen.update(mode=mode, overrides=overrides))
    assert run(["train", "--mode", "image", "--dim", "8", "--seed", "3", "--dataset", "cifar10",
                "--lr", "0.01"]) == 0
    assert seen == {"mode": "image", "overrides": {"train": {"seed": 3, "lr": 0.01},
                                                   "data": {"dataset": "cifar10"},
                                                   "model": {"dim": 8}}}


def test_bench_and_eval_build_their_configs_from_the_fields(monkeypatch, tmp_path):
    import textgan.cli.bench
    import textgan.text.evaluation
    from textgan.bench import BenchConfig
    from textgan.cli.main import run
    from textgan.errors import TextganError

    got = {}

    def stop(**kwargs):
        got.update(kwargs)
        raise TextganError("stopped")

    monkeypatch.setattr(textgan.cli.bench, "run_bench", lambda cfg, progress: stop(cfg=cfg))
    assert run(["bench", "--dim", "16", "--no-reference", "--variant", "bf16"]) == 1
    assert got["cfg"] == BenchConfig(dim=16, reference=False, variants=["bf16"])

    monkeypatch.setattr(textgan.text.evaluation, "evaluate_file",
                        lambda samples, reference, **kw: stop(**kw))
    assert run(["eval", "s.txt", "--reference", "r.txt", "--no-lm", "--seq-len", "12"]) == 1
    assert (got["data_dir"], got["seq_len"], got["js_text"]) == ("data", 12, "valid")
    assert got["config"].lm is False and got["config"].lm_order == 6


def test_check_type():
    from typing import Literal

    from textgan.config import check_type
    from textgan.errors import ConfigError

    assert check_type("x", 3, float) == 3.0 and isinstance(check_type("x", 3, float), float)
    assert check_type("x", [0.5, 0.9], tuple[float, float]) == (0.5, 0.9)
    assert check_type("x", [1, 2, 3], tuple[int, ...]) == (1, 2, 3)
    assert check_type("x", None, int | None) is None
    assert check_type("x", ["a"], list[str]) == ["a"]
    for value, hint, message in [
        (True, int, "x must be a whole number, got True"),
        (1.5, int, "x must be a whole number"),
        ("1", float, "x must be a number"),
        (1, bool, "x must be true or false"),
        (1, str, "x must be a string"),
        ("z", Literal["a", "b"], "x must be one of a, b; got 'z'"),
        ([1], tuple[float, float], "x must be a list of 2 values"),
        ("ab", list[str], "x must be a list of values"),
        ("a", int | None, "x must be a whole number"),
    ]:
        with pytest.raises(ConfigError, match=message):
            check_type("x", value, hint)


def test_setting_declares_default_help_and_flag():
    from textgan.config import setting

    @dataclasses.dataclass
    class Example:
        rate: float = setting(0.5, "A rate.", flag=True)
        names: list[str] = setting([], "Some names.", flag="name")

    a, b = Example(), Example()
    a.names.append("x")
    assert b.names == [] and Example.rate == 0.5  # a fresh list each time; the class keeps 0.5
    rate, names = dataclasses.fields(Example)
    assert rate.metadata == {"help": "A rate.", "flag": True}
    assert names.metadata["flag"] == "name"
