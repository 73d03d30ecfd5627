"""Interpolated modified Kneser-Ney: hand-worked example, brute force, normalisation, finiteness."""

import math
from collections import Counter, defaultdict

import numpy as np
import pytest

from textgan.errors import TextganError
from textgan.eval.kn import KneserNeyLM, modified_kn_discounts

A, B, U = 0, 1, 2  # vocabulary a, b, unk; BOS = 3


def test_hand_worked_example_order2():
    # One line "aaaaababab", order 2. After one BOS (^): ^ a a a a a b a b a b
    # Order 2 (highest: raw counts): ^a:1  aa:4  ab:3  ba:2       -> n1=n2=n3=n4=1
    #   Y  = n1/(n1+2 n2) = 1/3
    #   D1 = 1 - 2Y n2/n1 = 1 - 2/3 = 1/3
    #   D2 = 2 - 3Y n3/n2 = 2 - 1   = 1
    #   D3 = 3 - 4Y n4/n3 = 3 - 4/3 = 5/3
    # Order 1 (continuation counts): a <- {^, a, b}: 3;  b <- {a}: 1;  unk: 0
    #   n1=1, n2=0, n3=1, n4=0 -> Y = 1, D1 = 1 - 0 = 1, D2 undefined -> fallback 1.0,
    #   D3 = 3 - 4*1*0/1 = 3
    #   c = 3 + 1 = 4, gamma = (D1*1 + D3*1)/4 = 1, own mass a: (3-3)/4 = 0, b: (1-1)/4 = 0
    #   -> p1(a) = p1(b) = p1(unk) = 1/3
    # Order 2:
    #   context ^: c=1, gamma = D1*1/1 = 1/3
    #     p(a|^) = (1 - 1/3)/1 + 1/3 * 1/3 = 7/9;  p(b|^) = p(unk|^) = 1/9
    #   context a: c=7, gamma = D3*2/7 = 10/21
    #     p(a|a) = (4 - 5/3)/7 + 10/21 * 1/3 = 1/3 + 10/63 = 31/63
    #     p(b|a) = (3 - 5/3)/7 + 10/63 = 4/21 + 10/63 = 22/63;  p(unk|a) = 10/63
    #   context b: c=2, gamma = D2*1/2 = 1/2
    #     p(a|b) = (2 - 1)/2 + 1/2 * 1/3 = 2/3;  p(b|b) = p(unk|b) = 1/6
    #   context unk (never seen): p = p1 = 1/3 each
    line = np.array([[A, A, A, A, A, B, A, B, A, B]])
    lm = KneserNeyLM.fit(line, vocab_size=3, order=2)
    np.testing.assert_allclose(lm.discounts[1], [1 / 3, 1, 5 / 3], atol=1e-12)
    np.testing.assert_allclose(lm.discounts[0], [1, 1.0, 3], atol=1e-12)
    P = lm.next_probs(np.array([[3], [A], [B], [U]]))
    expect = [[7 / 9, 1 / 9, 1 / 9], [31 / 63, 22 / 63, 10 / 63], [2 / 3, 1 / 6, 1 / 6],
              [1 / 3, 1 / 3, 1 / 3]]
    np.testing.assert_allclose(P, expect, atol=1e-12)
    # "ab": -(log2 p(a|^) + log2 p(b|a)) / 2
    want = -(math.log2(7 / 9) + math.log2(22 / 63)) / 2
    assert lm.cross_entropy(np.array([[A, B]])) == pytest.approx(want, abs=1e-12)


def brute_force_kn(lines, V, n):
    """Direct dict-of-tuples interpolated modified KN, as in the module docstring."""
    BOS = V
    grams = [Counter() for _ in range(n + 1)]
    for line in lines:
        s = [BOS] * (n - 1) + list(line)
        for t in range(n - 1, len(s)):
            for k in range(1, n + 1):
                grams[k][tuple(s[t - k + 1:t + 1])] += 1
    adj = {n: dict(grams[n])}
    for k in range(n - 1, 0, -1):
        ext = Counter(g[1:] for g in grams[k + 1])
        adj[k] = {g: (c if g[0] == BOS else ext[g]) for g, c in grams[k].items()}
    D, ctx = {}, [defaultdict(list) for _ in range(n + 1)]
    for k in range(1, n + 1):
        coc = Counter(adj[k].values())
        D[k] = modified_kn_discounts(np.array([coc[1], coc[2], coc[3], coc[4]]))
        for g, a in adj[k].items():
            ctx[k][g[:-1]].append(a)

    def disc(k, a):
        return 0.0 if a == 0 else D[k][min(a, 3) - 1]

    def p(w, h, k):
        if k == 0:
            return 1.0 / V
        h = tuple(h[len(h) - (k - 1):]) if k > 1 else ()
        lower = p(w, h, k - 1)
        c = sum(ctx[k].get(h, []))
        if c == 0:
            return lower
        a = adj[k].get(h + (w,), 0)
        return max(a - disc(k, a), 0) / c + sum(disc(k, x) for x in ctx[k][h]) / c * lower

    return p


@pytest.mark.parametrize("order,dense_limit", [(3, 1 << 25), (4, 40)])
def test_matches_brute_force(order, dense_limit):
    rng = np.random.default_rng(order)
    V = 5
    train = rng.integers(0, V - 1, size=(40, 9))
    train[:5, 5:] = 0  # some repetition so counts reach 3 and 4
    lm = KneserNeyLM.fit(train, V, order, chunk_rows=7, dense_limit=dense_limit)
    p = brute_force_kn(train.tolist(), V, order)
    test = rng.integers(0, V, size=(12, 9))
    got = lm.log2prob(test)
    for i, line in enumerate(test.tolist()):
        s = [V] * (order - 1) + line
        for t in range(len(line)):
            ref = math.log2(p(s[t + order - 1], tuple(s[t:t + order - 1]), order))
            assert got[i, t] == pytest.approx(ref, abs=1e-9)


def test_probabilities_sum_to_one_in_every_context():
    rng = np.random.default_rng(0)
    V, n = 7, 4
    train = rng.integers(0, V - 1, size=(200, 12))  # symbol 6 (unk) never seen
    lm = KneserNeyLM.fit(train, V, n)
    seen = np.lib.stride_tricks.sliding_window_view(train, n - 1, axis=1).reshape(-1, n - 1)
    with_bos = np.concatenate([np.full((50, 1), V), train[:50, : n - 2]], axis=1)
    unseen = rng.integers(0, V + 1, size=(300, n - 1))
    for ctx in (seen[:500], with_bos, unseen):
        P = lm.next_probs(ctx)
        assert np.all(P > 0)
        np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-9)


@pytest.mark.parametrize("lines", [[[0]], [[1, 1, 1, 1]], [[0, 1], [0, 1]], [[2, 2, 2]] * 3])
def test_tiny_training_sets_give_finite_values(lines):
    lm = KneserNeyLM.fit(np.array(lines), vocab_size=4, order=6)
    rng = np.random.default_rng(0)
    test = rng.integers(0, 4, size=(20, 7))
    lp = lm.log2prob(test)
    assert np.all(np.isfinite(lp)) and np.all(lp < 0)
    P = lm.next_probs(rng.integers(0, 5, size=(20, 5)))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-9)
    assert np.isfinite(lm.cross_entropy(test))


def test_arrays_roundtrip_and_errors():
    rng = np.random.default_rng(3)
    train = rng.integers(0, 5, size=(30, 8))
    lm = KneserNeyLM.fit(train, 5, 3)
    lm2 = KneserNeyLM.from_arrays(lm.to_arrays())
    assert lm2.cross_entropy(train) == lm.cross_entropy(train)
    with pytest.raises(TextganError):
        lm.cross_entropy(np.array([[5, 0]]))
    with pytest.raises(TextganError):
        KneserNeyLM.fit(np.zeros((0, 4), dtype=int), 5, 3)
