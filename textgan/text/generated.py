"""Evaluating a text generator: samples of a run's checkpoint (``textgan eval --run``, opened
with :func:`textgan.opening.open_model`) against its corpus's held-out text, and the temperature
sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textgan.errors import TextganError
from textgan.eval import (
    PAPER_SAMPLES,
    EvalConfig,
    JSText,
    ReferenceConfig,
    evaluate,
    plot_quality_diversity,
    quality_diversity_sweep,
    save_sweep,
)
from textgan.io.progress import ProgressFn
from textgan.text.labelled import _judge_summary, class_report, evaluate_conditional_generator
from textgan.text.oracle import (
    oracle_scores_for_rows,
)
from textgan.text.prepare import PreparedCorpus, TextDataConfig, load_corpus
from textgan.text.reference import EvalReport, lines_of, reference_for


def evaluate_generator(generator: Any, tokenizer: Any, corpus: PreparedCorpus, *,
                       n: int = PAPER_SAMPLES, temperature: float | None = None, seed: int = 0,
                       config: EvalConfig | None = None,
                       js_text: JSText = ReferenceConfig.js_text) -> tuple[dict[str, float], list[str]]:
    """(metrics, samples) of ``n`` samples of a text generator against ``corpus``'s held-out
    text: what ``textgan eval --run`` reports."""
    metrics, samples, _ = _evaluate_generator(generator, tokenizer, corpus, n=n,
                                              temperature=temperature, seed=seed, config=config,
                                              js_text=js_text)
    return metrics, samples


def _evaluate_generator(generator: Any, tokenizer: Any, corpus: PreparedCorpus, *, n: int,
                        temperature: float | None, seed: int, config: EvalConfig | None,
                        js_text: JSText) -> tuple[dict[str, float], list[str], dict[str, Any]]:
    """:func:`evaluate_generator` and :attr:`EvalReport.lines` of its metrics."""
    from textgan.text.sampling import generate_ids

    rows = generate_ids(generator, n, temperature=temperature, seed=seed).tolist()
    samples = [tokenizer.decode(row, strip_pad=tokenizer.kind != "char") for row in rows]
    reference = reference_for(corpus, js_text)
    metrics = evaluate(samples, reference, config or EvalConfig())
    if corpus.is_synthetic:  # judged from the ids: knows which rows were cut (any tokenizer)
        metrics.update(oracle_scores_for_rows(rows, tokenizer, corpus.seq_len))
    return metrics, samples, lines_of(metrics, reference, corpus)


def evaluate_run(run: str | Path, *, n: int = PAPER_SAMPLES, temperature: float | None = None,
                 seed: int = 0, config: EvalConfig | None = None,
                 js_text: JSText = ReferenceConfig.js_text,
                 temperatures: list[float] | None = None, plot: Path | None = None,
                 device: str = "auto", progress: ProgressFn | None = None,
                 checkpoint: str | None = None, raw: bool = False) -> EvalReport:
    """Generate ``n`` samples from a run's newest checkpoint (or ``checkpoint``, e.g. ``"best"``)
    and evaluate them against the run's held-out text; optionally sweep softmax temperatures
    (quality vs diversity), saved as ``<run>/eval/sweep.json`` for ``textgan report``. The
    generator's moving average is used when the run has one (``raw``: the trained generator).
    A GAN's generator and a language model (``--objective mle``) alike: ``temperature`` None is
    the model's default decoding (argmax; a language model samples at temperature 1)."""
    from textgan.config import apply_overrides
    from textgan.device import resolve_device
    from textgan.opening import open_model
    from textgan.text.models import generator_from_checkpoint
    from textgan.text.sampling import decoding, generate_text

    opened = open_model(run=run, checkpoint=checkpoint, raw=raw)
    path, state, notes = opened.source, opened.state, opened.notes
    if opened.mode.name != "text":
        raise TextganError(f"{path} is a {opened.mode.name} checkpoint: evaluation needs a text "
                           "run")
    with opened.content():
        generator, tokenizer, saved = generator_from_checkpoint(state, resolve_device(device))
    data_cfg = apply_overrides(TextDataConfig(), saved.get("data", {}), "data")
    corpus = load_corpus(data_cfg, progress=progress)
    notes.append(f"checkpoint {path} (step {state.get('step')}), reference {corpus.dir}, "
                 f"{decoding(generator, temperature)}")
    label_names = list(state.get("label_names") or [])
    if label_names:  # a conditional model: n samples of each class, each against its own text
        evaluation, by_class = evaluate_conditional_generator(
            generator, tokenizer, corpus, label_names, n=n, temperature=temperature, seed=seed,
            config=config, js_text=js_text)
        notes += [f"{n} samples of each of the {len(label_names)} classes, each evaluated "
                  "against that class's held-out text", _judge_summary(evaluation)]
        report = class_report(evaluation, [s for lines in by_class.values() for s in lines],
                              corpus.dir, notes, corpus)
    else:
        metrics, samples, lines = _evaluate_generator(
            generator, tokenizer, corpus, n=n, temperature=temperature, seed=seed, config=config,
            js_text=js_text)
        report = EvalReport(metrics, samples, corpus.dir, notes=notes, lines=lines)
    if temperatures:
        ref = reference_for(corpus, js_text)

        def sample_fn(count: int, t: float) -> list[str]:
            return generate_text(generator, tokenizer, count, temperature=t, seed=seed)

        report.sweep = quality_diversity_sweep(sample_fn, temperatures, ref,
                                               n_samples=max(n, 1000), seed=seed)
        try:
            report.sweep_file = save_sweep(
                report.sweep, Path(run) / "eval" / "sweep.json", checkpoint=str(path),
                step=state.get("step"), raw=raw, objective=saved.get("train", {}).get("objective"))
            notes.append(f"sweep saved to {report.sweep_file} (textgan report draws it)")
        except OSError as err:  # a read-only run still evaluates
            notes.append(f"could not save the sweep in {run}: {err.strerror}")
        if plot is not None:
            report.plot = plot_quality_diversity(report.sweep, plot)
    return report
