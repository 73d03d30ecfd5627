"""`textgan train` and `textgan prepare`."""

from __future__ import annotations

import dataclasses
import signal
import threading
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from textgan.cli.app import app, console, say
from textgan.cli.flags import Flag, flags_for, with_flags
from textgan.core.distributed import shutdown
from textgan.core.mode import SECTIONS
from textgan.errors import TextganError
from textgan.modes import LINES_MODE, MODES, get_mode
from textgan.training import join_torchrun, resolve_config, resume_training, start_training

MODE_HELP = "What to train: text (default), image or toy."


def preset_help() -> str:
    """``--preset``'s help: every mode's presets with their descriptions, its default marked."""
    parts = []
    for name, mode in MODES.items():
        default = mode.default_preset({})
        listed = "; ".join(f"{preset}{' (default)' if preset == default else ''} — "
                           f"{getattr(p, 'description', '')}" for preset, p in mode.presets.items())
        parts.append(f"{name.capitalize()} mode: {listed}.")
    return " ".join(parts)


class ProgressRenderer:
    """Rich progress for corpus preparation (callback) and training (step events)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}
        self.started = False

    def start(self) -> None:
        """Start drawing only once there is something to draw (errors stay one line)."""
        if not self.started:
            self.progress.start()
            self.started = True

    def stop(self, erase: bool = False) -> None:
        """Stop drawing; ``erase`` removes the display (a failed start leaves only its error line)."""
        if not self.started:
            return
        self.started = False
        if erase:
            self.progress.live.transient = True
            self.progress.live.stop()  # (Progress.stop would add a blank line to non-terminals)
        else:
            self.progress.stop()

    def __call__(self, what: str, done: int, total: int | None) -> None:
        self.start()
        if what not in self.tasks:
            self.tasks[what] = self.progress.add_task(what, total=total, stats="")
        self.progress.update(self.tasks[what], completed=done, total=total)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), TextColumn("eta"),
        TimeRemainingColumn(), console=console, transient=False,
    )


def _format_stats(metrics: dict[str, float], rate: float) -> str:
    keys = [("critic_loss", "D"), ("wasserstein", "W"), ("penalty", "gp"), ("generator_loss", "G"),
            ("nll", "NLL"), ("js4", "JS4"), ("grammar_accept_rate", "accept"), ("word_valid_rate", "words")]
    parts = [f"{label} {metrics[k]:.3f}" for k, label in keys if metrics.get(k) is not None]
    return "  ".join(parts + [f"{rate:.2f} step/s"])


def _install_stop_handler(distributed: bool = False) -> tuple[threading.Event, dict[int, Any]]:
    """First Ctrl-C or SIGTERM: finish the step, checkpoint, exit cleanly. Second: stop at once.

    SIGTERM is what batch schedulers (SLURM, Kubernetes) and ``timeout`` send before killing, so
    it saves the step too. Under torchrun a repeated signal does not escalate: torchrun
    passes on the Ctrl-C or SIGTERM it receives itself (so each rank gets it twice), and it sends
    SIGKILL after its --shutdown-timeout (default 30 s) anyway.
    """
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set() and not distributed:
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    return stop, previous


def _train_flags() -> list[Flag]:
    """The flags of every mode's settings; a default that a preset changes is not shown."""
    types = {name: mode.config_types() for name, mode in MODES.items()}
    set_by_presets = {(section, key) for mode in MODES.values() for preset in mode.presets.values()
                      for section, values in preset.items() for key in values}
    flags = [flag for section in SECTIONS
             for flag in flags_for(section, {mode: t[section] for mode, t in types.items()})]
    return [dataclasses.replace(f, default=None) if (f.section, f.field) in set_by_presets else f
            for f in flags]


@app.command()
@with_flags(_train_flags())
def train(
    settings: dict[str, dict[str, Any]],
    mode: str = typer.Option("text", help=MODE_HELP),
    preset: str = typer.Option("auto", help=preset_help()),
    config: str = typer.Option(None, help="TOML file with [train], [data], [model] sections; "
                               "flags override it."),
    out: str = typer.Option(None, "--out", "-o", help="Run directory [default: "
                            "runs/<mode>-<time>]."),
    runs_dir: str = typer.Option("runs", help="Where new runs go, and where --resume and "
                                 "`sample` look for the latest one."),
    *,
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out (or the "
                                "latest under --runs-dir) from its newest good checkpoint."),
    reschedule: bool = typer.Option(False, "--reschedule", help="With --resume and a linear "
                                    "schedule: decay both learning rates linearly from their "
                                    "current values to 0 at --steps (without it, a resume keeps "
                                    "the schedule it started with and may not go past its "
                                    "end)."),
    tensorboard: bool = typer.Option(False, "--tensorboard", help="Also log every metric to "
                                     "<run>/tensorboard/ (needs: pip install "
                                     "'textgan[tensorboard]')."),
) -> None:
    """Train a GAN (or with --objective mle its maximum-likelihood baseline, an LSTM language
    model). With no options: the cpu preset on the built-in synthetic corpus.

    Data-parallel: start it with torchrun (e.g. torchrun --standalone --nproc-per-node 2
    $(which textgan) train ...); rank 0 prints, logs and checkpoints.
    """
    dist = join_torchrun()  # this process alone, unless started by torchrun
    was_quiet = console.quiet
    console.quiet = not dist.is_main  # only rank 0 prints
    try:
        # (a flag the chosen mode has no setting for is an "unknown setting 'data.dataset'")
        if reschedule and not resume:
            raise TextganError("--reschedule re-sizes a resumed run's schedule; use it with "
                               "--resume")
        _train(mode, preset, config, settings, out=out, runs_dir=runs_dir, resume=resume,
               reschedule=reschedule, tensorboard=tensorboard, dist=dist)
    finally:
        console.quiet = was_quiet
        shutdown()


def _train(mode: str, preset: str, config: str | None, overrides: dict[str, dict[str, Any]], *,
           out: str | None, runs_dir: str, resume: bool, tensorboard: bool, dist: Any,
           reschedule: bool = False) -> None:
    progress = _progress()
    renderer = ProgressRenderer(progress)
    try:
        try:
            shown = renderer if dist.is_main else None
            if resume:
                session = resume_training(out, runs_dir=runs_dir, overrides=overrides,
                                          progress=shown, tensorboard=tensorboard, dist=dist,
                                          reschedule=reschedule)
            else:
                cfg = resolve_config(mode, None if preset == "auto" else preset, config, overrides)
                session = start_training(cfg, out=out, runs_dir=runs_dir, progress=shown,
                                         tensorboard=tensorboard, dist=dist)
        except BaseException:
            renderer.stop(erase=True)
            raise
        if dist.is_main:
            renderer.start()
        c = session.config
        say(f"run: {session.run.dir}  (mode {c.mode}, preset {c.preset}, device "
            f"{session.trainer.device}, {c.train.precision})")
        for note in session.notes:
            say(note)
        task = progress.add_task("training", total=c.train.steps, completed=session.trainer.step,
                                 stats="")
        stop, previous = _install_stop_handler(distributed=dist.world_size > 1)
        try:
            for event in session.events(should_stop=stop.is_set):
                stats = progress.tasks[task].fields.get("stats", "")
                if event.metrics:
                    sec = event.metrics.get("sec_per_step") or 0.0
                    stats = _format_stats(event.metrics, 1.0 / sec if sec else 0.0)
                progress.update(task, completed=event.step, total=event.total, stats=stats)
                if event.budget is not None:
                    say(event.budget.describe())
                for note in event.notes:
                    say(note)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        renderer.stop()
    final = session.trainer.step
    latest = session.run.checkpoints.paths() if dist.is_main else []
    if final < c.train.steps:  # stopped early (Ctrl-C on any rank, or the time budget spent)
        say(f"stopped at step {final}; checkpoint {latest[0] if latest else '-'} — continue with "
            f"`textgan train --resume --out {session.run.dir}`")
    else:
        say(f"done: step {final}, checkpoint {latest[0] if latest else '-'}; "
            f"`textgan sample --run {session.run.dir}`")


@app.command()
@with_flags(flags_for("data", get_mode(LINES_MODE).data_config))
def prepare(
    settings: dict[str, dict[str, Any]],
    *,
    force: bool = typer.Option(False, "--force", help="Prepare again even if prepared."),
) -> None:
    """Download (if needed) and prepare a corpus once, without training."""
    renderer = ProgressRenderer(_progress())
    try:
        done = get_mode(LINES_MODE).prepare(settings["data"], progress=renderer, force=force)
    except BaseException:
        renderer.stop(erase=True)
        raise
    finally:
        renderer.stop()
    say(done)
