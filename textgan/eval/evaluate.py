"""The one entry point: :func:`evaluate` (full report) and :func:`evaluate_js` (cheap, in training).

Every value has a real-vs-real counterpart computed the same way on ``n_real`` real lines
(``n_real = min(n_samples, real pool)``) so a number can be read against what real text scores.
What "the reference" and the real lines are depends on the :class:`ReferenceSet`:

* split corpus (``textgan eval --run``, the trainer, a prepared corpus): samples are compared with
  the training text (JS-n: the training or held-out text, ``js_text``) and held-out text; the real
  lines are training lines kept out of what they are compared with.
* whole reference (``ReferenceConfig(whole=True)``, ``textgan eval SAMPLES --reference FILE``):
  samples are compared with all reference lines (the LM and BLEU parts with the capped subsets
  described in :mod:`textgan.eval.reference`); the real lines are ``n_real`` random reference
  lines, compared with the remaining reference lines in exactly the same way (JS-n: the counts
  of all lines minus their own; BLEU: the same references minus themselves).

==============================  =============================================================
key                             meaning
==============================  =============================================================
``js{n}``                       JS-n (bits) of sample vs. reference char n-grams (paper's JS-n)
``js{n}_floor``                 same for the real lines vs. the reference minus those lines
                                (split corpus with ``js_text="valid"``: vs. the held-out text)
``lm_forward_bpc``              bits/char of the samples under a KN LM fit on real text
``lm_forward_bpc_real``         bits/char of the real lines (not in the LM's data), same LM
``lm_reverse_bpc``              bits/char of held-out real text under a KN LM fit on the samples
``lm_reverse_bpc_real``         same with the LM fit on the real lines
``word_precision{n}``           share of sample word n-grams found in the training sample (paper)
``word_recall{n}``              share of training-sample word n-grams found in the samples (paper)
``distinct{n}``                 distinct word n-grams / word n-grams
``unique_share``                distinct samples / samples
``memorized``                   share of samples that are verbatim reference lines (cut + padded)
``memorized_real``              split corpus: share of the held-out lines that are verbatim
                                training lines; whole: share of the real lines that occur
                                verbatim among the other reference lines
``bleu{N}``                     corpus BLEU-N against the BLEU references (held-out lines)
``self_bleu{N}``                corpus BLEU-N of each sample against all other samples
``texygen_bleu{n}``             Texygen BLEU-n: mean sentence BLEU of each sample against all
                                BLEU references (NLTK method-1 smoothing; :mod:`.bleu`)
``texygen_self_bleu{n}``        Texygen Self-BLEU-n: each sample against all other samples
``n_samples``, ``n_real``       how many lines each side had
==============================  =============================================================

``*_real`` is the real-vs-real value of every word and LM metric (``texygen_bleu4_real``, ...).

**Which lines each metric sees** (:func:`line_treatment` says it for a result):

* character statistics, ``js*``, ``lm_*`` and ``memorized*``: every line cut to the reference's
  ``seq_len`` and right-padded, as the paper's code cuts its lines (its language models too are
  trained on such lines); so does a per-class evaluation's label judge (``label_accuracy*``);
* word-level metrics (``word_*``, ``distinct*``, ``unique_share``, ``bleu*``, ``self_bleu*``,
  ``texygen_*``): whole lines. Samples as given (a model's samples are whatever length it
  makes); references as whole as the :class:`ReferenceSet` has them
  (:attr:`ReferenceSet.has_whole_lines`: a reference made from text keeps its whole lines; a
  prepared corpus has only its rows, each cut when it was prepared).

Words are the whitespace-separated tokens of a line, the pad character counting as whitespace
(:func:`textgan.eval.words.tokenize`). Texygen's BLEU as its definition states it (NLTK's
``sentence_bleu`` on whitespace tokens of whole lines) is then matched exactly on text without
the pad character. Texygen's code tokenises with ``nltk.word_tokenize``; on already-tokenised
text (Billion Word, EMNLP News as distributed) the two agree, on raw text it would also split
punctuation off words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from textgan.config import PAPER_SAMPLES, setting  # noqa: F401  (PAPER_SAMPLES: re-exported)
from textgan.errors import TextganError
from textgan.eval.bleu import corpus_bleu, self_bleu, texygen_bleu, texygen_self_bleu
from textgan.eval.js import _check_orders, js_against_table
from textgan.eval.kn import KneserNeyLM
from textgan.eval.reference import ReferenceSet
from textgan.eval.words import distinct_n, ngram_precision_recall, tokenize, unique_share

Samples = Sequence[str] | np.ndarray

# Key families by the lines they are computed on (module docstring).
CUT_KEYS = ("js", "lm_", "memorized", "label_accuracy")
WORD_KEYS = ("word_precision", "word_recall", "distinct", "unique_share", "bleu", "self_bleu",
             "texygen_bleu", "texygen_self_bleu")


@dataclass
class EvalConfig:
    """What :func:`evaluate` computes."""

    js_orders: tuple[int, ...] = setting((1, 2, 3, 4), "Character n-gram orders n of JS-n.")
    floors: bool = setting(True, "Also the real-vs-real values.")
    lm: bool = setting(True, "Kneser-Ney LM cross-entropies (slower).", flag=True)
    lm_order: int = setting(6, "Order of the character Kneser-Ney LMs.", flag=True)
    words: bool = setting(True, "Word-level metrics (precision/recall, BLEU, ...).", flag=True)
    word_orders: tuple[int, ...] = setting((1, 2, 3, 4), "Word n-gram orders of precision, "
                                           "recall and distinct-n.")
    bleu_n: int = setting(4, "Longest n-gram of BLEU and Self-BLEU.")
    texygen_orders: tuple[int, ...] = setting(
        (2, 3, 4, 5), "Texygen BLEU-n and Self-BLEU-n are reported for these n (the tables of "
        "language-GAN papers); empty: skip them.")
    lowercase: bool = setting(False, "Lower-case words first (the paper code's tokenize_string "
                              "does).")
    seed: int = setting(0, "Seed of the real-vs-real subset (and, for a run, of generation).",
                        flag=True)
    # Read by textgan eval (textgan.text.evaluation), not by evaluate(): it says how to split
    # the samples into classes; each class is then evaluated as above (textgan.eval.per_class).
    labels: Literal["none", "tsv"] = setting(
        "none", "How the samples file gives class labels: none, or tsv (label<TAB>text lines): "
        "then each class is evaluated against its own reference text (a labelled prepared corpus "
        "or a labelled tsv file) and judged by a classifier trained on the real text. A "
        "conditional run (--run) is evaluated per class without it.", flag=True)

    def validate(self) -> None:
        _check_orders(self.js_orders)
        _check_orders(self.word_orders)
        if self.texygen_orders:
            _check_orders(self.texygen_orders)
        if self.lm_order < 1 or self.bleu_n < 1:
            raise TextganError("lm_order and bleu_n must be >= 1")
        if self.labels not in ("none", "tsv"):
            raise TextganError(f"labels must be none or tsv, got {self.labels!r}")


def _count(samples: Samples) -> int:
    n = samples.shape[0] if isinstance(samples, np.ndarray) else len(samples)
    if n == 0:
        raise TextganError("no samples to evaluate; pass at least one line")
    return n


def evaluate_js(samples: Samples, reference: ReferenceSet, orders: Sequence[int] = (1, 2, 3, 4),
                floors: bool = True, seed: int = 0) -> dict[str, float]:
    """JS-n of the samples against the cached training statistics (plus ``js{n}_floor``).

    Nothing is refitted: floors are computed once per sample count and cached in ``reference``,
    so the trainer can call this every few hundred steps (paper: 640 samples every 100 steps).
    """
    _check_orders(orders)
    n = _count(samples)
    ids, base = reference.encode(samples)
    out = {f"js{k}": v for k, v in js_against_table(ids, base, reference.table, orders).items()}
    if floors:
        out.update({f"js{k}_floor": v for k, v in reference.js_floor(n, orders, seed).items()})
    return out


def _word_metrics(tokens: list[list[str]], refs: list[list[str]], reference: ReferenceSet,
                  cfg: EvalConfig, suffix: str) -> dict[str, float]:
    """Word metrics of tokenised lines; ``refs``: their BLEU references."""
    out: dict[str, float] = {}
    word_ref = reference.word_reference(cfg.lowercase, max(cfg.word_orders))
    for k, (p, r) in ngram_precision_recall(tokens, word_ref, cfg.word_orders).items():
        out[f"word_precision{k}{suffix}"] = p
        out[f"word_recall{k}{suffix}"] = r
    for k in cfg.word_orders:
        out[f"distinct{k}{suffix}"] = distinct_n(tokens, k)
    out[f"unique_share{suffix}"] = unique_share(tokens)
    out[f"bleu{cfg.bleu_n}{suffix}"] = corpus_bleu(tokens, refs, cfg.bleu_n)
    if len(tokens) >= 2:
        out[f"self_bleu{cfg.bleu_n}{suffix}"] = self_bleu(tokens, cfg.bleu_n)
    if cfg.texygen_orders:
        for k, v in texygen_bleu(tokens, refs, cfg.texygen_orders).items():
            out[f"texygen_bleu{k}{suffix}"] = v
        if len(tokens) >= 2:
            for k, v in texygen_self_bleu(tokens, cfg.texygen_orders).items():
                out[f"texygen_self_bleu{k}{suffix}"] = v
    return out


def evaluate(samples: Samples, reference: ReferenceSet,
             config: EvalConfig | None = None) -> dict[str, float]:
    """All metrics of ``samples`` (strings, or ids over the reference alphabet) as flat floats.

    Keys are listed in this module's docstring; ``self_bleu*`` needs at least 2 lines per side.
    """
    cfg = config or EvalConfig()
    cfg.validate()
    n = _count(samples)
    ids, base = reference.encode(samples)
    real_rows = reference.real_indices(n, cfg.seed) if cfg.floors else None
    real = reference.real_pool[real_rows].astype(np.int64) if real_rows is not None else None
    out: dict[str, float] = {"n_samples": float(n)}
    if real is not None:
        out["n_real"] = float(real.shape[0])
    js = js_against_table(ids, base, reference.table, cfg.js_orders)
    out.update({f"js{k}": v for k, v in js.items()})
    if cfg.floors:
        fl = reference.js_floor(n, cfg.js_orders, cfg.seed)
        out.update({f"js{k}_floor": v for k, v in fl.items()})
    if cfg.lm:
        V = reference.vocab_size + 1  # alphabet + unk
        fwd = reference.forward_lm(cfg.lm_order)
        held = reference.heldout.astype(np.int64)
        sample_lm_ids = reference.lm_ids(ids)
        out["lm_forward_bpc"] = fwd.cross_entropy(sample_lm_ids)
        rev = KneserNeyLM.fit(sample_lm_ids, V, cfg.lm_order)
        out["lm_reverse_bpc"] = rev.cross_entropy(held)
        if real is not None:
            out["lm_forward_bpc_real"] = fwd.cross_entropy(real)
            out["lm_reverse_bpc_real"] = KneserNeyLM.fit(real, V, cfg.lm_order).cross_entropy(held)
    if cfg.words:
        # whole samples: only the character statistics above cut them to seq_len
        texts = reference.lines(ids) if isinstance(samples, np.ndarray) else list(samples)
        tokens = [tokenize(s, reference.pad, cfg.lowercase) for s in texts]
        out.update(_word_metrics(tokens, reference.bleu_references(cfg.lowercase), reference,
                                 cfg, ""))
        out["memorized"] = float(reference.memorized(ids).mean())
        if real is not None:
            real_tokens = [tokenize(s, reference.pad, cfg.lowercase)
                           for s in reference.real_lines(real_rows)]
            refs = reference.bleu_references(cfg.lowercase, leave_out=real_rows)
            out.update(_word_metrics(real_tokens, refs, reference, cfg, "_real"))
            out["memorized_real"] = reference.memorized_real(real_rows)
    return out


def line_treatment(metrics: Mapping[str, float], seq_len: int | Mapping[str, int],
                   references: str) -> dict[str, object]:
    """What lines the keys of ``metrics`` were computed on (see the module docstring):
    ``{"cut_to": seq_len, "cut": [keys], "whole": [keys], "word_references": references}``;
    ``references`` says what the word-level side's reference lines were."""
    return {"cut_to": seq_len if isinstance(seq_len, int) else dict(seq_len),
            "cut": [k for k in metrics if k.startswith(CUT_KEYS)],
            "whole": [k for k in metrics if k.startswith(WORD_KEYS)],
            "word_references": references}
