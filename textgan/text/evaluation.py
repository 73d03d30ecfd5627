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

The work is split by job: :mod:`.reference` (finding and scoring against references),
:mod:`.sample_files` (reading samples files), :mod:`.generated` (a run's generator),
:mod:`.labelled` (TSV references and per-class evaluation); this module evaluates files of
samples and names them all.
"""

from __future__ import annotations

from pathlib import Path

from textgan.eval import (
    PAPER_SAMPLES,  # noqa: F401  (named here too)
    EvalConfig,
    JSText,
    ReferenceConfig,
)
from textgan.io.progress import ProgressFn
from textgan.text.generated import (  # noqa: F401  (textgan.text.evaluation names them all)
    _evaluate_generator,
    evaluate_generator,
    evaluate_run,
)
from textgan.text.labelled import (  # noqa: F401  (textgan.text.evaluation names them all)
    LABEL_HELDOUT_EVERY,
    CorpusLabels,
    LabelledReference,
    _judge_summary,
    _subset,
    class_oracle,
    class_reference,
    class_report,
    corpus_judge,
    corpus_labels,
    evaluate_conditional_generator,
    evaluate_labelled_file,
    generate_class_ids,
    labelled_corpus_reference,
    resolve_labelled_reference,
    tsv_reference,
)
from textgan.text.oracle import (
    oracle_scores_for_rows,  # noqa: F401
)
from textgan.text.prepare import TextDataConfig
from textgan.text.reference import (  # noqa: F401  (textgan.text.evaluation names them all)
    MAX_DECODED_TRAIN,
    REFERENCE_MAX_VOCAB,
    WHOLE_HELDOUT_LINES,
    EvalReport,
    _cached_reference,
    _decoded_reference,
    _evaluate_lines,
    class_lines,
    evaluate_lines,
    lines_of,
    reference_for,
    resolve_reference,
    source_lines,
    word_references,
)
from textgan.text.sample_files import (  # noqa: F401  (textgan.text.evaluation names them all)
    read_labelled_lines,
    read_samples,
)


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
