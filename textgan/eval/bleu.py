"""BLEU of tokenised lines: corpus-level BLEU-N and Self-BLEU, and Texygen's sentence-level
BLEU-n and Self-BLEU-n (the numbers language-GAN papers tabulate).

Smoothing everywhere is Chen & Cherry (2014) method 1, NLTK's ``SmoothingFunction().method1``: a
zero match count is replaced by ``eps = 0.1``; the denominator is ``max(1, n-grams)``.

**Corpus BLEU-N** (Papineni et al. 2002), uniform weights, every hypothesis scored against the
whole reference set, counts summed over hypotheses before dividing:
    p_n  = sum_h sum_g min(c_h(g), max_r c_r(g)) / sum_h sum_g c_h(g)
    BP   = 1 if c > r else exp(1 - r / c)  (c: hypothesis words, r: sum of closest ref lengths,
                                            ties to the shorter, as NLTK)
    BLEU = BP * exp(1/N sum_n log p_n)
Corpus Self-BLEU: the same, but hypothesis i's references are all the OTHER hypotheses.

**Texygen BLEU-n** (Zhu et al. 2018, ``utils/metrics/Bleu.py``): each hypothesis gets NLTK's
``sentence_bleu`` with ALL reference lines as its references, weights ``1/n`` over orders
``1..n``, method 1 smoothing; the scores are averaged over hypotheses. Per hypothesis ``h``, as
``nltk.translate.bleu_score.sentence_bleu`` (NLTK 3.x) computes it:
    M_k(g)    = max over references r of c_r(g)                (k-gram counts)
    m_k       = sum_g min(c_h(g), M_k(g)),   t_k = max(1, |h| - k + 1)
    p_k       = m_k / t_k if m_k > 0 else eps / t_k             (also when |h| < k: eps / 1)
    r         = the reference length closest to |h| (ties: the shorter; empty references count)
    BP        = 1 if |h| > r else exp(1 - r / |h|)
    BLEU-n(h) = 0 if m_1 = 0 (also an empty h), else BP * exp(sum_{k<=n} (1/n) log p_k)
**Texygen Self-BLEU-n** (``SelfBleu.py``): the same with h's references = all OTHER hypotheses.
Texygen's default "fast" mode keeps only the first 500 reference lines (Self-BLEU: the first 500
samples); these functions always use all lines, as its full mode (``is_fast=False``) does.
Texygen tokenises with ``nltk.word_tokenize``; callers here pass whitespace tokens
(:func:`textgan.eval.words.tokenize`), which agree with it on already-tokenised text such as
Billion Word (and need no NLTK tokenizer data, which is a separate download).

Speed: NLTK's loop costs O(hypotheses x references). Here ``M_k`` is computed once for all
hypotheses (per distinct n-gram, the max count over the reference lines), so each hypothesis
costs O(its length). For Self-BLEU, "max over all others" keeps per n-gram the largest count,
which sample holds it, and the second largest count: a sample's own n-grams are clipped by the
second largest count where it holds the largest, else by the largest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from textgan.errors import TextganError
from textgan.eval.ngrams import NgramCounter, unique_counts
from textgan.eval.words import WordVocab

BLEU_EPS = 0.1
TEXYGEN_ORDERS = (2, 3, 4, 5)

Lines = Sequence[Sequence[str]]


def _pair_counts(ids: np.ndarray, U: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (row, type) pairs of an id matrix (``-1`` skipped) and their counts."""
    U = max(U, 1)
    rows = np.broadcast_to(np.arange(ids.shape[0])[:, None], ids.shape)
    ok = ids >= 0
    key, cnt = unique_counts(rows[ok] * U + ids[ok])
    return key // U, key % U, cnt


def _max_counts(ids: np.ndarray, U: int) -> np.ndarray:
    """Per n-gram type ``< U``: its largest count in any one row of ``ids`` (0 if absent)."""
    out = np.zeros(max(U, 1), dtype=np.int64)
    _, t, c = _pair_counts(ids, U)
    np.maximum.at(out, t, c)
    return out


def _max_over_others(row: np.ndarray, t: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Per (row, type, count) pair: the largest count of that type in any OTHER row (0 if none)."""
    o = np.lexsort((-c, t))
    ts, rs, cs = t[o], row[o], c[o]
    first = np.r_[True, ts[1:] != ts[:-1]]
    starts = np.flatnonzero(first)
    grp = np.cumsum(first) - 1
    top1, owner = cs[starts], rs[starts]
    second = starts + 1
    has2 = np.r_[starts[1:], ts.size] > second
    top2 = np.zeros(starts.size, dtype=np.int64)
    top2[has2] = cs[second[has2]]
    out = np.empty_like(cs)
    out[o] = np.where(owner[grp] == rs, top2[grp], top1[grp])
    return out


def _closest(hyp_len: np.ndarray, ref_lens: np.ndarray, exclude_self: bool) -> np.ndarray:
    """Closest reference length per hypothesis (ties -> shorter); with ``exclude_self`` the
    references are the hypotheses' own lengths minus the hypothesis itself."""
    u, cnt = np.unique(ref_lens, return_counts=True)
    out = np.zeros(hyp_len.size, dtype=np.int64)
    for length in np.unique(hyp_len):
        cand = u[(u != length) | (cnt >= 2)] if exclude_self else u
        if cand.size == 0:
            continue
        best = cand[np.lexsort((cand, np.abs(cand - length)))[0]]
        out[hyp_len == length] = best
    return out


def _lengths(lines: Lines) -> np.ndarray:
    return np.fromiter((len(x) for x in lines), dtype=np.int64, count=len(lines))


def _check_orders(orders: Sequence[int]) -> int:
    if not orders or any(int(n) != n or n < 1 for n in orders):
        raise TextganError(f"BLEU orders must be positive integers, got {list(orders)}")
    return int(max(orders))


# ----------------------------------------------------------------------------- corpus level
def _bleu_from(matches: list[float], totals: list[float], c: int, r: int, eps: float) -> float:
    if c == 0:
        return 0.0
    logs = [np.log((m if m > 0 else eps) / max(t, 1)) for m, t in zip(matches, totals,
                                                                       strict=True)]
    bp = 1.0 if c > r else float(np.exp(1.0 - r / c))
    return float(bp * np.exp(np.mean(logs)))


def _shared_ngram_ids(hypotheses: Lines, references: Lines, max_n: int) -> tuple[Any, Any, Any]:
    """One word vocabulary and one n-gram id space for both sides: (counter, hypothesis ids,
    reference ids), ids per order as :meth:`NgramCounter.update` returns them."""
    vocab = WordVocab()
    H, _ = vocab.encode(hypotheses, grow=True)
    R, base = vocab.encode(references, grow=True)
    counter = NgramCounter(base, max_n)
    return counter, counter.update(H, return_ids=True), counter.update(R, return_ids=True)


def corpus_bleu(hypotheses: Lines, references: Lines, max_n: int = 4,
                eps: float = BLEU_EPS) -> float:
    """Corpus BLEU-``max_n`` of tokenised hypotheses, each against all ``references``."""
    if not references:
        raise TextganError("BLEU needs at least one reference line; pass held-out text")
    counter, ih, ir = _shared_ngram_ids(hypotheses, references, max_n)
    matches, totals = [], []
    for n in range(1, max_n + 1):
        if n > len(ih):
            matches.append(0)
            totals.append(0)
            continue
        U = counter.levels[n - 1].n
        maxref = _max_counts(ir[n - 1], U) if n <= len(ir) else np.zeros(max(U, 1), np.int64)
        _, t, c = _pair_counts(ih[n - 1], U)
        matches.append(int(np.minimum(c, maxref[t]).sum()))
        totals.append(int(c.sum()))
    hl, rl = _lengths(hypotheses), _lengths(references)
    return _bleu_from(matches, totals, int(hl.sum()), int(_closest(hl, rl, False).sum()), eps)


def self_bleu(hypotheses: Lines, max_n: int = 4, eps: float = BLEU_EPS) -> float:
    """Corpus BLEU-``max_n`` where hypothesis i is scored against all other hypotheses."""
    if len(hypotheses) < 2:
        raise TextganError("Self-BLEU needs at least 2 samples; generate more samples")
    H, base = WordVocab().encode(hypotheses, grow=True)
    counter = NgramCounter(base, max_n)
    ih = counter.update(H, return_ids=True)
    matches, totals = [], []
    for n in range(1, max_n + 1):
        if n > len(ih):
            matches.append(0)
            totals.append(0)
            continue
        row, t, c = _pair_counts(ih[n - 1], counter.levels[n - 1].n)
        matches.append(int(np.minimum(c, _max_over_others(row, t, c)).sum()) if c.size else 0)
        totals.append(int(c.sum()))
    hl = _lengths(hypotheses)
    return _bleu_from(matches, totals, int(hl.sum()), int(_closest(hl, hl, True).sum()), eps)


# ------------------------------------------------------------------- Texygen sentence level
def _mean_sentence_bleu(matches: np.ndarray, hyp_len: np.ndarray, closest: np.ndarray,
                        orders: Sequence[int], eps: float) -> dict[int, float]:
    """Average of NLTK's ``sentence_bleu`` per order from per-sentence clipped match counts
    ``matches[k - 1, i]`` of k-grams."""
    K = matches.shape[0]
    totals = np.maximum(1, hyp_len[None, :] - np.arange(K)[:, None]).astype(np.float64)
    logp = np.log(np.where(matches > 0, matches, eps) / totals)
    c = hyp_len.astype(np.float64)
    bp = np.where(hyp_len > closest, 1.0, np.exp(1.0 - closest / np.maximum(c, 1.0)))
    scored = matches[0] > 0  # NLTK: no unigram match (an empty line too) scores 0
    out = {}
    for n in orders:
        s = bp * np.exp((logp[:n] * (1.0 / n)).sum(axis=0))
        out[int(n)] = float(np.where(scored, s, 0.0).mean())
    return out


def texygen_bleu(hypotheses: Lines, references: Lines, orders: Sequence[int] = TEXYGEN_ORDERS,
                 eps: float = BLEU_EPS) -> dict[int, float]:
    """``{n: BLEU-n}``: Texygen's mean sentence-level BLEU of each hypothesis against all
    ``references`` (module docstring); equals averaging NLTK's ``sentence_bleu``."""
    K = _check_orders(orders)
    if not references:
        raise TextganError("BLEU needs at least one reference line; pass real text")
    if not hypotheses:
        raise TextganError("no samples to score; pass at least one line")
    counter, ih, ir = _shared_ngram_ids(hypotheses, references, K)
    nh = len(hypotheses)
    matches = np.zeros((K, nh))
    for n in range(1, len(ih) + 1):
        U = counter.levels[n - 1].n
        maxref = _max_counts(ir[n - 1], U) if n <= len(ir) else np.zeros(max(U, 1), np.int64)
        row, t, c = _pair_counts(ih[n - 1], U)
        matches[n - 1] = np.bincount(row, weights=np.minimum(c, maxref[t]), minlength=nh)
    hl = _lengths(hypotheses)
    return _mean_sentence_bleu(matches, hl, _closest(hl, _lengths(references), False), orders,
                               eps)


def texygen_self_bleu(hypotheses: Lines, orders: Sequence[int] = TEXYGEN_ORDERS,
                      eps: float = BLEU_EPS) -> dict[int, float]:
    """``{n: Self-BLEU-n}``: Texygen's mean sentence-level BLEU of each hypothesis against all
    the other hypotheses (module docstring)."""
    K = _check_orders(orders)
    if len(hypotheses) < 2:
        raise TextganError("Self-BLEU needs at least 2 samples; generate more samples")
    H, base = WordVocab().encode(hypotheses, grow=True)
    counter = NgramCounter(base, K)
    ih = counter.update(H, return_ids=True)
    nh = len(hypotheses)
    matches = np.zeros((K, nh))
    for n in range(1, len(ih) + 1):
        row, t, c = _pair_counts(ih[n - 1], counter.levels[n - 1].n)
        if c.size:
            clipped = np.minimum(c, _max_over_others(row, t, c))
            matches[n - 1] = np.bincount(row, weights=clipped, minlength=nh)
    hl = _lengths(hypotheses)
    return _mean_sentence_bleu(matches, hl, _closest(hl, hl, True), orders, eps)
