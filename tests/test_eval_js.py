"""JS-n against a direct, obviously-correct implementation of the paper code's definition."""

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textgan.errors import TextganError
from textgan.eval.js import js_divergence
from textgan.eval.ngrams import count_ngrams


def direct_js(samples, reference, seq_len, pad, n):
    """Definition: ML n-gram counts within cut+padded lines; JS = (KL(p|m) + KL(q|m)) / 2, bits."""

    def dist(lines):
        c = Counter()
        for s in lines:
            s = s[:seq_len] + pad * max(0, seq_len - len(s))
            for i in range(len(s) - n + 1):
                c[tuple(s[i:i + n])] += 1
        total = sum(c.values())
        return {g: v / total for g, v in c.items()}

    p, q = dist(reference), dist(samples)
    kl_pm = kl_qm = 0.0
    for g in set(p) | set(q):
        pg, qg = p.get(g, 0.0), q.get(g, 0.0)
        m = (pg + qg) / 2
        if pg > 0:
            kl_pm += pg * math.log2(pg / m)
        if qg > 0:
            kl_qm += qg * math.log2(qg / m)
    return 0.5 * (kl_pm + kl_qm)


line = st.text(alphabet="ab`c é\u4e2d", max_size=12)


@settings(max_examples=60, deadline=None)
@given(samples=st.lists(line, min_size=1, max_size=8), reference=st.lists(line, min_size=1,
       max_size=8), seq_len=st.integers(4, 9), n_max=st.integers(1, 4))
def test_js_equals_definition(samples, reference, seq_len, n_max):
    orders = list(range(1, n_max + 1))
    got = js_divergence(samples, reference, seq_len, pad="`", orders=orders)
    for n in orders:
        assert got[n] == pytest.approx(direct_js(samples, reference, seq_len, "`", n), abs=1e-9)


def test_js_random_larger_sets_and_high_order():
    rng = np.random.default_rng(1)
    alpha = list("abcdefgh `")
    ref = ["".join(rng.choice(alpha, rng.integers(0, 20))) for _ in range(300)]
    smp = ["".join(rng.choice(alpha[:6] + ["z"], rng.integers(0, 20))) for _ in range(50)]
    got = js_divergence(smp, ref, 16, orders=[1, 2, 3, 4, 7])
    for n in (1, 2, 3, 4, 7):
        assert got[n] == pytest.approx(direct_js(smp, ref, 16, "`", n), abs=1e-9)


def test_js_identical_is_zero_disjoint_is_one():
    lines = ["hello world", "abc"]
    got = js_divergence(lines, lines, 8, orders=[1, 2, 3, 4])
    assert all(abs(v) < 1e-12 for v in got.values())
    got = js_divergence(["aaaa"], ["bbbb"], 4, orders=[1, 2])
    assert got[1] == pytest.approx(1.0, abs=1e-12) and got[2] == pytest.approx(1.0, abs=1e-12)


def test_js_errors_are_one_line():
    with pytest.raises(TextganError) as e:
        js_divergence(["ab"], ["ab"], 3, orders=[4])
    assert "\n" not in str(e.value)
    with pytest.raises(TextganError):
        js_divergence([], ["ab"], 3, orders=[1])
    with pytest.raises(TextganError):
        js_divergence([1, 2], ["ab"], 3, orders=[1])


def test_counting_is_chunk_and_dense_limit_independent():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 7, size=(500, 12))
    a = count_ngrams(X, 7, 5)
    b = count_ngrams(X, 7, 5, chunk_rows=37, dense_limit=50)  # forces the sorted-key mode
    for k in range(5):
        assert np.array_equal(a.keys[k], b.keys[k]) and np.array_equal(a.counts[k], b.counts[k])
    # direct check of order 3 against packing with base 7
    packed = X[:, :-2] * 49 + X[:, 1:-1] * 7 + X[:, 2:]
    _, c = np.unique(packed, return_counts=True)
    assert np.array_equal(np.sort(c), np.sort(a.counts[2]))


def test_hash_map_mode_with_growth_matches_dense():
    from textgan.eval.ngrams import NgramCounter, _HashMap

    rng = np.random.default_rng(5)
    m = _HashMap(16)
    keys = rng.choice(10**12, size=300_000, replace=False)
    for part in np.array_split(np.arange(keys.size), 7):  # forces several rehashes
        m.insert(keys[part], part)
    assert np.array_equal(m.get(keys), np.arange(keys.size))
    assert np.all(m.get(rng.integers(10**12, 2 * 10**12, 1000)) == -1)
    X = rng.integers(0, 40, size=(3000, 10))
    dense = NgramCounter(40, 4)
    sparse = NgramCounter(40, 4, dense_limit=100)
    for part in np.array_split(X, 5):
        a, b = dense.update(part, return_ids=True), sparse.update(part, return_ids=True)
        for x, y in zip(a, b, strict=True):
            assert np.array_equal(x, y)  # same first-seen ids either way
