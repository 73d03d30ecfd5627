"""Jensen-Shannon divergence between character n-gram distributions (the WGAN-GP paper's JS-n).

Both sides are maximum-likelihood n-gram distributions: lines cut to ``seq_len`` and
right-padded, n-grams counted inside lines (pad included), ``p(x) = c(x) / sum_y c(y)``.

    m = (p + q) / 2
    JS(p, q) = 1/2 KL(p || m) + 1/2 KL(q || m)        (bits, log base 2)

Only n-grams seen in the samples need a reference look-up: on a reference n-gram the samples
never produce, ``m = p / 2`` and its term is ``p log2 2 = p``, so

    KL(p || m) = (1 - sum_{x in S} p(x)) + sum_{x in S, p(x) > 0} p log2(2p / (p + q))
    KL(q || m) = sum_{x in S, p(x) = 0} q(x) + sum_{x in S, p(x) > 0} q log2(2q / (p + q))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from textgan.errors import TextganError
from textgan.eval.ngrams import NgramCounter, NgramTable


def js_from_counts(q_counts: np.ndarray, p_counts: np.ndarray, q_total: int,
                   p_total: int) -> float:
    """JS (bits) from the sample's distinct n-grams: their sample counts ``q_counts`` (> 0) and
    reference counts ``p_counts`` (0 if absent); totals are over all n-grams of each side."""
    if q_total <= 0 or p_total <= 0:
        raise TextganError("an n-gram distribution is empty; use lines at least n characters long")
    q = q_counts.astype(np.float64) / q_total
    p = p_counts.astype(np.float64) / p_total
    both = p > 0
    pb, qb = p[both], q[both]
    mb = pb + qb
    kl_pm = max(0.0, 1.0 - float(pb.sum())) + float(np.sum(pb * np.log2(2.0 * pb / mb)))
    kl_qm = float(q[~both].sum()) + float(np.sum(qb * np.log2(2.0 * qb / mb)))
    return max(0.0, 0.5 * (kl_pm + kl_qm))


def js_against_table(ids: np.ndarray, base: int, table: NgramTable, orders: Sequence[int],
                     leave_out: bool = False) -> dict[int, float]:
    """JS-n for each n in ``orders`` between the lines ``ids`` and the reference ``table``.

    ``ids`` use the table's alphabet, with ids in ``[table.base, base)`` for characters the
    reference lacks. ``leave_out=True`` says the lines are part of the reference: their counts are
    subtracted from it first, giving JS(lines, reference minus lines).
    """
    K = max(orders)
    if K > table.max_order:
        raise TextganError(f"JS-{K} needs n-gram statistics up to order {K} but the reference has "
                           f"{table.max_order}; rebuild the reference with max_order >= {K}")
    if ids.shape[0] == 0:
        raise TextganError("no samples to evaluate; pass at least one line")
    if ids.shape[1] < K:
        raise TextganError(f"lines of {ids.shape[1]} characters have no {K}-grams; "
                           f"use orders <= {ids.shape[1]}")
    counter = NgramCounter(base, K)
    own = counter.update(ids, return_ids=True)
    ref = table.lookup(ids, K)
    out = {}
    for k in orders:
        o = own[k - 1].reshape(-1)
        r = ref[k - 1].reshape(-1)
        q_counts = counter.levels[k - 1].counts
        rep = np.full(q_counts.size, -1, dtype=np.int64)
        rep[o] = r
        p_counts = np.where(rep >= 0, table.counts[k - 1][np.maximum(rep, 0)], 0)
        q_total, p_total = o.size, table.total(k)
        if leave_out:
            p_counts = p_counts - q_counts
            p_total -= q_total
            if (p_counts < 0).any():
                raise ValueError("leave_out lines are not part of the reference")
        out[k] = js_from_counts(q_counts, p_counts, q_total, p_total)
    return out


def js_divergence(samples: Sequence[str], reference: Sequence[str], seq_len: int,
                  pad: str = "`", orders: Sequence[int] = (1, 2, 3, 4)) -> dict[int, float]:
    """JS-n (bits) between two plain lists of strings, for each n in ``orders``.

    Lines are cut to ``seq_len`` and right-padded with ``pad``; n-grams are counted within lines.
    For repeated evaluation against one reference use :class:`textgan.eval.ReferenceSet`.
    """
    from textgan.eval.ngrams import count_ngrams
    from textgan.eval.text import alphabet_of, encode

    if not reference:
        raise TextganError("the reference is empty; pass at least one real line")
    _check_orders(orders)
    alphabet = alphabet_of(reference, seq_len, pad)
    ref_ids, _ = encode(reference, alphabet, seq_len, pad)
    table = count_ngrams(ref_ids, len(alphabet), max(orders))
    ids, extras = encode(samples, alphabet, seq_len, pad)
    return js_against_table(ids, len(alphabet) + len(extras), table, orders)


def _check_orders(orders: Sequence[int]) -> None:
    if not orders or any(int(n) != n or n < 1 for n in orders):
        raise TextganError(f"n-gram orders must be positive integers, got {list(orders)}")
