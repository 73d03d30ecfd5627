"""`textgan study`: the paper's random-architecture study, clipping comparison and Figure 2, and
the tuning of the text recipe, run by Optuna workers (`run`), summarised as a table, a figure and
a result file (`show`)."""

from __future__ import annotations

import shlex
import signal
import sys
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from textgan.cli.app import app, console, say
from textgan.cli.flags import flags_for, with_flags
from textgan.errors import ConfigError
from textgan.study.spaces import StudyConfig


@app.command()
@with_flags(flags_for("study", StudyConfig))
def study(
    settings: dict[str, dict[str, Any]],
    action: str = typer.Argument(..., help="run: create or join the study and run its trials; "
                                 "show: print its table, write its figure and result file."),
    directory: Path = typer.Argument(..., help="The study directory."),
    *,
    results_dir: Path | None = typer.Option(None, help="Where the result file goes [default: the "
                                            "study directory]."),
    name: str | None = typer.Option(None, help="The result file's name [default: "
                                    "study-<experiment>]."),
    note: str | None = typer.Option(None, help="A sentence added to the result's notes (e.g. "
                                    "what else was running)."),
) -> None:
    """Run the paper's random-architecture study, clipping comparison or Figure 2, or tune the
    text recipe (Optuna workers)."""
    from textgan.study.engine import run_study
    from textgan.study.outcomes import summarise

    if action not in ("run", "show"):
        raise ConfigError(f"unknown action {action!r}; use run or show")
    command = shlex.join(["textgan", "study", *sys.argv[2:]])
    timing: dict[str, Any] = {}
    if action == "run":
        # a batch scheduler's SIGTERM stops the workers like Ctrl-C: their trials resume later
        signal.signal(signal.SIGTERM, _interrupt)
        with console.status("starting the study") as status:
            def show(states: dict[str, int]) -> None:
                status.update("trials: " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))

            facts = run_study(directory, settings["study"], on_progress=show, command=command)
        timing = {"wall_seconds": facts["wall_seconds"], "workers": facts["workers"],
                  "replaced_workers": facts["replaced_workers"]}
        say(f"{directory}: {facts['states']} in {facts['wall_seconds']:.0f} s with "
            f"{facts['workers']} worker(s)")
    elif any(v is not None for v in settings["study"].values()):
        raise ConfigError("show takes the study directory alone (its settings are in study.toml)")
    _render(summarise(directory, results_dir, name, command, timing, note))


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _render(out: dict[str, Any]) -> None:
    from textgan.study.outcomes import score_caption

    facts = out["facts"]
    say(f"{out['experiment']}: {out['scale']}")
    plain = " (not an Inception score)" if facts.get("metric") == "classifier_score" else ""
    say(f"score: {score_caption(facts)}{plain}")
    table = Table(title=out["experiment"])
    rows = out["table"]
    for column in rows[0] if rows else []:
        table.add_column(column, justify="right")
    digits = 4 if facts.get("metric") in ("swd", "js4") else 3
    for row in rows:
        table.add_row(*[f"{v:.{digits}f}" if isinstance(v, float) else "" if v is None
                        else str(v) for v in row.values()])
    console.print(table)
    if out["experiment"] == "random-architectures":
        say(f"{out['architectures']} architectures with both scores: WGAN-GP scored higher on "
            f"{out['wgan_gp_higher']}, the standard GAN on {out['gan_higher']}")
        paper = Table(title="the paper (Inception score, 32×32 ImageNet, 200 architectures)")
        for column in out["paper_table2"][0]:
            paper.add_column(column, justify="right")
        for row in out["paper_table2"]:
            paper.add_row(*[str(v) for v in row.values()])
        console.print(paper)
    if out.get("best"):
        best = out["best"][0]
        say(f"best: trial {best['trial']} ({best['run_dir']}), JS-4 {best['js4']:.4f}: --preset "
            f"{best['preset']} with {', '.join(f'{k}={v}' for k, v in best['train'].items())}"
            f"; model {', '.join(f'{k}={v}' for k, v in best['model'].items()) or 'as preset'}")
    if out.get("preset_trial"):
        preset = out["preset_trial"]
        say(f"the preset's own point: trial {preset['trial']}, JS-4 {preset['js4']:.4f}"
            if preset["js4"] is not None else
            f"the preset's own point: trial {preset['trial']} diverged")
    timing = out.get("timing", {})
    if timing.get("trials_per_hour"):
        say(f"{timing['trials']} trials, {timing['trials_per_hour']:.1f} per hour; engine overhead "
            f"{timing['mean_overhead_seconds']:.2f} s per trial")
    say(f"figure: {out['figure']}")
    say(f"result: {out['result']}")

