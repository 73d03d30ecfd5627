"""Labelled evaluation: ``label<TAB>text`` references (TSV parsing), a labelled corpus's
classes, and per-class evaluation of labelled samples or a conditional generator
(:mod:`textgan.eval.per_class`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from textgan.errors import ConfigError, CorpusError
from textgan.eval import (
    PAPER_SAMPLES,
    EvalConfig,
    JSText,
    ReferenceConfig,
    ReferenceSet,
)
from textgan.eval.classifier import ClassifierConfig
from textgan.eval.per_class import ClassEvaluation, LabelJudge, evaluate_classes
from textgan.io.progress import ProgressFn
from textgan.text.corpora import NAMED_CORPORA
from textgan.text.oracle import (
    SENTENCE_CLASSES,
    class_accuracy,
    class_markers,
    oracle_scores,
    oracle_scores_for_rows,
)
from textgan.text.prepare import PreparedCorpus, TextDataConfig, load_corpus
from textgan.text.reference import WHOLE_HELDOUT_LINES, EvalReport, _cached_reference, class_lines
from textgan.text.sample_files import read_labelled_lines

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
