"""Character n-gram LM with interpolated modified Kneser-Ney smoothing (Chen & Goodman 1998).

Symbols are ids ``0..V-1`` (the caller's vocabulary, an ``unk`` included); ``BOS = V`` only ever
appears as context. Each line of ``L`` symbols is scored left to right after ``n - 1`` BOS, so every
one of its ``L`` symbols (pad included) is predicted from a full ``n - 1`` symbol context.

Adjusted counts ``a(g)`` of an order-k gram ``g``:
    highest order, or ``g`` starts with BOS:  a(g) = c(g)                     (raw count)
    otherwise:                                a(g) = N1+(. g) = |{x : c(x g) > 0}|  (continuation)

Discounts per order from the count-of-counts ``n_r = |{g : a(g) = r}|``:
    Y = n1 / (n1 + 2 n2),  D1 = 1 - 2Y n2/n1,  D2 = 2 - 3Y n3/n2,  D3+ = 3 - 4Y n4/n3
(a discount that is undefined or outside ``(0, r]`` falls back to 0.5, 1.0, 1.5 for r = 1, 2, 3+,
which keeps every probability positive, also for tiny training sets).

Interpolation, with ``h'`` the context ``h`` less its first symbol and ``p_0(w) = 1 / V``:
    p_k(w | h) = max(a(hw) - D(a(hw)), 0) / c(h) + gamma(h) p_{k-1}(w | h')
    c(h) = sum_w a(hw),   gamma(h) = (D1 N1(h.) + D2 N2(h.) + D3+ N3+(h.)) / c(h)
and ``p_k(w | h) = p_{k-1}(w | h')`` where ``c(h) = 0``. Hence ``sum_w p_k(w | h) = 1`` for any h.

Stored per order ``k``: sorted hierarchical keys of the k-grams (see :mod:`textgan.eval.ngrams`),
``alpha = max(a - D(a), 0) / c(prefix)`` per k-gram and ``gamma`` per (k-1)-gram context, so
scoring is ``p_k = alpha[hw] + gamma[h] * p_{k-1}`` with look-ups only (``alpha = 0``, ``gamma = 1``
for anything unseen).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from textgan.errors import TextganError
from textgan.eval.ngrams import DENSE_LIMIT, NgramCounter, NgramTable

FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)


def modified_kn_discounts(count_of_counts: np.ndarray) -> np.ndarray:
    """``[D1, D2, D3+]`` from ``[n1, n2, n3, n4]`` (Chen & Goodman), with per-discount fallback."""
    n1, n2, n3, n4 = (float(v) for v in count_of_counts[:4])
    y = n1 / (n1 + 2 * n2) if n1 + 2 * n2 > 0 else float("nan")
    raw = [1 - 2 * y * n2 / n1 if n1 > 0 else float("nan"),
           2 - 3 * y * n3 / n2 if n2 > 0 else float("nan"),
           3 - 4 * y * n4 / n3 if n3 > 0 else float("nan")]
    out = []
    for r, (d, fb) in enumerate(zip(raw, FALLBACK_DISCOUNTS, strict=True), start=1):
        out.append(d if np.isfinite(d) and 0.0 < d <= r else fb)
    return np.array(out, dtype=np.float64)


def _grow(a: np.ndarray, n: int, fill: int | bool) -> np.ndarray:
    if a.size >= n:
        return a
    return np.concatenate([a, np.full(n - a.size, fill, dtype=a.dtype)])


@dataclass
class KneserNeyLM:
    """Fitted LM; build with :meth:`fit`. ``vocab_size`` counts the predictable symbols."""

    order: int
    vocab_size: int
    keys: list[np.ndarray]
    alpha: list[np.ndarray]
    gamma: list[np.ndarray]
    discounts: np.ndarray  # [order, 3]: D1, D2, D3+ of orders 1..n

    @property
    def bos(self) -> int:
        return self.vocab_size

    @classmethod
    def fit(cls, ids: np.ndarray, vocab_size: int, order: int = 6, chunk_rows: int = 1 << 17,
            dense_limit: int = DENSE_LIMIT) -> KneserNeyLM:
        """Fit on lines ``ids`` ``[lines, L]`` with ids in ``[0, vocab_size)``."""
        ids = np.asarray(ids)
        if order < 1:
            raise TextganError(f"LM order must be >= 1, got {order}")
        if ids.ndim != 2 or ids.shape[0] == 0 or ids.shape[1] == 0:
            raise TextganError("no text to fit the n-gram LM on; pass at least one non-empty line")
        if int(ids.min()) < 0 or int(ids.max()) >= vocab_size:
            raise TextganError(f"LM ids must lie in [0, {vocab_size}); map unseen chars to unk")
        n, base, L = order, vocab_size + 1, ids.shape[1]
        counter = NgramCounter(base, n, dense_limit)
        links = [np.full(0, -1, dtype=np.int64) for _ in range(n)]  # order k+1 id -> suffix id
        bos_init = [np.zeros(0, dtype=bool) for _ in range(n)]
        for start in range(0, ids.shape[0], chunk_rows):
            chunk = ids[start:start + chunk_rows].astype(np.int64)
            Xp = np.concatenate([np.full((chunk.shape[0], n - 1), vocab_size, np.int64), chunk],
                                axis=1)
            lv = counter.update(Xp, return_ids=True)
            # T_k: ids of the k-grams ending at the L predicted columns, shape [rows, L]
            T = [lv[k - 1][:, n - k:n - k + L] for k in range(1, n + 1)]
            for k in range(1, n + 1):
                U = counter.levels[k - 1].n
                bos_init[k - 1] = _grow(bos_init[k - 1], U, False)
                bos_init[k - 1][T[k - 1][:, :k - 1].reshape(-1)] = True
                if k < n:
                    links[k] = _grow(links[k], counter.levels[k].n, -1)
                    links[k][T[k].reshape(-1)] = T[k - 1].reshape(-1)
        table, ranks = counter.finish()
        keys, alpha, gamma, discounts = [], [], [], []
        prev_u = 1
        for k in range(1, n + 1):
            U, rank = table.keys[k - 1].size, ranks[k - 1]
            raw = table.counts[k - 1]
            if k == n:
                a = raw.astype(np.float64)
            else:
                link = _grow(links[k], counter.levels[k].n, -1)
                link = link[link >= 0]
                cont = np.bincount(rank[link], minlength=U).astype(np.float64)
                bi = np.zeros(U, dtype=bool)
                bi[rank] = _grow(bos_init[k - 1], rank.size, False)[: rank.size]
                a = np.where(bi, raw, cont)
            coc = np.bincount(np.minimum(a, 5).astype(np.int64), minlength=6)[1:5]
            D = modified_kn_discounts(coc)
            d = np.where(a >= 3, D[2], np.where(a == 2, D[1], np.where(a == 1, D[0], 0.0)))
            prefix = table.keys[k - 1] // base if k > 1 else np.zeros(U, dtype=np.int64)
            c = np.bincount(prefix, weights=a, minlength=prev_u)
            dsum = np.bincount(prefix, weights=d, minlength=prev_u)
            seen = c > 0
            g = np.ones(prev_u, dtype=np.float64)
            g[seen] = dsum[seen] / c[seen]
            al = np.zeros(U, dtype=np.float64)
            pos = a > 0
            al[pos] = np.maximum(a[pos] - d[pos], 0.0) / c[prefix[pos]]
            keys.append(table.keys[k - 1])
            alpha.append(al)
            gamma.append(g)
            discounts.append(D)
            prev_u = U
        return cls(order, vocab_size, keys, alpha, gamma, np.array(discounts))

    def _prob(self, Xp: np.ndarray) -> np.ndarray:
        """``p(x_t | x_{t-n+1..t-1})`` for columns ``t >= n - 1`` of context-padded rows."""
        n = self.order
        table = NgramTable(self.vocab_size + 1, self.keys, [np.zeros(0)] * n)
        R = table.lookup(Xp)
        width = Xp.shape[1] - (n - 1)
        p = np.full((Xp.shape[0], width), 1.0 / self.vocab_size)
        for k in range(1, n + 1):
            t = R[k - 1][:, n - k:n - k + width]
            a = np.where(t >= 0, self.alpha[k - 1][np.maximum(t, 0)], 0.0)
            if k == 1:
                g = self.gamma[0][0]
            else:
                h = R[k - 2][:, n - k:n - k + width]
                g = np.where(h >= 0, self.gamma[k - 1][np.maximum(h, 0)], 1.0)
            p = a + g * p
        return p

    def _check(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise TextganError(f"expected a [lines, length] id array, got shape {ids.shape}")
        if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= self.vocab_size):
            raise TextganError(f"ids must lie in [0, {self.vocab_size}); map unseen chars to unk")
        return ids.astype(np.int64)

    def log2prob(self, ids: np.ndarray, chunk_rows: int = 1 << 15) -> np.ndarray:
        """``log2 p`` of every symbol of every line given its line prefix, shape ``[lines, L]``."""
        ids = self._check(ids)
        out = np.empty(ids.shape, dtype=np.float64)
        for s in range(0, ids.shape[0], chunk_rows):
            c = ids[s:s + chunk_rows]
            Xp = np.concatenate([np.full((c.shape[0], self.order - 1), self.bos, np.int64), c], 1)
            out[s:s + chunk_rows] = np.log2(self._prob(Xp))
        return out

    def cross_entropy(self, ids: np.ndarray) -> float:
        """Bits per symbol: ``-mean log2 p`` over all symbols of all lines."""
        ids = self._check(ids)
        if ids.size == 0:
            raise TextganError("no text to score; pass at least one non-empty line")
        return float(-self.log2prob(ids).mean())

    def next_probs(self, contexts: np.ndarray) -> np.ndarray:
        """``[len(contexts), V]`` distributions of the next symbol after each context of
        ``order - 1`` ids (``bos`` allowed, as at the start of a line)."""
        ctx = np.asarray(contexts, dtype=np.int64).reshape(-1, self.order - 1)
        K, V = ctx.shape[0], self.vocab_size
        rows = np.concatenate([np.repeat(ctx, V, axis=0), np.tile(np.arange(V), K)[:, None]], 1)
        return self._prob(rows)[:, 0].reshape(K, V)

    def to_arrays(self, prefix: str = "lm_") -> dict[str, np.ndarray]:
        out = {f"{prefix}meta": np.array([self.order, self.vocab_size], dtype=np.int64),
               f"{prefix}discounts": self.discounts}
        for k in range(self.order):
            out[f"{prefix}keys{k + 1}"] = self.keys[k]
            out[f"{prefix}alpha{k + 1}"] = self.alpha[k]
            out[f"{prefix}gamma{k + 1}"] = self.gamma[k]
        return out

    @classmethod
    def from_arrays(cls, arrays, prefix: str = "lm_") -> KneserNeyLM:
        order, vocab_size = (int(v) for v in arrays[f"{prefix}meta"])
        get = [(arrays[f"{prefix}keys{k}"], arrays[f"{prefix}alpha{k}"],
                arrays[f"{prefix}gamma{k}"]) for k in range(1, order + 1)]
        return cls(order, vocab_size, [g[0] for g in get], [g[1] for g in get],
                   [g[2] for g in get], np.asarray(arrays[f"{prefix}discounts"]))
