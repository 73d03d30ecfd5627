"""Vectorised n-gram counting with hierarchical integer keys.

Symbols are dense ids in ``[0, V)`` (``-1`` marks an empty cell, e.g. past the end of a word line).
An n-gram is keyed level by level, so any order fits in an int64 whatever ``V`` is:

    key_1(x_1)        = x_1
    key_k(x_1 .. x_k) = rank_{k-1}(x_1 .. x_{k-1}) * V + x_k

where ``rank_{k-1}`` is the index of the prefix in the sorted array of distinct (k-1)-gram keys.
Keys are below ``U_{k-1} * V`` (``U`` = number of distinct (k-1)-grams).

Counting streams row chunks through all orders in one pass. Each order hands out ids in order
of first appearance: a dense look-up table over the key space ``U_{k-1} * V`` while that is small
(one gather and one ``bincount`` per position), else a sorted key array merged chunk by chunk.
At the end ids are converted to the sorted-rank keys above, which do not depend on chunking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Largest key space (entries) of one order's dense look-up table (int32: 4 bytes an entry).
DENSE_LIMIT = 1 << 25


class _Level:
    """Id assignment and counts for one order; keys are ``prefix_id * base + last``."""

    def __init__(self, base: int, dense_limit: int) -> None:
        self.base = base
        self.dense_limit = dense_limit
        self.n = 0
        self.counts = np.zeros(0, dtype=np.int64)
        self._prefix: list[np.ndarray] = []
        self._last: list[np.ndarray] = []
        self._lut: np.ndarray | None = np.full(0, -1, dtype=np.int32)
        self._sk = np.zeros(0, dtype=np.int64)  # sorted keys (sparse mode)
        self._sid = np.zeros(0, dtype=np.int64)

    def _new(self, keys: np.ndarray) -> np.ndarray:
        ids = np.arange(self.n, self.n + keys.size, dtype=np.int64)
        self.n += keys.size
        self._prefix.append(keys // self.base)
        self._last.append(keys % self.base)
        return ids

    def assign(self, key: np.ndarray, n_prefix: int) -> np.ndarray:
        """Ids (int64) of the keys, creating ids for unseen keys."""
        space = n_prefix * self.base
        if self._lut is not None and space > self.dense_limit:
            self._sk = np.flatnonzero(self._lut >= 0).astype(np.int64)
            self._sid = self._lut[self._sk].astype(np.int64)
            self._lut = None
        if self._lut is not None:
            if self._lut.size < space:
                grown = np.full(min(self.dense_limit, max(space, self._lut.size * 3 // 2)), -1,
                                dtype=np.int32)
                grown[: self._lut.size] = self._lut
                self._lut = grown
            ids = self._lut[key].astype(np.int64)
            new = ids < 0
            if new.any():
                kn = key[new]
                if kn.size * 4 > space:  # marking is cheaper than hashing many keys
                    mark = np.zeros(space, dtype=bool)
                    mark[kn] = True
                    nk = np.flatnonzero(mark)
                else:
                    nk = np.unique(kn)
                self._lut[nk] = self._new(nk)
                ids[new] = self._lut[kn]
            return ids
        uk, inv = np.unique(key, return_inverse=True)
        pos = np.searchsorted(self._sk, uk)
        hit = pos < self._sk.size
        hit[hit] = self._sk[pos[hit]] == uk[hit]
        uid = np.empty(uk.size, dtype=np.int64)
        uid[hit] = self._sid[pos[hit]]
        if not hit.all():
            miss = ~hit
            uid[miss] = self._new(uk[miss])
            self._sk = np.insert(self._sk, pos[miss], uk[miss])
            self._sid = np.insert(self._sid, pos[miss], uid[miss])
        return uid[inv.reshape(-1)]

    def add(self, ids: np.ndarray) -> None:
        c = np.bincount(ids, minlength=self.n)
        if self.counts.size < self.n:
            self.counts = np.concatenate([self.counts, np.zeros(self.n - self.counts.size,
                                                                dtype=np.int64)])
        self.counts += c

    def parts(self) -> tuple[np.ndarray, np.ndarray]:
        e = np.zeros(0, dtype=np.int64)
        return (np.concatenate(self._prefix) if self._prefix else e,
                np.concatenate(self._last) if self._last else e)


class NgramCounter:
    """Counts all n-grams of orders ``1..max_order`` inside rows, streaming row chunks.

    ``update(X)`` takes an integer matrix ``[rows, width]`` (ids in ``[0, base)``, ``-1`` = empty
    cell; n-grams touching an empty cell are skipped) and can return, per order ``k``, the id of
    the k-gram starting at each column (shape ``[rows, width - k + 1]``, ``-1`` = none).
    """

    def __init__(self, base: int, max_order: int, dense_limit: int = DENSE_LIMIT) -> None:
        if base < 1 or max_order < 1:
            raise ValueError("base and max_order must be positive")
        self.base = base
        self.max_order = max_order
        self.levels = [_Level(base, dense_limit) for _ in range(max_order)]

    def update(self, X: np.ndarray, return_ids: bool = False) -> list[np.ndarray] | None:
        X = np.asarray(X)
        masked = X.dtype.kind == "i" and X.size > 0 and int(X.min()) < 0
        X = X.astype(np.int64, copy=False)
        out: list[np.ndarray] = []
        prev = np.zeros(X.shape, dtype=np.int64)  # order-0 "prefix id" is 0 everywhere
        n_prefix = 1
        for k, level in enumerate(self.levels, start=1):
            width = X.shape[1] - k + 1
            if width <= 0 or X.shape[0] == 0:
                break
            p = prev[:, :width]
            x = X[:, k - 1:]
            key = p * self.base + x
            if masked:
                valid = (p >= 0) & (x >= 0)
                ids = np.full(key.shape, -1, dtype=np.int64)
                got = level.assign(key[valid], n_prefix)
                ids[valid] = got
                level.add(got)
            else:
                ids = level.assign(key.reshape(-1), n_prefix).reshape(key.shape)
                level.add(ids.reshape(-1))
            n_prefix = level.n
            prev = ids
            if return_ids:
                out.append(ids)
        return out if return_ids else None

    def finish(self) -> tuple[NgramTable, list[np.ndarray]]:
        """The table with sorted keys, and per order the map id -> rank in that table."""
        keys, counts, ranks = [], [], []
        rank_prev = np.zeros(1, dtype=np.int64)
        for level in self.levels:
            prefix, last = level.parts()
            h = rank_prev[prefix] * self.base + last
            order = np.argsort(h, kind="stable")
            rank = np.empty(h.size, dtype=np.int64)
            rank[order] = np.arange(h.size, dtype=np.int64)
            cnt = level.counts[: level.n]
            keys.append(h[order])
            counts.append(cnt[order] if cnt.size else np.zeros(0, dtype=np.int64))
            ranks.append(rank)
            rank_prev = rank
        return NgramTable(self.base, keys, counts), ranks


@dataclass
class NgramTable:
    """Distinct n-grams of orders ``1..K`` as sorted hierarchical keys, with their counts."""

    base: int
    keys: list[np.ndarray]
    counts: list[np.ndarray]

    @property
    def max_order(self) -> int:
        return len(self.keys)

    def total(self, k: int) -> int:
        """Number of k-gram occurrences counted."""
        return int(self.counts[k - 1].sum())

    def lookup(self, X: np.ndarray, max_order: int | None = None) -> list[np.ndarray]:
        """Per order k, the rank (index into ``keys[k-1]``) of the k-gram starting at each
        column of ``X``, or ``-1`` if absent. Ids outside ``[0, base)`` never match."""
        X = np.asarray(X).astype(np.int64, copy=False)
        K = min(self.max_order, max_order or self.max_order)
        out = []
        prev = np.zeros(X.shape, dtype=np.int64)
        for k in range(1, K + 1):
            width = X.shape[1] - k + 1
            if width <= 0:
                break
            p = prev[:, :width]
            x = X[:, k - 1:]
            key = p * self.base + x
            valid = (p >= 0) & (x >= 0) & (x < self.base)
            keys = self.keys[k - 1]
            idx = np.searchsorted(keys, key)
            ok = valid & (idx < keys.size)
            ok[ok] = keys[idx[ok]] == key[ok]
            prev = np.where(ok, idx, -1)
            out.append(prev)
        return out


def count_ngrams(X: np.ndarray, base: int, max_order: int, chunk_rows: int = 1 << 18,
                 dense_limit: int = DENSE_LIMIT) -> NgramTable:
    """Counts of all n-grams of orders ``1..max_order`` inside the rows of ``X``."""
    counter = NgramCounter(base, max_order, dense_limit)
    for start in range(0, X.shape[0], chunk_rows):
        counter.update(X[start:start + chunk_rows])
    return counter.finish()[0]
