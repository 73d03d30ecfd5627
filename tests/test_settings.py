"""One schema for settings: presets, CLI flags and config.toml all follow the config dataclasses."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest


def _changed_keys(resolved: dict, committed: dict) -> list[str]:
    """``name [section] key: committed -> resolved`` for every value that differs."""
    out = []
    for name in sorted(resolved.keys() | committed.keys()):
        new, old = resolved.get(name, {}), committed.get(name, {})
        for section in sorted(new.keys() | old.keys()):
            a, b = new.get(section, {}), old.get(section, {})
            if not (isinstance(a, dict) and isinstance(b, dict)):  # the mode's and preset's names
                a, b = {"": a}, {"": b}
            for key in sorted(a.keys() | b.keys()):
                if a.get(key, "<absent>") != b.get(key, "<absent>"):
                    out.append(f"{name} [{section}] {key}: {b.get(key, '<absent>')!r} -> "
                               f"{a.get(key, '<absent>')!r}")
    return out


def test_presets_resolve_as_committed():
    """Each preset's whole effective configuration equals the committed snapshot: a changed default
    or preset is a reviewed diff of tests/snapshots/resolved_presets.json, never a silent change."""
    from helpers.presets_snapshot import SNAPSHOT, render, resolved_presets

    resolved = json.loads(render(resolved_presets()))  # the JSON view: tuples become lists
    changed = _changed_keys(resolved, json.loads(SNAPSHOT.read_text()))
    assert not changed, (
        "presets differ from tests/snapshots/resolved_presets.json (if intended, run "
        "`python tests/helpers/presets_snapshot.py` and commit the diff):\n" + "\n".join(changed))


def test_snapshot_comparison_names_a_changed_default():
    old = {"text/cpu": {"train": {"lr": 0.001, "steps": 3}}}
    new = {"text/cpu": {"train": {"lr": 0.002, "steps": 3, "extra": 1}}}
    assert _changed_keys(new, old) == ["text/cpu [train] extra: '<absent>' -> 1",
                                       "text/cpu [train] lr: 0.001 -> 0.002"]
    assert _changed_keys(old, old) == []


def _all_presets() -> list[tuple[str, str]]:
    from textgan.modes import MODES

    return [(m, p) for m in sorted(MODES) for p in sorted(MODES[m].presets)]


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


@pytest.mark.parametrize("mode,preset", _all_presets())
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
                 (TextDataConfig, ("seq_len", "data_dir", "encoding_errors")), (TrainConfig, ("device",))],
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


def test_every_preset_is_described_in_train_help(capsys):
    """``--preset``'s help comes from the presets themselves: each one, with its description."""
    from textgan.cli.main import run
    from textgan.config import Preset
    from textgan.modes import MODES

    assert run(["train", "--help"]) == 0
    # the help as one line: click wraps it, breaking long names after a hyphen
    shown = " ".join(re.sub(r"-\n\s+", "-", capsys.readouterr().out).split())
    for mode in MODES.values():
        assert f"{mode.name.capitalize()} mode: " in shown
        for name, preset in mode.presets.items():
            assert isinstance(preset, Preset) and preset.description, (mode.name, name)
            default = " (default)" if name == mode.default_preset({}) else ""
            assert f"{name}{default} — {preset.description}" in shown, (mode.name, name)
    for name in ("paper-cifar10-conditional", "cpu-fashion-conditional", "figure1"):
        assert f" {name} — " in shown


def test_a_preset_is_its_sections_with_a_description():
    from textgan.config import Preset

    preset = Preset("fast", train={"steps": 3}, model={"dim": 8})
    assert preset == {"train": {"steps": 3}, "model": {"dim": 8}} and preset.description == "fast"


def test_every_sample_count_default_is_the_papers():
    """One constant: the commands and functions that generate samples to score default to it."""
    import inspect

    import typer.main

    from textgan.api import TrainedModel
    from textgan.cli.main import app
    from textgan.config import PAPER_SAMPLES
    from textgan.export import export_folder
    from textgan.text.eval_hook import eval_hook

    assert PAPER_SAMPLES == 640  # the paper's code: 10 batches of 64
    group = typer.main.get_command(app)
    for command, option in (("eval", "samples"), ("export", "eval_samples")):
        (param,) = [p for p in group.get_command(None, command).params if p.name == option]
        assert param.default == PAPER_SAMPLES, command
    assert inspect.signature(TrainedModel.evaluate).parameters["n"].default == PAPER_SAMPLES
    assert inspect.signature(export_folder).parameters["eval_samples"].default == PAPER_SAMPLES
    assert inspect.signature(eval_hook).parameters["n_samples"].default == PAPER_SAMPLES


def test_limits_are_setting_metadata_checked_for_every_config():
    """``setting(..., min=...)`` is checked by apply_overrides; a config needs no validate()."""
    from textgan.config import apply_overrides, setting
    from textgan.core.trainer import TrainConfig
    from textgan.errors import ConfigError

    @dataclasses.dataclass
    class Example:
        count: int = setting(1, "A count.", min=1)
        every: int = setting(0, "How often (0: off).", min=0, zero="off")
        rate: float | None = setting(None, "A rate.", min=0.0)

    assert apply_overrides(Example(), {"count": 2, "every": 0, "rate": 0.0}) == Example(2, 0, 0.0)
    for overrides, message in [
        ({"count": 0}, "^x.count must be at least 1, got 0$"),
        ({"every": -1}, r"^x.every must be 0 \(off\) or positive, got -1$"),
        ({"rate": -0.5}, "^x.rate must be a non-negative number, got -0.5$"),
        ({"rate": float("nan")}, "^x.rate must be a non-negative number, got nan$"),
    ]:
        with pytest.raises(ConfigError, match=message):
            apply_overrides(Example(), overrides, "x")
    for overrides, message in [
        ({"steps": 0}, "^train.steps must be at least 1, got 0$"),
        ({"eval_every": -2}, r"^train.eval_every must be 0 \(off\) or positive, got -2$"),
        ({"lr_critic": float("inf")}, "^train.lr_critic must be a non-negative number, got inf$"),
        ({"decay_from_step": -1}, "^train.decay_from_step must be 0 or positive, got -1$"),
    ]:
        with pytest.raises(ConfigError, match=message):
            apply_overrides(TrainConfig(), overrides, "train")


def test_resumable_and_recorded_settings_are_declared_on_the_fields():
    from textgan.training import RECORDED, RESUMABLE

    assert RESUMABLE == {"steps", "time_budget", "device", "threads", "checkpoint_every",
                         "sample_every", "eval_every", "log_every", "keep_checkpoints"}
    assert RECORDED == {"schedule_steps", "decay_from_step", "decay_from_factor"}


@pytest.mark.parametrize("mode,section,key,value,message", [
    ("text", "model", "lm_hidden", -1, r"^model.lm_hidden must be 0 \(matched\) or positive, got -1$"),
    ("text", "data", "seq_len", 0, "^data.seq_len must be at least 1, got 0$"),
    ("image", "model", "g_dim", -4, r"^model.g_dim must be 0 \(model.dim\) or positive, got -4$"),
    ("image", "data", "max_images", -1, r"^data.max_images must be 0 \(all\) or positive, got -1$"),
    ("toy", "data", "eval_points", 1, "^data.eval_points must be at least 2, got 1$"),
    ("toy", "model", "hidden_layers", 0, "^model.hidden_layers must be at least 1, got 0$"),
])
def test_mode_settings_limits_keep_their_messages(mode, section, key, value, message):
    from textgan.errors import ConfigError
    from textgan.training import resolve_config

    with pytest.raises(ConfigError, match=message):
        resolve_config(mode, None, None, {section: {key: value}})
