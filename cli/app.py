"""The Typer application object and the small rendering helpers every command shares.

Commands live in their own modules (cli/train.py, cli/sample.py, ...) and register on ``app``.
A command's module is imported only when that command runs or shows its help
(:class:`LazyCommands`): ``textgan --help`` imports no torch, ``textgan sample`` not the
trainer's flags. cli/main.py turns errors into one line on stderr.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
import typer.main
from rich.console import Console
from typer.core import TyperGroup

# Every command: the module that registers it, and the first line of its docstring (what
# `textgan --help` lists without importing the module; tests/test_startup.py keeps them equal).
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("textgan.cli.train", "Train a GAN (or with --objective mle its maximum-likelihood "
              "baseline, an LSTM language model)."),
    "prepare": ("textgan.cli.train", "Download (if needed) and prepare a corpus once, without "
                "training."),
    "sample": ("textgan.cli.sample", "Print decoded samples, pad characters stripped, one a line."),
    "eval": ("textgan.cli.eval", "Score samples (a file, a run's or a model folder's) against "
             "real text."),
    "export": ("textgan.cli.export", "Write a trained model as a self-contained folder to share "
               "(safetensors + JSON, a model card)."),
    "report": ("textgan.cli.report", "Write PNG plots of a run's metrics and an HTML page with "
               "them and its samples."),
    "study": ("textgan.cli.study", "Run the paper's random-architecture study, clipping "
              "comparison or Figure 2, or tune the text recipe (Optuna workers)."),
    "bench": ("textgan.cli.bench", "Seconds per generator iteration, counted GFLOP, achieved "
              "GFLOP/s, matmul peak, peak RSS."),
}


class LazyCommands(TyperGroup):
    """The command group, building a command only when it is asked for."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(COMMANDS[cmd_name][0])  # registers it on `app`
            for info in app.registered_commands:
                assert info.callback is not None
                if (info.name or typer.main.get_command_name(info.callback.__name__)) == cmd_name:
                    self.commands[cmd_name] = typer.main.get_command_from_info(
                        info, pretty_exceptions_short=app.pretty_exceptions_short,
                        rich_markup_mode=app.rich_markup_mode)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])


def _no_group_options() -> None:
    """(A group callback: makes Typer build a group even before any command is registered.)"""


app = typer.Typer(
    name="textgan",
    help="Character-level text GANs with WGAN-GP (Gulrajani et al. 2017), plus image and toy "
    "modes on the same trainer core.",
    cls=LazyCommands,
    callback=_no_group_options,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Rich output (progress, tables) goes to stderr so stdout carries only results (samples, JSON).
console = Console(stderr=True, highlight=False, soft_wrap=True)


def say(message: str) -> None:
    """A status line on stderr."""
    console.print(message, markup=False)


def echo(line: str) -> None:
    """A result line on stdout, printed verbatim (no markup interpretation)."""
    sys.stdout.write(line + "\n")

