"""Evaluation of text samples against real text.

Typical use (the CLI and the trainer do this)::

    ref = ReferenceSet.from_ids(corpus.train, corpus.valid, corpus.vocab, pad)  # once
    ref.save(corpus_dir / "eval_reference")           # later: ReferenceSet.load(...)
    evaluate_js(samples, ref)                          # in training: js1..js4 (+ floors)
    evaluate(samples, ref, EvalConfig())               # full report, flat dict of floats

Labelled samples (a conditional model's): :func:`evaluate_classes` evaluates each class against
its own reference and judges labels with :class:`NgramClassifier` (:mod:`textgan.eval.per_class`).

Nothing here knows a mode: on the synthetic corpus the text mode adds exact scores against its
grammar (:mod:`textgan.text.oracle`).
"""

from textgan.eval.bleu import corpus_bleu, self_bleu, texygen_bleu, texygen_self_bleu
from textgan.eval.classifier import ClassifierConfig, NgramClassifier
from textgan.eval.evaluate import (
    PAPER_SAMPLES,
    EvalConfig,
    evaluate,
    evaluate_js,
    line_treatment,
)
from textgan.eval.js import js_divergence
from textgan.eval.kn import KneserNeyLM
from textgan.eval.per_class import ClassEvaluation, LabelJudge, evaluate_classes, macro_mean
from textgan.eval.reference import JSText, ReferenceConfig, ReferenceSet
from textgan.eval.sweep import (
    SweepPoint,
    SweepResult,
    load_sweep,
    plot_quality_diversity,
    quality_diversity_sweep,
    save_sweep,
)
from textgan.eval.words import distinct_n, tokenize

__all__ = [
    "PAPER_SAMPLES",
    "ClassEvaluation",
    "ClassifierConfig",
    "EvalConfig",
    "JSText",
    "KneserNeyLM",
    "LabelJudge",
    "NgramClassifier",
    "ReferenceConfig",
    "ReferenceSet",
    "SweepPoint",
    "SweepResult",
    "corpus_bleu",
    "distinct_n",
    "evaluate",
    "evaluate_classes",
    "evaluate_js",
    "js_divergence",
    "line_treatment",
    "load_sweep",
    "macro_mean",
    "plot_quality_diversity",
    "quality_diversity_sweep",
    "save_sweep",
    "self_bleu",
    "texygen_bleu",
    "texygen_self_bleu",
    "tokenize",
]
