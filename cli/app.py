"""The Typer application object and the small rendering helpers every command shares.

Commands live in their own modules (cli/train.py, cli/sample.py, ...) and register on ``app``;
cli/main.py imports them and turns errors into one line on stderr.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

app = typer.Typer(
    name="textgan",
    help="Character-level text GANs with WGAN-GP (Gulrajani et al. 2017), plus image and toy "
    "modes on the same trainer core.",
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

