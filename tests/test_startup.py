"""What the first commands import (structure, not timing; benchmarks/startup.py times them):
`textgan --help` no torch, `textgan sample` no datasets, matplotlib or sentencepiece."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from textgan.cli.main import run

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["torch", "numpy", "datasets", "matplotlib", "sentencepiece", "huggingface_hub",
         "pyarrow", "pandas", "jinja2", "textgan.image.mode", "textgan.toy.mode", "textgan.eval"]


def imported_by(argv: list[str], cwd: Path, exit_code: int = 0) -> set[str]:
    """Which of HEAVY a fresh interpreter has imported after running the command ``argv``."""
    code = ("import sys, json; from textgan.cli.main import run; code = run(sys.argv[1:]); "
            f"print(json.dumps([code, [m for m in {HEAVY!r} if m in sys.modules]]))")
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code, *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    code, modules = json.loads(done.stdout.splitlines()[-1])
    assert code == exit_code, done.stderr
    return set(modules)


def test_help_imports_no_torch(tmp_path):
    assert imported_by(["--help"], tmp_path) == set()
    assert imported_by([], tmp_path, exit_code=2) == set()  # no arguments: the help, exit 2
    # a command's own help imports only that command's module
    assert imported_by(["sample", "--help"], tmp_path) == set()
    assert imported_by(["export", "--help"], tmp_path) == set()


def test_sample_imports_only_what_sampling_needs(tmp_path):
    corpus = tmp_path / "text.txt"
    corpus.write_text("".join(f"a line {i} of text\n" for i in range(200)))
    assert run(["train", "--corpus", str(corpus), "--data-dir", str(tmp_path / "data"), "--out",
                str(tmp_path / "run"), "--steps", "1", "--dim", "8", "--batch-size", "2",
                "--seq-len", "8", "--sample-every", "0", "--eval-every", "0",
                "--device", "cpu"]) == 0
    assert imported_by(["sample", "--run", "run", "-n", "5"], tmp_path) == {"torch", "numpy"}
    assert run(["export", str(tmp_path / "run"), str(tmp_path / "model"), "--no-eval"]) == 0
    assert imported_by(["sample", "--model", "model", "-n", "5"], tmp_path) == {"torch", "numpy"}


def test_the_command_list_is_each_commands_own_help():
    """`textgan --help` lists the commands without importing them, from a table in cli/app.py:
    it must say what each command's docstring says."""
    import typer.main

    from textgan.cli.app import COMMANDS, app

    group = typer.main.get_command(app)
    assert group.list_commands(None) == list(COMMANDS)
    for name, (module, short) in COMMANDS.items():
        command = group.get_command(None, name)
        assert command is not None and command.name == name
        assert sys.modules[module]  # registered by that module
        assert command.get_short_help_str(limit=200) == short, name


@pytest.mark.parametrize("argv", [["--help"], ["sample", "--help"]])
def test_help_still_works_in_process(argv, capsys):
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: textgan")
    if argv == ["--help"]:
        for name in ("train", "prepare", "sample", "eval", "export", "report", "bench"):
            assert f"\n  {name} " in out


def test_bare_textgan_shows_the_help_not_an_error_line(capsys):
    assert run([]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("Usage: textgan [OPTIONS] COMMAND")
    assert "\nCommands:\n" in captured.err and not captured.err.startswith("error:")
