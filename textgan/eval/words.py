"""Word-level metrics: n-gram precision/recall, distinct-n, unique share, BLEU and Self-BLEU.

Words: pad characters become spaces, the line is split on spaces, empty pieces are dropped
(optionally lower-cased, as the paper code's ``tokenize_string`` does).

Precision / recall as the paper code's ``precision_wrt`` / ``recall_wrt`` (counts with
multiplicity, membership by distinct n-gram):
    precision_n = sum_{g in S, g in R} c_S(g) / sum_{g in S} c_S(g)
    recall_n    = sum_{g in R, g in S} c_R(g) / sum_{g in R} c_R(g)

BLEU-N (Papineni et al. 2002), corpus level, uniform weights, every hypothesis scored against the
whole reference set:
    p_n  = sum_h sum_g min(c_h(g), max_r c_r(g)) / sum_h sum_g c_h(g)
    BP   = 1 if c > r else exp(1 - r / c)  (c: hypothesis words, r: sum of closest ref lengths,
                                            ties to the shorter, as NLTK)
    BLEU = BP * exp(1/N sum_n log p_n)
Smoothing for zero matches (Chen & Cherry 2014 method 1, NLTK's ``method1``): a zero numerator
is replaced by ``eps = 0.1``; the denominator is ``max(1, total)``.
Self-BLEU: the same, but hypothesis i's references are all the OTHER hypotheses (never itself).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from textgan.errors import TextganError
from textgan.eval.ngrams import NgramCounter, NgramTable, sorted_unique, unique_counts

BLEU_EPS = 0.1


def tokenize(line: str, pad: str = "`", lowercase: bool = False) -> list[str]:
    """Words of a line: pad -> space, split on spaces, drop empty pieces."""
    if lowercase:
        line = line.lower()
    return [w for w in line.replace(pad, " ").split(" ") if w]


class WordVocab:
    """Word -> dense id. ``encode`` gives unknown words ids ``>= len(self)`` (distinct per word)
    unless ``grow``, which adds them."""

    def __init__(self, words: Sequence[str] = ()) -> None:
        self.index: dict[str, int] = {}
        for w in words:
            self.index.setdefault(w, len(self.index))

    def __len__(self) -> int:
        return len(self.index)

    def encode(self, lines: Sequence[Sequence[str]], grow: bool = False) -> tuple[np.ndarray, int]:
        """``[lines, max_words]`` int64 ids, ``-1`` past a line's end; and the id base to use."""
        extra: dict[str, int] = {}
        width = max((len(t) for t in lines), default=0)
        out = np.full((len(lines), max(width, 1)), -1, dtype=np.int64)
        idx = self.index
        for i, toks in enumerate(lines):
            row = []
            for w in toks:
                j = idx.get(w)
                if j is None:
                    if grow:
                        j = idx[w] = len(idx)
                    else:
                        j = extra.get(w)
                        if j is None:
                            j = extra[w] = len(idx) + len(extra)
                row.append(j)
            out[i, : len(row)] = row
        return out, max(len(idx) + len(extra), 1)


def _pair_counts(ids: np.ndarray, U: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (row, type) pairs of an id matrix (``-1`` skipped) and their counts."""
    U = max(U, 1)
    rows = np.broadcast_to(np.arange(ids.shape[0])[:, None], ids.shape)
    ok = ids >= 0
    key, cnt = unique_counts(rows[ok] * U + ids[ok])
    return key // U, key % U, cnt


def ngram_precision_recall(samples: Sequence[Sequence[str]], reference: WordNgrams,
                           orders: Sequence[int] = (1, 2, 3, 4)) -> dict[int, tuple[float, float]]:
    """``{n: (precision, recall)}`` of the samples' word n-grams w.r.t. the reference
    (0.0 where a side has no n-gram of that order)."""
    X, base = reference.vocab.encode(samples)
    K = min(max(orders), reference.table.max_order)
    own = NgramCounter(base, K).update(X, return_ids=True)
    ref = reference.table.lookup(X, K)
    out = {}
    for n in orders:
        if n > K or n > len(own):
            out[n] = (0.0, 0.0)
            continue
        valid = own[n - 1] >= 0
        r = ref[n - 1][valid]
        prec = float(np.mean(r >= 0)) if r.size else 0.0
        hit = sorted_unique(r[r >= 0])
        total = reference.table.total(n)
        rec = float(reference.table.counts[n - 1][hit].sum() / total) if total else 0.0
        out[n] = (prec, rec)
    return out


class WordNgrams:
    """Word n-gram table of reference lines (for precision/recall)."""

    def __init__(self, lines: Sequence[Sequence[str]], max_order: int = 4) -> None:
        self.vocab = WordVocab()
        X, base = self.vocab.encode(lines, grow=True)
        counter = NgramCounter(base, max_order)
        counter.update(X)
        table, _ = counter.finish()
        # orders the lines are too short for stay empty
        while len(table.keys) < max_order:
            table.keys.append(np.zeros(0, np.int64))
            table.counts.append(np.zeros(0, np.int64))
        self.table: NgramTable = table


def distinct_n(samples: Sequence[Sequence[str]], n: int) -> float:
    """Distinct word n-grams / word n-grams over all samples (0.0 if there are none)."""
    X, base = WordVocab().encode(samples, grow=True)
    if X.shape[1] < n:
        return 0.0
    ids = NgramCounter(base, n).update(X, return_ids=True)[n - 1]
    ids = ids[ids >= 0]
    return float(sorted_unique(ids).size / ids.size) if ids.size else 0.0


def unique_share(samples: Sequence[Sequence[str]]) -> float:
    """Distinct samples (as word sequences) / samples."""
    if not samples:
        return 0.0
    return len({" ".join(t) for t in samples}) / len(samples)


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


def _bleu_from(matches: list[float], totals: list[float], c: int, r: int, eps: float) -> float:
    if c == 0:
        return 0.0
    logs = [np.log((m if m > 0 else eps) / max(t, 1)) for m, t in zip(matches, totals,
                                                                       strict=True)]
    bp = 1.0 if c > r else float(np.exp(1.0 - r / c))
    return float(bp * np.exp(np.mean(logs)))


def corpus_bleu(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]],
                max_n: int = 4, eps: float = BLEU_EPS) -> float:
    """Corpus BLEU-``max_n`` of tokenised hypotheses, each against all ``references``."""
    if not references:
        raise TextganError("BLEU needs at least one reference line; pass held-out text")
    vocab = WordVocab()
    H, _ = vocab.encode(hypotheses, grow=True)
    R, base = vocab.encode(references, grow=True)
    counter = NgramCounter(base, max_n)
    ih = counter.update(H, return_ids=True)
    ir = counter.update(R, return_ids=True)
    matches, totals = [], []
    for n in range(1, max_n + 1):
        if n > len(ih):
            matches.append(0)
            totals.append(0)
            continue
        U = counter.levels[n - 1].n
        maxref = np.zeros(U + 1, dtype=np.int64)
        if n <= len(ir):
            _, t, c = _pair_counts(ir[n - 1], U)
            np.maximum.at(maxref, t, c)
        _, t, c = _pair_counts(ih[n - 1], U)
        matches.append(int(np.minimum(c, maxref[t]).sum()))
        totals.append(int(c.sum()))
    hl = np.array([len(h) for h in hypotheses], dtype=np.int64)
    rl = np.array([len(r) for r in references], dtype=np.int64)
    return _bleu_from(matches, totals, int(hl.sum()), int(_closest(hl, rl, False).sum()), eps)


def self_bleu(hypotheses: Sequence[Sequence[str]], max_n: int = 4, eps: float = BLEU_EPS) -> float:
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
        if c.size == 0:
            matches.append(0)
            totals.append(0)
            continue
        # per type: largest count (and its row) and second largest count over the hypotheses
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
        other = np.where(owner[grp] == rs, top2[grp], top1[grp])
        matches.append(int(np.minimum(cs, other).sum()))
        totals.append(int(cs.sum()))
    hl = np.array([len(h) for h in hypotheses], dtype=np.int64)
    return _bleu_from(matches, totals, int(hl.sum()), int(_closest(hl, hl, True).sum()), eps)
