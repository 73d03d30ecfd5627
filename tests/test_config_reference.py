"""docs/configuration.md is the generated reference of every setting, and is up to date."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from textgan.config import setting
from textgan.config_reference import REGENERATE, render_reference, settings_table, type_name
from textgan.core.trainer import TrainConfig
from textgan.modes import MODES

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "configuration.md"


def test_the_committed_reference_is_the_generated_one():
    generated = render_reference()
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.is_file() else ""
    assert committed == generated, (f"docs/configuration.md is out of date with the settings; "
                                    f"regenerate it: {REGENERATE}")


def test_every_setting_and_preset_is_in_the_reference():
    text = render_reference()
    for mode in MODES.values():
        for config in mode.config_types().values():
            for f in dataclasses.fields(config):
                assert f"| `{f.name}` |" in text, f.name
        for preset in mode.presets:
            assert f"| `{preset}` |" in text, preset


def test_type_names():
    assert type_name(int) == "int"
    assert type_name(float | None) == "float or none"
    assert type_name(Literal["a", "b"]) == '"a" \\| "b"'
    assert type_name(tuple[float, float]) == "[float, float]"
    assert type_name(tuple[int, ...]) == "list of int"
    assert type_name(list[str]) == "list of str"


def test_a_row_has_the_fields_name_type_default_flag_and_help():
    @dataclasses.dataclass
    class Example:
        batch_size: int = setting(64, "Rows | per step.", flag=True)
        betas: tuple[float, float] = setting((0.5, 0.9), "Adam's betas.")
        js_text: Literal["valid", "train"] = setting("valid", "Which text.", flag="js-on")

    rows = settings_table(Example).splitlines()
    assert rows[2] == "| `batch_size` | int | `64` | `--batch-size` | Rows \\| per step. |"
    assert rows[3] == "| `betas` | [float, float] | `[0.5, 0.9]` | — | Adam's betas. |"
    assert rows[4] == '| `js_text` | "valid" \\| "train" | `"valid"` | `--js-on` | Which text. |'


def test_the_cpu_preset_is_listed_as_its_differences():
    text = render_reference()
    row = next(line for line in text.splitlines() if line.startswith("| `cpu` | `train.steps = 22000`"))
    assert "`model.dim = 64`" in row and "`train.critic_iters = 1`" in row
    assert "gp_lambda" not in row  # the default, not a difference
    assert TrainConfig().gp_lambda == 10.0
