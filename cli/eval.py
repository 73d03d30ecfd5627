"""`textgan eval`: n-gram statistics of samples against real text."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from textgan.cli.app import app, console, echo, say
from textgan.errors import ConfigError
from textgan.eval import EvalConfig

FLOOR_SUFFIXES = ("_floor", "_real")


def _parse_temperatures(text: str | None) -> list[float] | None:
    if not text:
        return None
    try:
        temps = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ConfigError(f"--temperatures must be numbers separated by commas, got {text!r}") from None
    if not temps or any(t <= 0 for t in temps):
        raise ConfigError(f"--temperatures must be positive numbers, got {text!r}")
    return temps


def _table(metrics: dict[str, float]) -> Table:
    table = Table(title="evaluation", show_lines=False)
    table.add_column("metric")
    table.add_column("samples", justify="right")
    table.add_column("real vs real", justify="right")
    for key, value in metrics.items():
        if key.endswith(FLOOR_SUFFIXES):
            continue
        real = next((metrics[key + s] for s in FLOOR_SUFFIXES if key + s in metrics), None)
        table.add_row(key, f"{value:.4f}", "" if real is None else f"{real:.4f}")
    return table


@app.command("eval")
def eval_command(
    samples_file: str = typer.Argument(None, help="A text file of samples, one a line (from any "
                                       "source). Omit with --run."),
    reference: str = typer.Option(None, help="Real text to compare with: a prepared corpus "
                                  "directory, a corpus name (synthetic, billion_word, hf:...) "
                                  "or text file(s). Required with SAMPLES_FILE."),
    run: str = typer.Option(None, help="Evaluate a run: generate samples from its newest "
                            "checkpoint; reference = its held-out text."),
    samples: int = typer.Option(640, help="Samples to generate for --run (paper: 640); with a "
                                "file, use at most this many lines (0: all)."),
    seed: int = typer.Option(0, help="Seed for generation and the real-vs-real subset."),
    temperature: float = typer.Option(None, help="Sample with this softmax temperature "
                                      "instead of argmax (--run)."),
    temperatures: str = typer.Option(None, help="Quality-diversity sweep for --run, e.g. "
                                     "0.5,0.75,1,1.25: forward vs reverse LM cross-entropy."),
    plot: str = typer.Option(None, help="PNG for the sweep [default: <run>/eval/"
                             "quality_diversity.png]."),
    js_on: str = typer.Option("valid", help="JS-n against the held-out text (valid) or the "
                              "training text as the paper's code does (train)."),
    lm: bool = typer.Option(True, help="Kneser-Ney LM cross-entropies (slower)."),
    words: bool = typer.Option(True, help="Word-level metrics (precision/recall, BLEU, ...)."),
    lm_order: int = typer.Option(6, help="Order of the character Kneser-Ney LMs."),
    seq_len: int = typer.Option(32, help="Characters per line when preparing a reference file."),
    data_dir: str = typer.Option("data", help="Where a reference file is prepared."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    device: str = typer.Option("auto", help="auto, cpu, cuda, cuda:N (--run)."),
) -> None:
    """JS-1..4 (as in the paper's code) with real-vs-real floors, Kneser-Ney LM cross-entropies,
    word-level precision/recall, memorisation, distinct-n, BLEU and Self-BLEU."""
    from textgan.text.evaluation import evaluate_file, evaluate_run

    if js_on not in ("valid", "train"):
        raise ConfigError(f"--js-on must be valid or train, got {js_on!r}")
    if samples < 0:
        raise ConfigError(f"--samples must be positive, got {samples}")
    config = EvalConfig(lm=lm, words=words, lm_order=lm_order, seed=seed)
    config.validate()
    temps = _parse_temperatures(temperatures)
    if run is not None:
        if samples_file is not None:
            raise ConfigError("give either a samples file or --run, not both")
        plot_path = Path(plot) if plot else (Path(run) / "eval" / "quality_diversity.png"
                                              if temps else None)
        report = evaluate_run(run, n=samples or 640, temperature=temperature, seed=seed,
                              config=config, js_text=js_on, temperatures=temps, plot=plot_path,  # type: ignore[arg-type]
                              device=device)
    else:
        if samples_file is None:
            raise ConfigError("give a samples file with --reference, or --run DIR")
        if reference is None:
            raise ConfigError("--reference is required with a samples file (a corpus or text file)")
        if temps:
            raise ConfigError("--temperatures needs --run (samples are generated per temperature)")
        report = evaluate_file(samples_file, reference, data_dir=data_dir, seq_len=seq_len,
                               limit=samples or None, config=config, js_text=js_on)  # type: ignore[arg-type]
    if as_json:
        out = dict(report.metrics)
        if report.sweep is not None:
            out["sweep"] = report.sweep.to_dict()
        echo(json.dumps(out))
        return
    for note in report.notes:
        say(note)
    console.print(_table(report.metrics))
    if report.sweep is not None:
        sweep = Table(title=f"quality vs diversity (real: forward {report.sweep.real_forward_bpc:.3f},"
                      f" reverse {report.sweep.real_reverse_bpc:.3f} bits/char)")
        for col in ("temperature", "forward bits/char (quality)", "reverse bits/char (diversity)"):
            sweep.add_column(col, justify="right")
        for p in report.sweep.points:
            sweep.add_row(f"{p.temperature:g}", f"{p.forward_bpc:.3f}", f"{p.reverse_bpc:.3f}")
        console.print(sweep)
    if report.plot is not None:
        say(f"wrote {report.plot}")
