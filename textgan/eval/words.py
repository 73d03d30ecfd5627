"""Word-level metrics: n-gram precision/recall, distinct-n, unique share (BLEU: :mod:`.bleu`).

Words: pad characters become spaces, the line is split on whitespace (``str.split()``)
(optionally lower-cased first, as the paper code's ``tokenize_string`` does).

Precision / recall as the paper code's ``precision_wrt`` / ``recall_wrt`` (counts with
multiplicity, membership by distinct n-gram):
    precision_n = sum_{g in S, g in R} c_S(g) / sum_{g in S} c_S(g)
    recall_n    = sum_{g in R, g in S} c_R(g) / sum_{g in R} c_R(g)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from textgan.eval.ngrams import NgramCounter, NgramTable, sorted_unique


def tokenize(line: str, pad: str = "`", lowercase: bool = False) -> list[str]:
    """Words of a line: pad -> space, split on whitespace."""
    if lowercase:
        line = line.lower()
    return line.replace(pad, " ").split()


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
