"""Evaluating text samples against real text: the glue between runs, corpora and
:mod:`textgan.eval`. Used by ``textgan eval`` and by the in-training hook.

What a reference is (``textgan eval SAMPLES --reference SPEC``):

* text files, a directory of them or a glob: the reference is ALL their lines (a whole
  :class:`~textgan.eval.ReferenceSet`): JS-n against every line, real-vs-real values from random
  lines of it against the remaining lines. The files are prepared once into ``data_dir`` (as for
  training, but keeping every character: no unk) so that a second evaluation is fast.
* a prepared corpus directory or a corpus name (synthetic, billion_word, hf:...): its held-out
  split, exactly as ``textgan eval --run`` evaluates a run trained on it (``js_text`` chooses the
  training or held-out text for JS-n). A corpus has a held-out split for a reason: samples that
  copy training lines should not look perfect.

The reference statistics are computed once per prepared corpus and cached inside it
(``<corpus>/eval_reference_<text>/``, ``eval_reference_whole/``); a stale cache (corpus changed)
is rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from textgan.errors import CorpusError, TextganError
from textgan.eval import (
    EvalConfig,
    JSText,
    ReferenceConfig,
    ReferenceSet,
    SweepResult,
    evaluate,
    plot_quality_diversity,
    quality_diversity_sweep,
    save_sweep,
)
from textgan.eval.oracle import oracle_scores
from textgan.io.progress import ProgressFn
from textgan.text.prepare import PreparedCorpus, TextDataConfig, load_corpus

PAPER_SAMPLES = 640  # the paper's code scores 10 batches of 64 samples
MAX_DECODED_TRAIN = 200_000  # subword corpora: lines decoded to text for character statistics
# A reference file keeps every distinct character (ids stay uint16), so it is exactly its text.
REFERENCE_MAX_VOCAB = 65_536
# Whole references: lines kept as BLEU references and reverse-LM text (Texygen's test sets have
# about 10k lines, so published BLEU tables use all of theirs).
WHOLE_HELDOUT_LINES = 100_000


def _decoded_reference(corpus: PreparedCorpus, config: ReferenceConfig) -> ReferenceSet:
    """Subword corpora: character statistics of the *decoded* text."""
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(len(corpus.train), min(MAX_DECODED_TRAIN, len(corpus.train)),
                              replace=False))
    train = corpus.decode_rows(corpus.train[rows], strip_pad=True)
    valid = corpus.decode_rows(corpus.valid, strip_pad=True)
    seq_len = max(1, int(np.percentile([len(s) for s in valid], 99)))
    return ReferenceSet.from_texts(train, valid, seq_len, pad=corpus.tokenizer.pad, config=config)


def reference_for(corpus: PreparedCorpus, js_text: JSText = ReferenceConfig.js_text,
                  whole: bool = False) -> ReferenceSet:
    """The cached :class:`ReferenceSet` of a prepared corpus (built and saved on first use).

    ``whole``: all the corpus's lines, training and held-out, are the reference
    (``ReferenceConfig.whole``; ``js_text`` does not apply).
    """
    if len(corpus.valid) == 0 and not whole:
        raise CorpusError(f"corpus {corpus.dir} has no held-out lines to evaluate against; "
                          "give it --valid-path or more lines")
    cache = corpus.dir / ("eval_reference_whole" if whole else f"eval_reference_{js_text}")
    char_mode = corpus.tokenizer.kind == "char"
    pad = corpus.tokenizer.pad
    try:
        ref = ReferenceSet.load(cache)
        if not char_mode or ref.is_for(corpus.train, corpus.valid, corpus.vocab, pad):
            return ref
    except TextganError:
        pass  # missing or unreadable cache: rebuild
    config = (ReferenceConfig(whole=True, heldout_lines=WHOLE_HELDOUT_LINES) if whole
              else ReferenceConfig(js_text=js_text))
    if char_mode:
        ref = ReferenceSet.from_ids(corpus.train, corpus.valid, corpus.vocab, pad, config)
    else:
        ref = _decoded_reference(corpus, config)
    try:
        ref.save(cache)
    except OSError:
        pass  # a read-only corpus still evaluates, just without the cache
    return ref


def read_samples(path: str | Path, limit: int | None = None) -> list[str]:
    """Lines of a samples file (UTF-8, one sample a line); clear errors for bad files."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise TextganError(f"samples file {path} does not exist") from None
    except IsADirectoryError:
        raise TextganError(f"{path} is a directory; pass a text file of samples") from None
    except UnicodeDecodeError as err:
        raise TextganError(f"samples file {path} is not valid UTF-8 (byte {err.start}); "
                           "re-encode it as UTF-8") from None
    except OSError as err:
        raise TextganError(f"cannot read samples file {path}: {err.strerror}") from None
    lines = [line.rstrip("\r") for line in text.split("\n")]
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise TextganError(f"samples file {path} has no non-empty lines")
    return lines[:limit] if limit else lines


def resolve_reference(spec: str, data_dir: str = TextDataConfig.data_dir,
                      seq_len: int = TextDataConfig.seq_len,
                      progress: ProgressFn | None = None) -> tuple[PreparedCorpus, bool]:
    """The prepared corpus ``spec`` names, and whether it is a whole reference (see the module
    docstring): a prepared directory or a corpus name (synthetic, billion_word, hf:...) is not;
    text file(s), a directory or a glob are (prepared once into ``data_dir``)."""
    path = Path(spec)
    if path.is_dir() and (path / "meta.json").is_file():
        return PreparedCorpus.open(path), False
    if spec in ("synthetic", "billion_word") or spec.startswith("hf:"):
        cfg = TextDataConfig(corpus=spec, data_dir=data_dir, seq_len=seq_len)
        return load_corpus(cfg, progress=progress), False
    cfg = TextDataConfig(corpus_path=spec, data_dir=data_dir, seq_len=seq_len,
                         max_vocab=REFERENCE_MAX_VOCAB)
    return load_corpus(cfg, progress=progress), True


@dataclass
class EvalReport:
    metrics: dict[str, float]
    samples: list[str]
    reference: Path
    sweep: SweepResult | None = None
    plot: Path | None = None
    notes: list[str] = field(default_factory=list)
    sweep_file: Path | None = None  # where the sweep was saved (``<run>/eval/sweep.json``)


def evaluate_lines(samples: list[str], corpus: PreparedCorpus, config: EvalConfig,
                   js_text: JSText = ReferenceConfig.js_text, whole: bool = False
                   ) -> dict[str, float]:
    """All metrics of text samples; on the synthetic corpus (character mode) also its oracle."""
    metrics = evaluate(samples, reference_for(corpus, js_text, whole), config)
    if corpus.is_synthetic and corpus.tokenizer.kind == "char":
        pad = corpus.tokenizer.pad
        metrics.update({k: float(v) for k, v in
                        oracle_scores([s.rstrip(pad) for s in samples], corpus.seq_len).items()})
    return metrics


def oracle_scores_for_rows(rows: list[list[int]], tokenizer: Any, seq_len: int) -> dict[str, float]:
    """The synthetic grammar's oracle scores for generated id rows (any tokenizer)."""
    lines = [tokenizer.decode(row, strip_pad=True) for row in rows]
    if tokenizer.kind == "char":
        return oracle_scores(lines, seq_len)
    # seq_len counts pieces: a row that fills every position was cut, at a piece boundary
    # ``len(line)`` characters in; any other row must be a whole sentence.
    cut = [bool(line) and row[-1] != tokenizer.pad_id for line, row in zip(lines, rows, strict=True)]
    return oracle_scores(lines, seq_len, cut=cut)


def evaluate_generator(generator: Any, tokenizer: Any, corpus: PreparedCorpus, *,
                       n: int = PAPER_SAMPLES, temperature: float | None = None, seed: int = 0,
                       config: EvalConfig | None = None,
                       js_text: JSText = ReferenceConfig.js_text) -> tuple[dict[str, float], list[str]]:
    """(metrics, samples) of ``n`` samples of a text generator against ``corpus``'s held-out
    text: what ``textgan eval --run`` reports."""
    from textgan.text.sampling import generate_ids

    rows = generate_ids(generator, n, temperature=temperature, seed=seed).tolist()
    samples = [tokenizer.decode(row, strip_pad=tokenizer.kind != "char") for row in rows]
    metrics = evaluate(samples, reference_for(corpus, js_text), config or EvalConfig())
    if corpus.is_synthetic:  # judged from the ids: knows which rows were cut (any tokenizer)
        metrics.update(oracle_scores_for_rows(rows, tokenizer, corpus.seq_len))
    return metrics, samples


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
    from textgan.core.ema import sampling_state
    from textgan.core.mode import checkpoint_content
    from textgan.core.run import resolve_checkpoint
    from textgan.device import resolve_device
    from textgan.text.models import generator_from_checkpoint
    from textgan.text.sampling import decoding, generate_text

    path, state, notes = resolve_checkpoint(run, checkpoint)
    state = sampling_state(state, raw)
    if state.get("mode") != "text":
        raise TextganError(f"{path} is a {state.get('mode')} checkpoint: evaluation needs a text "
                           "run")
    with checkpoint_content(path, "text"):
        generator, tokenizer, saved = generator_from_checkpoint(state, resolve_device(device))
    data_cfg = apply_overrides(TextDataConfig(), saved.get("data", {}), "data")
    corpus = load_corpus(data_cfg, progress=progress)
    notes.append(f"checkpoint {path} (step {state.get('step')}), reference {corpus.dir}, "
                 f"{decoding(generator, temperature)}")
    metrics, samples = evaluate_generator(generator, tokenizer, corpus, n=n,
                                          temperature=temperature, seed=seed, config=config,
                                          js_text=js_text)
    report = EvalReport(metrics, samples, corpus.dir, notes=notes)
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


def evaluate_file(samples_path: str | Path, reference: str, *,
                  data_dir: str = TextDataConfig.data_dir, seq_len: int = TextDataConfig.seq_len,
                  limit: int | None = None, config: EvalConfig | None = None,
                  js_text: JSText = ReferenceConfig.js_text,
                  progress: ProgressFn | None = None) -> EvalReport:
    """Evaluate a text file of samples (from any source) against a reference: text file(s) (all
    their lines), a prepared corpus or a corpus name (its held-out split); see the module
    docstring. ``js_text`` applies to corpora only."""
    samples = read_samples(samples_path, limit)
    corpus, whole = resolve_reference(reference, data_dir, seq_len, progress)
    metrics = evaluate_lines(samples, corpus, config or EvalConfig(), js_text, whole)
    if whole:
        lines = len(corpus.train) + len(corpus.valid)
        note = f"reference {reference}: all {lines} lines (prepared in {corpus.dir})"
    else:
        text = "held-out" if js_text == "valid" else "training"
        note = f"reference {corpus.dir}: a split corpus, JS-n against its {text} text"
    return EvalReport(metrics, samples, corpus.dir, notes=[note])
