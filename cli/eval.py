"""`textgan eval`: a run's, a model folder's or a file's samples scored against real data.

What is computed is the mode's (:meth:`~textgan.core.mode.Mode.evaluate_run`,
``evaluate_model``, ``evaluate_samples``): the mode of a run or a model folder is the one it
was trained in; a samples file is lines of text, scored by :data:`textgan.modes.LINES_MODE`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from textgan.cli.app import app, console, echo, say
from textgan.cli.flags import flags_for, with_flags
from textgan.config import PAPER_SAMPLES, apply_overrides
from textgan.core.mode import EvalRequest, Mode
from textgan.core.trainer import TrainConfig
from textgan.errors import CheckpointError, ConfigError
from textgan.eval import EvalConfig, ReferenceConfig
from textgan.modes import LINES_MODE, get_mode

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


def _with_real(metrics: dict[str, float], key: str) -> str:
    real = next((metrics[key + s] for s in FLOOR_SUFFIXES if key + s in metrics), None)
    return f"{metrics[key]:.4f}" + ("" if real is None else f" ({real:.4f})")


def _class_table(per_class: dict[str, dict[str, float]]) -> Table:
    """One row per class: the main metrics, each with its real-vs-real value in brackets."""
    first = next(iter(per_class.values()))
    js = [k for k in first if k.startswith("js") and k[2:].isdigit()]
    short = {"lm_forward_bpc": "LM fwd", "lm_reverse_bpc": "LM rev",
             "grammar_accept_rate": "grammar", "label_accuracy": "label acc"}
    keys = [k for k in (*js[:1], *js[1:][-1:], *short) if k in first]
    table = Table(title="per class", caption="(real vs real in brackets; all metrics: --json)",
                  show_lines=False)
    table.add_column("class")
    table.add_column("n", justify="right")
    for key in keys:
        table.add_column(short.get(key, key), justify="right")
    for name, metrics in per_class.items():
        table.add_row(name, f"{metrics['n_samples']:.0f}",
                      *[_with_real(metrics, k) if k in metrics else "" for k in keys])
    return table


def _cut_to(lines: dict[str, Any]) -> str:
    cut = lines["cut_to"]
    return str(cut) if isinstance(cut, int) else "/".join(map(str, sorted(set(cut.values()))))


def _lines_note(lines: dict[str, Any]) -> str:
    """Which metrics saw cut lines (the table's "lines" column says it per metric)."""
    return (f"JS-n, LM bits/char and memorisation: lines cut to {_cut_to(lines)} characters (the "
            "paper's definition); word-level metrics (BLEU, Self-BLEU, precision/recall, "
            f"distinct-n): whole samples, references: {lines['word_references']}")


def _table(metrics: dict[str, float], title: str = "evaluation",
           lines: dict[str, Any] | None = None) -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column("metric")
    table.add_column("samples", justify="right")
    table.add_column("real vs real", justify="right")
    if lines is not None:
        table.add_column("lines")
        cut, whole = set(lines["cut"]), set(lines["whole"])
    for key, value in metrics.items():
        if key.endswith(FLOOR_SUFFIXES):
            continue
        real = next((metrics[key + s] for s in FLOOR_SUFFIXES if key + s in metrics), None)
        row = [key, f"{value:.4f}", "" if real is None else f"{real:.4f}"]
        if lines is not None:
            row.append(f"cut to {_cut_to(lines)}" if key in cut else "whole" if key in whole
                       else "")
        table.add_row(*row)
    return table


@app.command("eval")
@with_flags(flags_for("eval", EvalConfig) + flags_for("reference", ReferenceConfig)
            + flags_for("data", get_mode(LINES_MODE).data_config,
                        only=("seq_len", "data_dir", "encoding_errors"))
            + flags_for("train", TrainConfig, only=("device",)))
def eval_command(
    settings: dict[str, dict[str, Any]],
    samples_file: str = typer.Argument(None, help="A text file of samples, one a line (from any "
                                       "source). Omit with --run."),
    reference: str = typer.Option(None, help="Real text to compare with. Text file(s), a "
                                  "directory or a glob: all their lines are the reference; a "
                                  "prepared corpus directory or a corpus name (synthetic, "
                                  "billion_word, hf:...): its held-out split (as --run). "
                                  "Required with SAMPLES_FILE and --model."),
    run: str = typer.Option(None, help="Evaluate a run: generate samples from its newest "
                            "checkpoint; reference = its held-out text."),
    checkpoint: str = typer.Option(None, help="With --run: this checkpoint file, or best (the "
                                   "run's best.pt) [default: the newest]."),
    samples: int = typer.Option(PAPER_SAMPLES, help="Samples to generate for --run or --model (the "
                                "default is the paper's count); "
                                "with a file, use at most this many lines (0: all). Per class "
                                "for labelled samples and conditional runs."),
    temperature: float = typer.Option(None, help="Sample with this softmax temperature (--run, "
                                      "--model) [default: a GAN's argmax; a language model: "
                                      "T = 1]."),
    temperatures: str = typer.Option(None, help="Quality-diversity sweep for --run, e.g. "
                                     "0.5,0.75,1,1.25: forward vs reverse LM cross-entropy; "
                                     "saved as <run>/eval/sweep.json for `textgan report`."),
    plot: str = typer.Option(None, help="PNG for the sweep [default: <run>/eval/"
                             "quality_diversity.png]."),
    model: str = typer.Option(None, help="Evaluate an exported model folder (textgan export): "
                              "--samples samples from it against --reference."),
    *,
    raw: bool = typer.Option(False, "--raw", help="With --run: the trained generator, not its "
                             "moving average (runs with --ema-decay)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
) -> None:
    """Score samples (a file, a run's or a model folder's) against real text.

    JS-1..4 (as in the paper's code) with real-vs-real floors, Kneser-Ney LM cross-entropies,
    word-level precision/recall, memorisation, distinct-n, BLEU and Self-BLEU.

    --seq-len, --data-dir and --encoding-errors apply when a reference text file is prepared
    (--encoding-errors also to the samples file).
    Character statistics (JS-n, LM bits/char, memorisation) cut lines to --seq-len, as the
    paper's code does; word-level metrics (BLEU, Self-BLEU, ...) read whole lines.
    """
    if samples < 0:
        raise ConfigError(f"--samples must be positive, got {samples}")
    config = apply_overrides(EvalConfig(), settings["eval"], "eval")
    js_text = apply_overrides(ReferenceConfig(), settings["reference"], "reference").js_text
    device = apply_overrides(TrainConfig(), settings["train"], "train").device
    temps = _parse_temperatures(temperatures)
    request = EvalRequest(n=samples or PAPER_SAMPLES, seed=config.seed, temperature=temperature,
                          temperatures=temps, device=device, checkpoint=checkpoint, raw=raw,
                          metrics=config, js_text=js_text, data=dict(settings["data"]),
                          limit=samples or None)
    if config.labels != "none":
        report = _evaluate_labelled(samples_file, reference, run=run, model=model,
                                    request=request)
    elif model is not None:
        report = _evaluate_model(model, samples_file, run, reference, request)
    elif run is not None:
        if samples_file is not None:
            raise ConfigError("give either a samples file or --run, not both")
        request.plot = Path(plot) if plot else (Path(run) / "eval" / "quality_diversity.png"
                                                if temps else None)
        report = _run_mode(run, checkpoint).evaluate_run(Path(run), request)
    else:
        if samples_file is None:
            raise ConfigError("give a samples file with --reference, or --run DIR")
        if checkpoint is not None or raw:
            raise ConfigError("--checkpoint and --raw need --run (a samples file is already text)")
        if reference is None:
            raise ConfigError("--reference is required with a samples file (a corpus or text file)")
        if temps:
            raise ConfigError("--temperatures needs --run (samples are generated per temperature)")
        report = get_mode(LINES_MODE).evaluate_samples(Path(samples_file), reference, request)
    if as_json:
        out: dict[str, Any] = dict(report.metrics)
        if report.classes is not None:
            out["per_class"] = report.classes.per_class
            out["label_classifier"] = report.classes.classifier
        if report.sweep is not None:
            out["sweep"] = report.sweep.to_dict()
        lines = getattr(report, "lines", None)  # text reports (image runs: no lines)
        if lines is not None:
            out["lines"] = lines
        echo(json.dumps(out))
        return
    for note in report.notes:
        say(note)
    lines = getattr(report, "lines", None)
    if lines is not None:
        say(_lines_note(lines))
    if report.classes is not None:
        console.print(_class_table(report.classes.per_class))
        console.print(_table(report.metrics, "overall: mean over the classes", lines))
    else:
        console.print(_table(report.metrics, lines=lines))
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


def _run_mode(run: str, checkpoint: str | None) -> Mode:
    """The mode a run was trained in: its ``config.toml``'s, else its checkpoint's."""
    from textgan.core.run import Run, resolve_checkpoint

    name = Run(run).read_config().get("mode") if Run(run).exists() else None
    if not isinstance(name, str):
        path, state, _ = resolve_checkpoint(run, checkpoint)  # or the one-line error of why not
        name = state.get("mode")
        if not isinstance(name, str):
            raise CheckpointError(f"{path} has no mode: not a textgan checkpoint")
    return get_mode(name)


def _evaluate_model(model: str, samples_file: str | None, run: str | None, reference: str | None,
                    request: EvalRequest) -> Any:
    """``--model DIR``: samples of an exported model folder against ``--reference``."""
    from textgan.api import load
    from textgan.export import is_model_folder

    if samples_file is not None or run is not None:
        raise ConfigError("give one of a samples file, --run or --model")
    if request.checkpoint is not None or request.raw:
        raise ConfigError("--checkpoint and --raw are for runs; a model folder holds one generator")
    if reference is None:
        raise ConfigError("--model needs --reference (text file(s), a prepared corpus or a corpus "
                          "name)")
    if request.temperatures:
        raise ConfigError("--temperatures needs --run")
    if not is_model_folder(model):
        raise ConfigError(f"--model {model} is not a model folder (textgan export writes one)")
    return load(model, device=request.device).evaluate_against(reference, request)


def _evaluate_labelled(samples_file: str | None, reference: str | None, *, run: str | None,
                       model: str | None, request: EvalRequest) -> Any:
    """``--labels tsv``: a label<TAB>text samples file, per class against a labelled reference."""
    if run is not None or model is not None:
        raise ConfigError("--labels describes a samples file; a conditional run (--run) is "
                          "evaluated per class without it")
    if samples_file is None or reference is None:
        raise ConfigError("--labels tsv needs a samples file of label<TAB>text lines and "
                          "--reference (a labelled prepared corpus or label<TAB>text file(s))")
    if request.checkpoint is not None or request.raw:
        raise ConfigError("--checkpoint and --raw need --run (a samples file is already text)")
    if request.temperatures:
        raise ConfigError("--temperatures needs --run (samples are generated per temperature)")
    return get_mode(LINES_MODE).evaluate_samples(Path(samples_file), reference, request,
                                                 labelled=True)
