"""`textgan sample`: decode samples from a run's newest checkpoint (or a given file)."""

from __future__ import annotations

from pathlib import Path

import typer

from textgan.cli.app import app, echo, say
from textgan.errors import ConfigError


@app.command()
def sample(
    n: int = typer.Option(50, "-n", "--n", help="How many samples."),
    run: str = typer.Option(None, help="Run directory [default: the most recent under "
                            "--runs-dir]."),
    checkpoint: str = typer.Option(None, help="A checkpoint file (instead of --run), or best: "
                                   "the run's best.pt (kept when in-training evaluation is on)."),
    runs_dir: str = typer.Option("runs", help="Where to look for the most recent run."),
    seed: int = typer.Option(None, help="Random seed (same seed, same samples)."),
    temperature: float = typer.Option(None, help="Sample from softmax(logits/T). Default: a "
                                      "GAN decodes by argmax (the paper's decoding); a language "
                                      "model (--objective mle) samples at T = 1."),
    out: str = typer.Option(None, help="Write to this file instead of stdout (image runs: a PNG "
                            "grid)."),
    device: str = typer.Option("auto", help="auto, cpu, cuda, cuda:N."),
    raw: bool = typer.Option(False, "--raw", help="The trained generator, not its moving average "
                             "(runs with --ema-decay)."),
    model: str = typer.Option(None, help="An exported model folder (textgan export) instead of "
                              "a run."),
    label: str = typer.Option(None, help="A conditional model: every sample of this class "
                              "(its name, as in the labelled data). Default: the classes in "
                              "turn."),
) -> None:
    """Print decoded samples, pad characters stripped, one a line."""
    from textgan.sampling import sample_from

    if run is not None and checkpoint is not None and checkpoint != "best":
        raise ConfigError("give --run or --checkpoint FILE, not both (--run with --checkpoint "
                          "best is the run's best.pt)")
    result = sample_from(n=n, run=run, checkpoint=checkpoint, runs_dir=runs_dir, seed=seed,
                         temperature=temperature, out=Path(out) if out else None, device=device,
                         raw=raw, model=model, label=label)
    for note in result.notes:
        say(note)
    if result.lines is not None and out is None:
        # a conditional model's classes in turn print as label<TAB>text; one --label: plain
        for line in result.labelled_lines() if label is None else result.lines:
            echo(line)
    for path in result.files:
        say(f"wrote {path}")
