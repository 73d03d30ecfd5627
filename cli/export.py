"""`textgan export`: a trained model as a self-contained folder to share (textgan/export.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from textgan.cli.app import app, echo, say
from textgan.config import PAPER_SAMPLES
from textgan.errors import ConfigError


@app.command("export")
def export_command(
    run: str = typer.Argument(..., metavar="RUN", help="A run directory (its newest good checkpoint) or a "
                              "checkpoint file."),
    out: str = typer.Argument(..., metavar="OUT", help="The folder to write (new, or empty)."),
    checkpoint: str = typer.Option(None, help="best: the run's best.pt (kept when in-training "
                                   "evaluation is on), or a checkpoint file of the run."),
    eval_samples: int = typer.Option(PAPER_SAMPLES, help="Samples the model card's evaluation scores "
                                     "(text runs whose corpus is on disk)."),
    *,
    evaluate: bool = typer.Option(True, "--eval/--no-eval", help="Evaluate for the model card "
                                  "(--no-eval: show the run's last logged evaluation)."),
    raw: bool = typer.Option(False, "--raw", help="The trained generator, not its moving average "
                             "(runs with --ema-decay)."),
    force: bool = typer.Option(False, "--force", help="Replace OUT if it is a model folder."),
) -> None:
    """Write a trained model as a self-contained folder to share (safetensors + JSON, a model card).

    OUT gets config.json (architecture, tokenizer kind, seq_len, training summary, sha256 of
    every file), model.safetensors (the generator: its moving average where kept), the tokenizer
    (vocab.json; sentencepiece.model for SentencePiece runs), evaluation.json (every metric) and
    README.md (a model card with a table of the main metrics), laid out as huggingface_hub's
    ModelHubMixin folders. The training data is named by base name and sha256: OUT holds no
    absolute path or directory of the machine it was made on. Use it with `textgan sample
    --model OUT`, `textgan eval --model OUT --reference ...` or `textgan.load(OUT)` in Python.
    """
    from textgan.api import load

    path = Path(run)
    if path.is_file():
        if checkpoint is not None:
            raise ConfigError("RUN is already a checkpoint file; drop --checkpoint")
        model = load(path, raw=raw, device="cpu")
    else:
        model = load(path, checkpoint=checkpoint, raw=raw, device="cpu")
    if model.folder_config is not None:
        raise ConfigError(f"{run} is already a model folder; copy it instead")
    result = model.export(out, evaluate=evaluate, eval_samples=eval_samples, force=force)
    for note in result.notes:
        say(note)
    say(f"{model.source} (step {model.step}); card evaluation: {result.evaluation}")
    echo(str(result.path))
