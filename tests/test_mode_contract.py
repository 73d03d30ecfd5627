"""A mode defined only in the tests (tests/helpers/tiny_mode.py) goes through every command:
train, sample, eval, export and report, without a line of textgan naming it. A contract method
it leaves out makes the command that needs it fail in one line."""

from __future__ import annotations

import json
import sys
import tomllib
import types
from pathlib import Path

import pytest
from helpers import tiny_mode

from textgan.cli.main import run
from textgan.modes import PLUGINS_ENV, get_mode, registry

TINY = "tiny=helpers.tiny_mode:TinyMode"


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setenv(PLUGINS_ENV, TINY)
    return get_mode("tiny")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short run of the tiny mode, trained through the CLI."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PLUGINS_ENV, TINY)
        out = tmp_path_factory.mktemp("tiny") / "run"
        code = run(["train", "--mode", "tiny", "--out", str(out), "--steps", "40",
                    "--checkpoint-every", "20", "--eval-every", "10", "--sample-every", "0",
                    "--device", "cpu", "--seed", "1"])
        assert code == 0
    return out


def test_the_environment_registers_a_mode(tiny, monkeypatch):
    assert registry()["tiny"] == "helpers.tiny_mode:TinyMode"
    assert type(tiny).__name__ == "TinyMode" and tiny.name == "tiny"
    monkeypatch.setenv(PLUGINS_ENV, "tiny")
    with pytest.raises(Exception, match=r"is not name=package.module:Class"):
        get_mode("tiny")


def test_no_line_of_textgan_names_the_tiny_mode():
    root = Path(__file__).resolve().parents[1]
    for folder in ("textgan", "cli"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "tiny_mode" not in text and "TinyMode" not in text, path


def test_train_sample_eval_export_report(trained, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(PLUGINS_ENV, TINY)
    config = tomllib.loads((trained / "config.toml").read_text())
    assert config["mode"] == "tiny" and config["data"] == {"mean": 2.0, "std": 0.5}
    logged = [json.loads(line) for line in (trained / "metrics.jsonl").read_text().splitlines()]
    gaps = [r["mean_gap"] for r in logged if "mean_gap" in r]
    assert len(gaps) == 4 and all(g >= 0 for g in gaps)
    capsys.readouterr()

    assert run(["sample", "--run", str(trained), "-n", "7", "--seed", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 7 and all(float(x) == float(x) for x in lines)
    assert run(["sample", "--run", str(trained), "-n", "7", "--seed", "3"]) == 0
    assert capsys.readouterr().out.splitlines() == lines  # same seed, same samples

    assert run(["eval", "--run", str(trained), "--samples", "200", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) == {"mean_gap", "std_gap", "mean_gap_real", "std_gap_real", "n_samples"}
    assert metrics["n_samples"] == 200 and metrics["mean_gap"] >= 0

    folder = tmp_path / "model"
    assert run(["export", str(trained), str(folder)]) == 0
    capsys.readouterr()
    exported = json.loads((folder / "config.json").read_text())
    assert exported["mode"] == "tiny" and exported["dataset"] == "normal"
    card = (folder / "README.md").read_text()
    assert "- tabular" in card and "| model | the target |" in card
    assert "model.generate(5, seed=0))  # numbers" in card and "pipeline_tag" not in card
    assert run(["sample", "--model", str(folder), "-n", "7", "--seed", "3"]) == 0
    assert capsys.readouterr().out.splitlines() == lines  # the folder samples as the run

    assert run(["report", str(trained), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "index.html").read_text()
    assert "N(2.0, 0.5²)" in page and "mean_gap" in page


def _without(monkeypatch, method: str) -> None:
    """Register a copy of the tiny mode that does not define ``method``."""
    attrs = {k: v for k, v in vars(tiny_mode.TinyMode).items()
             if k not in (method, "__dict__", "__weakref__")}
    name = f"tiny_without_{method}"  # its own module: get_mode keeps one instance per target
    module = types.ModuleType(name)
    module.Mode = type("TinyWithout", tiny_mode.TinyMode.__bases__, attrs)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setenv(PLUGINS_ENV, f"tiny={name}:Mode")


@pytest.mark.parametrize(("method", "argv", "message"), [
    ("evaluate_run", ["eval", "--run", "{run}"],
     "error: tiny runs cannot be evaluated: the tiny mode defines no evaluate_run"),
    ("export_parts", ["export", "{run}", "{tmp}/model"],
     "error: tiny models cannot be exported: the tiny mode defines no export_parts"),
    ("sample", ["sample", "--run", "{run}"],
     "error: mode 'tiny' (tiny_without_sample:Mode) breaks the Mode contract: Can't "
     "instantiate"),
])
def test_a_missing_contract_method_fails_its_command_in_one_line(trained, tmp_path, monkeypatch,
                                                                 capsys, method, argv, message):
    _without(monkeypatch, method)
    code = run([a.format(run=trained, tmp=tmp_path) for a in argv])
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith(message), err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "model").exists()  # nothing half-written


def _with_sample(monkeypatch, name: str, sample) -> None:
    module = types.ModuleType(name)
    module.Mode = type("TinyBroken", (tiny_mode.TinyMode,), {"sample": sample})  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setenv(PLUGINS_ENV, f"tiny={name}:Mode")


@pytest.mark.parametrize("bug", [KeyError("oops"), RuntimeError("oops"), TypeError("oops")])
def test_a_bug_inside_sample_is_not_called_a_damaged_checkpoint(trained, monkeypatch, bug):
    def sample(self, state, path, n, **kwargs):
        self.config_from_checkpoint(state, path)
        raise bug

    _with_sample(monkeypatch, f"tiny_bug_{type(bug).__name__}", sample)
    with pytest.raises(type(bug), match="oops"):  # a traceback, not "not a usable checkpoint"
        run(["sample", "--run", str(trained), "-n", "2"])


def test_a_damaged_checkpoint_is_still_one_line(trained, tmp_path, monkeypatch, capsys):
    from textgan.core.checkpoint import load_checkpoint, save_checkpoint

    monkeypatch.setenv(PLUGINS_ENV, TINY)
    newest = sorted((trained / "checkpoints").glob("step_*.pt"))[-1]
    state = load_checkpoint(newest)
    for damaged, entry in [({k: v for k, v in state.items() if k != "generator"}, "generator"),
                           ({**state, "generator": {"affine.weight": state["generator"]
                                                    ["affine.weight"].repeat(2, 1)}}, "state_dict")]:
        save_checkpoint(tmp_path / "damaged.pt", damaged)
        assert run(["sample", "--checkpoint", str(tmp_path / "damaged.pt"), "-n", "2"]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"error: {tmp_path / 'damaged.pt'} is not a usable tiny checkpoint")
        assert entry in err, err
