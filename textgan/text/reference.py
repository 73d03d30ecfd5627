"""Finding the reference a text evaluation compares with (a prepared corpus, a corpus name,
text files) and scoring lines against it: :func:`resolve_reference`, :func:`reference_for`,
:func:`evaluate_lines` and the :class:`EvalReport` that ``textgan eval`` prints (see
:mod:`textgan.text.evaluation`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
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
    line_treatment,
)
from textgan.eval.per_class import ClassEvaluation
from textgan.io.progress import ProgressFn
from textgan.text.corpora import NAMED_CORPORA
from textgan.text.corpora.files import FilesSource
from textgan.text.oracle import oracle_scores
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
