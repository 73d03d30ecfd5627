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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Largest key space (entries) of one order's dense look-up table (int64: 8 bytes an entry);
#: beyond it an order uses a vectorised open-addressing hash map.
DENSE_LIMIT = 1 << 24

_FIB = np.uint64(0x9E3779B97F4A7C15)


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (numpy's hash-based unique is slow on many distinct values)."""
    s = np.sort(a, kind="stable" if a.dtype.kind == "O" else None)
    if s.size == 0:
        return s
    keep = np.empty(s.size, dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def unique_counts(a: np.ndarray, weights: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``a`` (sorted) and their counts (or summed integer ``weights``)."""
    order = np.argsort(a, kind="stable")
    s = a[order]
    if s.size == 0:
        return s, np.zeros(0, dtype=np.int64)
    first = np.empty(s.size, dtype=bool)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    if weights is None:
        return s[starts], np.diff(np.append(starts, s.size)).astype(np.int64)
    return s[starts], np.add.reduceat(np.asarray(weights, dtype=np.int64)[order], starts)


class _HashMap:
    """Vectorised open addressing (linear probing, Fibonacci hashing): int64 key >= 0 -> id."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._alloc(capacity)
        self.n = 0

    def _alloc(self, capacity: int) -> None:
        self.bits = max(4, int(capacity - 1).bit_length())
        self.keys = np.full(1 << self.bits, -1, dtype=np.int64)
        self.vals = np.zeros(1 << self.bits, dtype=np.int64)

    def _slot(self, key: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            h = key.astype(np.uint64) * _FIB
        return (h >> np.uint64(64 - self.bits)).astype(np.int64)

    def get(self, key: np.ndarray) -> np.ndarray:
        """Ids of ``key`` (``-1`` where absent)."""
        out = np.full(key.size, -1, dtype=np.int64)
        slot = self._slot(key)
        todo = np.arange(key.size)
        mask = (1 << self.bits) - 1
        while todo.size:
            s = slot[todo] if todo.size != key.size else slot
            found = self.keys[s]
            k = key[todo] if todo.size != key.size else key
            hit = found == k
            out[todo[hit]] = self.vals[s[hit]]
            more = ~hit & (found >= 0)
            todo = todo[more]
            slot[todo] = (s[more] + 1) & mask
        return out

    def insert(self, key: np.ndarray, val: np.ndarray) -> None:
        """Add distinct keys that are not in the map yet."""
        if (self.n + key.size) * 2 > self.keys.size:
            live = self.keys >= 0
            old_k, old_v = self.keys[live], self.vals[live]
            self._alloc(max(4 * (self.n + key.size), 1 << 16))
            self.n = 0
            self.insert(old_k, old_v)
        mask = (1 << self.bits) - 1
        slot = self._slot(key)
        while key.size:
            free = self.keys[slot] < 0
            self.keys[slot[free]] = key[free]  # several keys may race for a slot: one wins
            won = self.keys[slot] == key
            self.vals[slot[won]] = val[won]
            self.n += int(won.sum())
            lost = ~won
            key, val, slot = key[lost], val[lost], (slot[lost] + 1) & mask


class _Level:
    """Id assignment and counts for one order; keys are ``prefix_id * base + last``.

    Dense mode: a look-up table over the key space. Sparse mode: a hash map. Counts-only mode
    (the top order when no ids are wanted): ``bincount`` into the key space, or per-chunk sorted
    (key, count) runs merged at the end.
    """

    def __init__(self, base: int, dense_limit: int, counts_only: bool = False) -> None:
        self.base = base
        self.dense_limit = dense_limit
        self.counts_only = counts_only
        self.n = 0
        self.counts = np.zeros(0, dtype=np.int64)
        self._prefix: list[np.ndarray] = []
        self._last: list[np.ndarray] = []
        self._lut: np.ndarray | None = np.full(0, -1, dtype=np.int64)
        self._map: _HashMap | None = None
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # counts-only, sparse

    def _new(self, keys: np.ndarray) -> np.ndarray:
        ids = np.arange(self.n, self.n + keys.size, dtype=np.int64)
        self.n += keys.size
        self._prefix.append(keys // self.base)
        self._last.append(keys % self.base)
        return ids

    def _to_sparse(self) -> None:
        self._map = _HashMap(max(1 << 16, 4 * self.n))
        if self._lut is not None and self.n:
            k = np.flatnonzero(self._lut >= 0).astype(np.int64)
            self._map.insert(k, self._lut[k])
        self._lut = None

    def _grow_lut(self, space: int) -> None:
        assert self._lut is not None
        if self._lut.size < space:
            grown = np.full(min(self.dense_limit, max(space, self._lut.size * 3 // 2)), -1,
                            dtype=np.int64)
            grown[: self._lut.size] = self._lut
            self._lut = grown

    def count_only(self, key: np.ndarray, n_prefix: int) -> None:
        """Counts-only mode: add occurrences of ``key``."""
        space = n_prefix * self.base
        if self._lut is not None and space <= self.dense_limit:
            c = np.bincount(key, minlength=space)
            if self.counts.size < c.size:
                self.counts = np.concatenate([self.counts,
                                              np.zeros(c.size - self.counts.size, np.int64)])
            self.counts[: c.size] += c
            return
        if self._lut is not None:  # switch: keep what the dense counts hold as a run
            k = np.flatnonzero(self.counts)
            if k.size:
                self._runs.append((k.astype(np.int64), self.counts[k]))
            self.counts = np.zeros(0, dtype=np.int64)
            self._lut = None
        self._runs.append(unique_counts(key))
        if len(self._runs) >= 8:
            self._runs = [self._merge_runs()]

    def _merge_runs(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._runs:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        if len(self._runs) == 1:
            return self._runs[0]
        return unique_counts(np.concatenate([r[0] for r in self._runs]),
                             np.concatenate([r[1] for r in self._runs]))

    def finalize_counts_only(self) -> None:
        if not self.counts_only:
            return
        if self._lut is not None:
            k = np.flatnonzero(self.counts).astype(np.int64)
            c = self.counts[k]
        else:
            k, c = self._merge_runs()
        self._runs = []
        self._prefix, self._last, self.n = [], [], 0
        self._new(k)
        self.counts = c
        self.counts_only = False

    def assign(self, key: np.ndarray, n_prefix: int) -> np.ndarray:
        """Ids (int64) of the keys, creating ids for unseen keys."""
        space = n_prefix * self.base
        if self._lut is not None and space > self.dense_limit:
            self._to_sparse()
        if self._lut is not None:
            self._grow_lut(space)
            ids = self._lut[key]
            if ids.size and ids.min() < 0:
                new = ids < 0
                kn = key[new]
                if kn.size * 4 > space:  # marking is cheaper than sorting many keys
                    mark = np.zeros(space, dtype=bool)
                    mark[kn] = True
                    nk = np.flatnonzero(mark)
                else:
                    nk = sorted_unique(kn)
                self._lut[nk] = self._new(nk)
                ids[new] = self._lut[kn]
            return ids
        assert self._map is not None
        ids = self._map.get(key)
        if ids.size and ids.min() < 0:
            new = ids < 0
            kn = key[new]
            nk = sorted_unique(kn)
            self._map.insert(nk, self._new(nk))
            ids[new] = self._map.get(kn)
        return ids

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

    def __init__(self, base: int, max_order: int, dense_limit: int = DENSE_LIMIT,
                 top_counts_only: bool = False) -> None:
        if base < 1 or max_order < 1:
            raise ValueError("base and max_order must be positive")
        self.base = base
        self.max_order = max_order
        self.levels = [_Level(base, dense_limit, top_counts_only and k == max_order)
                       for k in range(1, max_order + 1)]

    def update(self, X: np.ndarray, return_ids: bool = False) -> list[np.ndarray] | None:
        X = np.asarray(X)
        masked = X.dtype.kind == "i" and X.size > 0 and int(X.min()) < 0
        X = X.astype(np.int64, copy=False)
        out: list[np.ndarray] = []
        prev = np.zeros(0, dtype=np.int64)
        n_prefix = 1  # order 0 has a single "prefix id", 0
        for k, level in enumerate(self.levels, start=1):
            width = X.shape[1] - k + 1
            if width <= 0 or X.shape[0] == 0:
                break
            x = X[:, k - 1:]
            p = prev[:, :width] if k > 1 else np.zeros(x.shape, dtype=np.int64)
            key = p * self.base + x if k > 1 else x
            if masked:
                valid = (p >= 0) & (x >= 0)
                kv = key[valid]
            else:
                kv = key.reshape(-1)
            if level.counts_only:
                if return_ids:
                    raise ValueError("ids of a counts-only order were asked for")
                level.count_only(kv, n_prefix)
                break
            got = level.assign(kv, n_prefix)
            level.add(got)
            if masked:
                ids = np.full(key.shape, -1, dtype=np.int64)
                ids[valid] = got
            else:
                ids = got.reshape(key.shape)
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
            level.finalize_counts_only()
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


def count_ngrams(X: np.ndarray | Sequence[np.ndarray], base: int, max_order: int,
                 chunk_rows: int = 1 << 18, dense_limit: int = DENSE_LIMIT) -> NgramTable:
    """Counts of all n-grams of orders ``1..max_order`` inside the rows of ``X`` (one array, or
    several arrays of the same width counted together)."""
    counter = NgramCounter(base, max_order, dense_limit, top_counts_only=True)
    for part in [X] if isinstance(X, np.ndarray) else X:
        for start in range(0, part.shape[0], chunk_rows):
            counter.update(part[start:start + chunk_rows])
    return counter.finish()[0]
