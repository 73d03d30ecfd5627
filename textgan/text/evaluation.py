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

Labelled samples (``textgan eval SAMPLES --labels tsv --reference SPEC``, ``label<TAB>text``
lines; and ``textgan eval --run`` of a conditional run) are evaluated per class
(:mod:`textgan.eval.per_class`), SPEC being labelled: a labelled prepared corpus (each class
against its own held-out rows, like ``--run``) or ``label<TAB>text`` file(s) (each class against
all of its lines). The label classifier is trained on the reference's real lines.

The reference statistics are computed once per prepared corpus and cached inside it
(``<corpus>/eval_reference_<text>/``, ``eval_reference_whole/``, per class
``eval_reference_<text>_class<id>/``); a stale cache (corpus changed) is rebuilt.

Lines: character statistics (JS-n, the Kneser-Ney LMs, memorisation) cut every line to
``seq_len``, as the paper's code does; word-level metrics (BLEU, Self-BLEU, ...) read whole
lines (:mod:`textgan.eval.evaluate`). A reference text file keeps its whole lines for them (read
again from the files when its statistics are first built, and cached with them); a prepared
corpus or corpus name has only its prepared rows, each cut to ``seq_len`` when it was prepared,
which is also the text a model trained on it learnt from. :attr:`EvalReport.lines` says which.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from textgan.errors import ConfigError, CorpusError, TextganError
from textgan.eval import (
    PAPER_SAMPLES,
    EvalConfig,
    JSText,
    ReferenceConfig,
    ReferenceSet,
    SweepResult,
    evaluate,
    line_treatment,
    plot_quality_diversity,
    quality_diversity_sweep,
    save_sweep,
)
from textgan.eval.classifier import ClassifierConfig
from textgan.eval.per_class import ClassEvaluation, LabelJudge, evaluate_classes
from textgan.io.progress import ProgressFn
from textgan.text.corpora import NAMED_CORPORA
from textgan.text.corpora.files import FilesSource
from textgan.text.oracle import SENTENCE_CLASSES, class_accuracy, class_markers, oracle_scores
from textgan.text.prepare import PreparedCorpus, TextDataConfig, load_corpus, prepare_corpus

MAX_DECODED_TRAIN = 200_000  # subword corpora: lines decoded to text for character statistics
# A reference file keeps every distinct character (ids stay uint16), so it is exactly its text.
REFERENCE_MAX_VOCAB = 65_536
# Whole references: lines kept as BLEU references and reverse-LM text (Texygen's test sets have
# about 10k lines, so published BLEU tables use all of theirs).
WHOLE_HELDOUT_LINES = 100_000


def _decoded_reference(corpus: PreparedCorpus, train: np.ndarray, valid: np.ndarray,
                       config: ReferenceConfig) -> ReferenceSet:
    """Subword corpora: character statistics of the *decoded* text (of these id rows)."""
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(len(train), min(MAX_DECODED_TRAIN, len(train)), replace=False))
    train_text = corpus.decode_rows(train[rows], strip_pad=True)
    valid_text = corpus.decode_rows(valid, strip_pad=True)
    seq_len = max(1, int(np.percentile([len(s) for s in valid_text], 99)))
    return ReferenceSet.from_texts(train_text, valid_text, seq_len, pad=corpus.tokenizer.pad,
                                   config=config)


def _cached_reference(corpus: PreparedCorpus, train: np.ndarray, valid: np.ndarray,
                      cache: Path, config: ReferenceConfig,
                      whole_lines: Callable[[np.ndarray], Sequence[str]] | None = None
                      ) -> ReferenceSet:
    """The :class:`ReferenceSet` of id rows ``train``/``valid`` of ``corpus``, loaded from
    ``cache`` when it is there and (character corpora) still describes them, else built and
    saved there. ``whole_lines``: the uncut lines of those rows (``ReferenceSet.from_ids``); a
    cache without whole lines (older, or built without them) is then rebuilt, never used for
    word-level metrics on cut lines."""
    char_mode = corpus.tokenizer.kind == "char"
    pad = corpus.tokenizer.pad
    # subword corpora are evaluated on their decoded text, which from_texts keeps whole
    needs_whole = whole_lines is not None or not char_mode
    try:
        ref = ReferenceSet.load(cache)
        if ((not char_mode or ref.is_for(train, valid, corpus.vocab, pad))
                and (ref.has_whole_lines or not needs_whole)):
            return ref
    except TextganError:
        pass  # missing or unreadable cache: rebuild
    if char_mode:
        ref = ReferenceSet.from_ids(train, valid, corpus.vocab, pad, config, whole_lines)
    else:
        ref = _decoded_reference(corpus, train, valid, config)
    try:
        ref.save(cache)
    except OSError:
        pass  # a read-only corpus still evaluates, just without the cache
    return ref


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
    config = (ReferenceConfig(whole=True, heldout_lines=WHOLE_HELDOUT_LINES) if whole
              else ReferenceConfig(js_text=js_text))
    lines = source_lines(corpus) if whole else None
    return _cached_reference(corpus, corpus.train, corpus.valid, cache, config, lines)


def source_lines(corpus: PreparedCorpus) -> Callable[[np.ndarray], list[str]] | None:
    """For a corpus prepared from local text files: a function giving the whole lines of its
    rows (sorted indices into train then valid rows), read again from the files (which must be
    the ones it was prepared from). None for any other corpus: its rows are all there is."""
    described = corpus.meta.get("source") or {}
    if described.get("kind") != "files" or described.get("settings", {}).get("labels"):
        return None
    settings = described.get("settings", {})

    def reopen() -> FilesSource:
        try:
            files = [Path(f["path"]) for f in described["train_files"]]
            valid = described.get("valid_files")
            source = FilesSource.of_files(
                files, [Path(f["path"]) for f in valid] if valid is not None else None,
                valid_every=int(settings.get("valid_every", 100)),
                max_lines=settings.get("max_lines"),
                encoding_errors=settings.get("encoding_errors", "strict"))
        except (CorpusError, OSError, KeyError, TypeError, ValueError):
            source = None
        if source is None or source.name != described.get("name"):
            raise CorpusError(f"the text files {corpus.dir} was prepared from changed or moved "
                              "since; evaluate against them again (they are prepared again)")
        return source

    def pick(rows: np.ndarray) -> list[str]:  # called only when the statistics are built
        wanted = np.asarray(rows).tolist()
        out: list[str] = []
        if not wanted:
            return out
        source = reopen()
        stream = itertools.chain(source.train_lines(), source.valid_lines())
        for i, line in enumerate(stream):
            if i == wanted[len(out)]:
                out.append(line)
                if len(out) == len(wanted):
                    break
        return out

    return pick


def read_samples(path: str | Path, limit: int | None = None,
                 encoding_errors: str = TextDataConfig.encoding_errors) -> list[str]:
    """Non-blank lines of a samples file, one sample a line (UTF-8, plain or gzip: the corpora's
    reader, :func:`textgan.text.corpora.base.read_lines`)."""
    from textgan.text.corpora.base import read_lines

    lines = [text for _, text in read_lines(Path(path), encoding_errors)]
    if not lines:
        raise TextganError(f"samples file {path} has no non-empty lines")
    return lines[:limit] if limit else lines


def resolve_reference(spec: str, data_dir: str = TextDataConfig.data_dir,
                      seq_len: int = TextDataConfig.seq_len,
                      progress: ProgressFn | None = None, *,
                      encoding_errors: str = TextDataConfig.encoding_errors
                      ) -> tuple[PreparedCorpus, bool]:
    """The prepared corpus ``spec`` names, and whether it is a whole reference (see the module
    docstring): a prepared directory or a corpus name (synthetic, billion_word, hf:...) is not;
    text file(s), a directory or a glob are (prepared once into ``data_dir``)."""
    path = Path(spec)
    if path.is_dir() and (path / "meta.json").is_file():
        return PreparedCorpus.open(path), False
    if spec in NAMED_CORPORA or spec.startswith("hf:"):
        cfg = TextDataConfig(corpus=spec, data_dir=data_dir, seq_len=seq_len,
                             encoding_errors=encoding_errors)  # type: ignore[arg-type]
        return load_corpus(cfg, progress=progress), False
    cfg = TextDataConfig(corpus_path=spec, data_dir=data_dir, seq_len=seq_len,
                         max_vocab=REFERENCE_MAX_VOCAB,
                         encoding_errors=encoding_errors)  # type: ignore[arg-type]
    # the source load_corpus would open, but errors name --reference, the flag given
    source = FilesSource(spec, max_lines=cfg.max_lines, encoding_errors=cfg.encoding_errors,
                         flag="--reference")
    return prepare_corpus(source, cfg, progress=progress), True


@dataclass
class EvalReport:
    metrics: dict[str, float]
    samples: list[str]
    reference: Path
    sweep: SweepResult | None = None
    plot: Path | None = None
    notes: list[str] = field(default_factory=list)
    sweep_file: Path | None = None  # where the sweep was saved (``<run>/eval/sweep.json``)
    # Labelled samples: each class's metrics (``metrics`` are then their macro mean)
    classes: ClassEvaluation | None = None
    # which metrics were computed on lines cut to what length (line_treatment)
    lines: dict[str, Any] | None = None


def word_references(whole_lines: bool, seq_len: int, corpus: PreparedCorpus | None) -> str:
    """What the word-level metrics' reference lines were, in words."""
    if whole_lines and (corpus is None or corpus.tokenizer.kind == "char"):
        return "whole lines"
    unit = "characters" if corpus is None or corpus.tokenizer.kind == "char" else "pieces"
    what = "decoded rows" if unit == "pieces" else "rows"
    size = corpus.seq_len if corpus is not None else seq_len
    return f"the prepared corpus's {what} (lines cut to {size} {unit} when prepared)"


def lines_of(metrics: dict[str, float], reference: ReferenceSet,
             corpus: PreparedCorpus | None) -> dict[str, Any]:
    """:attr:`EvalReport.lines` of ``metrics`` computed against ``reference``."""
    return line_treatment(metrics, reference.seq_len,
                          word_references(reference.has_whole_lines, reference.seq_len, corpus))


def class_lines(evaluation: ClassEvaluation, corpus: PreparedCorpus | None) -> dict[str, Any]:
    """:attr:`EvalReport.lines` of a per-class evaluation (lengths per class if they differ)."""
    lengths = set(evaluation.seq_len.values())
    seq_len = lengths.pop() if len(lengths) == 1 else evaluation.seq_len
    whole = all(evaluation.whole_lines.values())
    return line_treatment(evaluation.macro, seq_len,
                          word_references(whole, max(evaluation.seq_len.values()), corpus))


def evaluate_lines(samples: list[str], corpus: PreparedCorpus, config: EvalConfig,
                   js_text: JSText = ReferenceConfig.js_text, whole: bool = False
                   ) -> dict[str, float]:
    """All metrics of text samples; on the synthetic corpus (character mode) also its oracle."""
    return _evaluate_lines(samples, corpus, config, js_text, whole)[0]


def _evaluate_lines(samples: list[str], corpus: PreparedCorpus, config: EvalConfig,
                    js_text: JSText, whole: bool) -> tuple[dict[str, float], dict[str, Any]]:
    """:func:`evaluate_lines` and :attr:`EvalReport.lines` of its result."""
    reference = reference_for(corpus, js_text, whole)
    metrics = evaluate(samples, reference, config)
    if corpus.is_synthetic and corpus.tokenizer.kind == "char":
        pad = corpus.tokenizer.pad
        metrics.update({k: float(v) for k, v in
                        oracle_scores([s.rstrip(pad) for s in samples], corpus.seq_len).items()})
    return metrics, lines_of(metrics, reference, corpus)


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


def evaluate_file(samples_path: str | Path, reference: str, *,
                  data_dir: str = TextDataConfig.data_dir, seq_len: int = TextDataConfig.seq_len,
                  limit: int | None = None, config: EvalConfig | None = None,
                  js_text: JSText = ReferenceConfig.js_text,
                  progress: ProgressFn | None = None,
                  encoding_errors: str = TextDataConfig.encoding_errors) -> EvalReport:
    """Evaluate a text file of samples (from any source) against a reference: text file(s) (all
    their lines), a prepared corpus or a corpus name (its held-out split); see the module
    docstring. ``js_text`` applies to corpora only; ``encoding_errors`` to the samples and the
    reference text."""
    return evaluate_texts(read_samples(samples_path, limit, encoding_errors), reference,
                          data_dir=data_dir,
                          seq_len=seq_len, config=config, js_text=js_text, progress=progress,
                          encoding_errors=encoding_errors)


def evaluate_texts(samples: list[str], reference: str, *,
                   data_dir: str = TextDataConfig.data_dir, seq_len: int = TextDataConfig.seq_len,
                   config: EvalConfig | None = None, js_text: JSText = ReferenceConfig.js_text,
                   progress: ProgressFn | None = None,
                   encoding_errors: str = TextDataConfig.encoding_errors) -> EvalReport:
    """:func:`evaluate_file` of sample lines already read (or generated)."""
    corpus, whole = resolve_reference(reference, data_dir, seq_len, progress,
                                      encoding_errors=encoding_errors)
    metrics, treatment = _evaluate_lines(samples, corpus, config or EvalConfig(), js_text, whole)
    if whole:
        count = len(corpus.train) + len(corpus.valid)
        note = f"reference {reference}: all {count} lines (prepared in {corpus.dir})"
    else:
        text = "held-out" if js_text == "valid" else "training"
        note = f"reference {corpus.dir}: a split corpus, JS-n against its {text} text"
    return EvalReport(metrics, samples, corpus.dir, notes=[note], lines=treatment)


# --------------------------------------------------------------------------- labelled samples
# Per-class evaluation (``textgan eval SAMPLES --labels tsv --reference REF`` and a conditional
# run's ``eval --run``): see :mod:`textgan.eval.per_class` for what is computed.

LABEL_HELDOUT_EVERY = 10  # tsv references: the classifier's held-out lines (per class, 1 in 10)


@dataclass
class CorpusLabels:
    """The labels of a labelled prepared corpus: class names in id order, an id per row."""

    names: list[str]
    train: np.ndarray  # [n_train] class ids (memmap)
    valid: np.ndarray  # [n_valid]


def corpus_labels(corpus: PreparedCorpus) -> CorpusLabels | None:
    """A prepared corpus's labels (None: it has none): ``train_labels.bin``/``valid_labels.bin``,
    one id per row in the dtype and with the class names of meta.json's ``"labels"``."""
    info = corpus.meta.get("labels")
    if not info:
        return None
    try:
        names = [str(name) for name in info["names"]]
        dtype = np.dtype(info["dtype"])
        arrays = []
        for split, rows in (("train", len(corpus.train)), ("valid", len(corpus.valid))):
            path = corpus.dir / f"{split}_labels.bin"
            if path.stat().st_size != rows * dtype.itemsize:
                raise CorpusError(f"{path} has the wrong size for {rows} rows (corrupt); delete "
                                  f"{corpus.dir} and prepare again")
            arrays.append(np.memmap(path, dtype=dtype, mode="r", shape=(rows,)) if rows
                          else np.zeros(0, dtype=dtype))
    except (OSError, KeyError, TypeError, ValueError) as err:
        raise CorpusError(f"the labels of {corpus.dir} are unreadable ({err}); delete it and "
                          "prepare again") from None
    if not names or any(a.size and int(a.max()) >= len(names) for a in arrays):
        raise CorpusError(f"the labels of {corpus.dir} do not match its {len(names)} class "
                          "names; delete it and prepare again")
    return CorpusLabels(names, arrays[0], arrays[1])


def read_labelled_lines(path: str | Path, encoding_errors: str = TextDataConfig.encoding_errors
                        ) -> list[tuple[int, str, str]]:
    """``(line number, label, text)`` of each ``label<TAB>text`` line of a UTF-8 file (plain or
    gzip, read as every text file is: :func:`textgan.text.corpora.base.read_lines`). Blank
    lines, and lines whose text is blank, are skipped; a line without a tab or with an empty
    label is a one-line error naming the line."""
    from textgan.text.corpora.base import read_lines

    records = []
    for number, text in read_lines(Path(path), encoding_errors):
        label, tab, sample = text.partition("\t")
        if not tab:
            raise TextganError(f"{path} line {number} has no tab: labelled lines are "
                               "label<TAB>text")
        if not label.strip():
            raise TextganError(f"{path} line {number} has an empty label")
        if sample.strip():
            records.append((number, label, sample))
    if not records:
        raise TextganError(f"{path} has no labelled lines (label<TAB>text)")
    return records


@dataclass
class LabelledReference:
    """Real labelled text to evaluate each class against: its classes, a reference per class
    (built on first use), the label classifier trained on it, and how it was read."""

    names: list[str]
    judge: LabelJudge
    build_reference: Callable[[str], ReferenceSet]
    note: str
    corpus: PreparedCorpus | None = None  # a prepared corpus (None: tsv files)
    _built: dict[str, ReferenceSet] = field(default_factory=dict)

    def reference_of(self, name: str) -> ReferenceSet:
        if name not in self._built:
            self._built[name] = self.build_reference(name)
        return self._built[name]

    def extra_metrics(self, name: str, samples: Sequence[str]) -> dict[str, float]:
        """The synthetic grammar's oracle scores of a class's samples (character corpora)."""
        corpus = self.corpus
        if corpus is None or not corpus.is_synthetic or corpus.tokenizer.kind != "char":
            return {}
        pad = corpus.tokenizer.pad
        lines = [s.rstrip(pad) for s in samples]
        return {**{k: float(v) for k, v in oracle_scores(lines, corpus.seq_len).items()},
                **class_oracle(name, lines, corpus.seq_len)}


def class_oracle(name: str, lines: Sequence[str], seq_len: int) -> dict[str, float]:
    """For the synthetic classes (``question``, ``statement``): the oracle's exact judgement of
    samples generated for class ``name`` — ``class_accuracy`` (sentences of that class's
    sub-language), ``class_start`` / ``class_end`` (its first word, its final mark) and their
    label-blind chance levels (:mod:`textgan.text.oracle`). Empty for any other class name."""
    if name not in SENTENCE_CLASSES or not lines:
        return {}
    labels = [name] * len(lines)
    scores = class_accuracy(lines, labels, seq_len) | class_markers(lines, labels, seq_len)
    return {k: float(v) for k, v in scores.items() if not k.endswith(f"_{name}")}


def class_reference(corpus: PreparedCorpus, labels: CorpusLabels, name: str,
                    js_text: JSText = ReferenceConfig.js_text) -> ReferenceSet:
    """The reference of class ``name`` of a labelled prepared corpus: its training and held-out
    rows only, as :func:`reference_for` makes one of the whole corpus (cached in
    ``<corpus>/eval_reference_<text>_class<id>/``)."""
    k = labels.names.index(name)
    train_rows = np.flatnonzero(np.asarray(labels.train) == k)
    valid_rows = np.flatnonzero(np.asarray(labels.valid) == k)
    for what, rows in (("training", train_rows), ("held-out", valid_rows)):
        if not rows.size:
            raise CorpusError(f"class {name!r} has no {what} lines in {corpus.dir} to evaluate "
                              "it against")
    return _cached_reference(corpus, np.asarray(corpus.train[train_rows]),
                             np.asarray(corpus.valid[valid_rows]),
                             corpus.dir / f"eval_reference_{js_text}_class{k}",
                             ReferenceConfig(js_text=js_text))


def _subset(n: int, cap: int, rng: np.random.Generator) -> np.ndarray:
    return np.arange(n) if n <= cap else np.sort(rng.choice(n, cap, replace=False))


def corpus_judge(corpus: PreparedCorpus, labels: CorpusLabels,
                 config: ClassifierConfig | None = None) -> LabelJudge:
    """The label classifier of a labelled prepared corpus: trained on (a seeded subset of) its
    training rows, its accuracy measured on its held-out rows; rows decoded without padding."""
    cfg = config or ClassifierConfig()
    rng = np.random.default_rng(cfg.seed)
    tr = _subset(len(corpus.train), cfg.max_train_lines, rng)
    va = _subset(len(corpus.valid), cfg.max_heldout_lines, rng)
    return LabelJudge.train(labels.names,
                            corpus.decode_rows(corpus.train[tr], strip_pad=True),
                            np.asarray(labels.train[tr]),
                            corpus.decode_rows(corpus.valid[va], strip_pad=True),
                            np.asarray(labels.valid[va]), cfg)


def _judge_summary(evaluation: ClassEvaluation) -> str:
    c = evaluation.classifier
    measured = (f"accuracy {c['accuracy']:.3f} on {int(c['heldout_lines'])} real held-out lines"
                if "accuracy" in c else "no held-out lines to measure its accuracy on")
    return (f"label classifier (naive Bayes on character n-grams, trained on "
            f"{int(c['train_lines'])} real lines): {measured}")


def labelled_corpus_reference(corpus: PreparedCorpus, js_text: JSText = ReferenceConfig.js_text,
                              classifier: ClassifierConfig | None = None,
                              spec: str | None = None) -> LabelledReference:
    """The :class:`LabelledReference` of a labelled prepared corpus (its held-out split per
    class); an unlabelled corpus is a one-line error."""
    labels = corpus_labels(corpus)
    if labels is None:
        raise ConfigError(f"reference {spec or corpus.dir} has no labels: give a labelled "
                          "prepared corpus or a label<TAB>text file")
    text = "held-out" if js_text == "valid" else "training"
    return LabelledReference(
        labels.names, corpus_judge(corpus, labels, classifier),
        lambda name: class_reference(corpus, labels, name, js_text),
        f"reference {corpus.dir}: a labelled split corpus, each class against its own held-out "
        f"lines (JS-n: its {text} text)", corpus=corpus)


def tsv_reference(spec: str, seq_len: int = TextDataConfig.seq_len, pad: str = TextDataConfig.pad,
                  classifier: ClassifierConfig | None = None) -> LabelledReference:
    """The :class:`LabelledReference` of ``label<TAB>text`` file(s) (a file, directory or glob):
    each class's lines are its whole reference (as a reference text file is for unlabelled
    samples): cut to ``seq_len`` for character statistics and the classifier, whole for
    word-level metrics; the classifier holds out every 10th line of each class."""
    from textgan.text.corpora.files import resolve_paths

    by_class: dict[str, list[str]] = {}  # whole lines: from_texts cuts them for characters
    for path in resolve_paths(spec, "--reference"):
        for _, label, text in read_labelled_lines(path):
            by_class.setdefault(label, []).append(text)
    names = list(by_class)
    train, train_y, held, held_y = [], [], [], []
    for k, name in enumerate(names):
        for j, line in enumerate(by_class[name]):
            real = line[:seq_len].rstrip(pad)  # as the judge reads samples (eval.per_class)
            if j % LABEL_HELDOUT_EVERY == LABEL_HELDOUT_EVERY - 1:
                held.append(real)
                held_y.append(k)
            else:
                train.append(real)
                train_y.append(k)
    judge = LabelJudge.train(names, train, train_y, held, held_y, classifier)
    config = ReferenceConfig(whole=True, heldout_lines=WHOLE_HELDOUT_LINES)
    lines = sum(map(len, by_class.values()))
    return LabelledReference(
        names, judge,
        lambda name: ReferenceSet.from_texts(by_class[name], [], seq_len, pad, config),
        f"reference {spec}: {lines} labelled lines, each class against all of its lines")


def resolve_labelled_reference(spec: str, data_dir: str = TextDataConfig.data_dir,
                               seq_len: int = TextDataConfig.seq_len,
                               js_text: JSText = ReferenceConfig.js_text,
                               classifier: ClassifierConfig | None = None,
                               progress: ProgressFn | None = None) -> LabelledReference:
    """A labelled prepared corpus directory (or a corpus name, prepared as for training), or
    ``label<TAB>text`` file(s): a file, a directory of them or a glob."""
    path = Path(spec)
    if path.is_dir() and (path / "meta.json").is_file():
        return labelled_corpus_reference(PreparedCorpus.open(path), js_text, classifier, spec)
    if spec in NAMED_CORPORA or spec.startswith("hf:"):
        cfg = TextDataConfig(corpus=spec, data_dir=data_dir, seq_len=seq_len)
        return labelled_corpus_reference(load_corpus(cfg, progress=progress), js_text,
                                         classifier, spec)
    return tsv_reference(spec, seq_len, classifier=classifier)


def class_report(evaluation: ClassEvaluation, samples: list[str], reference: Path,
                 notes: list[str], corpus: PreparedCorpus | None = None) -> EvalReport:
    """An :class:`EvalReport` of a per-class evaluation: ``metrics`` are the macro means;
    ``corpus``: the labelled prepared corpus it was against (None: tsv files)."""
    return EvalReport(dict(evaluation.macro), samples, reference, notes=notes,
                      classes=evaluation, lines=class_lines(evaluation, corpus))


def evaluate_labelled_file(samples_path: str | Path, reference: str, *,
                           data_dir: str = TextDataConfig.data_dir,
                           seq_len: int = TextDataConfig.seq_len, limit: int | None = None,
                           config: EvalConfig | None = None,
                           js_text: JSText = ReferenceConfig.js_text,
                           classifier: ClassifierConfig | None = None,
                           progress: ProgressFn | None = None) -> EvalReport:
    """Evaluate a ``label<TAB>text`` samples file per class against a labelled reference
    (:func:`resolve_labelled_reference`); ``limit``: at most this many samples of each class.
    A sample label the reference does not have is a one-line error naming the line."""
    records = read_labelled_lines(samples_path)
    ref = resolve_labelled_reference(reference, data_dir, seq_len, js_text, classifier, progress)
    by_class: dict[str, list[str]] = {}
    for number, label, text in records:
        if label not in ref.names:
            raise ConfigError(f"{samples_path} line {number}: label {label!r} is not a class of "
                              f"the reference {reference} (its classes: {', '.join(ref.names)})")
        by_class.setdefault(label, []).append(text)
    ordered = {name: by_class[name][:limit] if limit else by_class[name]
               for name in ref.names if name in by_class}
    evaluation = evaluate_classes(ordered, ref.reference_of, config, ref.judge, ref.extra_metrics)
    notes = [ref.note, _judge_summary(evaluation)]
    missing = [name for name in ref.names if name not in by_class]
    if missing:
        notes.append(f"no samples of the reference's classes {', '.join(missing)}")
    where = ref.corpus.dir if ref.corpus is not None else Path(reference)
    return class_report(evaluation, [s for lines in ordered.values() for s in lines], where, notes,
                        ref.corpus)


def generate_class_ids(generator: Any, labels: Any, *, temperature: float | None = None,
                       seed: int = 0, batch_size: int = 512) -> Any:
    r"""Token ids ``[n, L]`` of a conditional text generator, row $i$ of class ``labels[i]``
    (the generator is called ``generator(z, labels=y)``, :mod:`textgan.core.conditional`);
    decoded as ``textgan sample`` decodes, with its own seeded ``torch.Generator``."""
    import torch

    from textgan.text.sampling import generate_ids

    labels = torch.as_tensor(labels, dtype=torch.long)
    return generate_ids(generator, int(labels.shape[0]), temperature=temperature, seed=seed,
                        batch_size=batch_size, labels=labels)


def evaluate_conditional_generator(
        generator: Any, tokenizer: Any, corpus: PreparedCorpus, label_names: Sequence[str], *,
        n: int = PAPER_SAMPLES, temperature: float | None = None, seed: int = 0,
        config: EvalConfig | None = None, js_text: JSText = ReferenceConfig.js_text,
        classifier: ClassifierConfig | None = None,
        sample: Callable[..., Any] = generate_class_ids) -> tuple[ClassEvaluation,
                                                                  dict[str, list[str]]]:
    """(per-class evaluation, samples per class) of ``n`` samples of each class of a conditional
    text generator (classes ``label_names``, as its checkpoint saved them), each class against
    its own held-out text in ``corpus`` (labelled; its classes must be the generator's).
    ``sample(generator, labels, temperature=, seed=)`` → id rows: :func:`generate_class_ids`."""
    import torch

    labels = corpus_labels(corpus)
    if labels is None:
        raise CorpusError(f"corpus {corpus.dir} has no labels to evaluate a conditional model "
                          "against")
    if labels.names != list(label_names):
        raise CorpusError(f"the model's classes ({', '.join(label_names)}) are not those of "
                          f"corpus {corpus.dir} ({', '.join(labels.names)})")
    if n < 1:
        raise ConfigError(f"need at least one sample per class, got {n}")
    y = torch.arange(len(labels.names)).repeat_interleave(n)
    rows = sample(generator, y, temperature=temperature, seed=seed).tolist()
    ref = labelled_corpus_reference(corpus, js_text, classifier)
    by_class: dict[str, list[str]] = {}
    rows_of: dict[str, list[list[int]]] = {}
    for k, name in enumerate(labels.names):
        rows_of[name] = rows[k * n:(k + 1) * n]
        by_class[name] = [tokenizer.decode(row, strip_pad=tokenizer.kind != "char")
                          for row in rows_of[name]]

    def oracle(name: str, _: Sequence[str]) -> dict[str, float]:
        # judged from the ids: knows which rows were cut (any tokenizer)
        if not corpus.is_synthetic:
            return {}
        scores = oracle_scores_for_rows(rows_of[name], tokenizer, corpus.seq_len)
        if tokenizer.kind == "char":
            scores |= class_oracle(name, [tokenizer.decode(row, strip_pad=True)
                                          for row in rows_of[name]], corpus.seq_len)
        return scores

    evaluation = evaluate_classes(by_class, ref.reference_of, config, ref.judge, oracle)
    return evaluation, by_class
