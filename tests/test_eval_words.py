"""Word-level metrics: tokenisation, precision/recall, distinct-n, BLEU by hand, Self-BLEU."""

import math
import random
from collections import Counter

import pytest

from textgan.errors import TextganError
from textgan.eval.bleu import corpus_bleu, self_bleu
from textgan.eval.words import (
    WordNgrams,
    distinct_n,
    ngram_precision_recall,
    tokenize,
    unique_share,
)


def test_tokenize_strips_pad_and_splits_on_spaces():
    assert tokenize("the  cat`sat````") == ["the", "cat", "sat"]
    assert tokenize("The Cat", lowercase=True) == ["the", "cat"]
    assert tokenize("``````") == []


def direct_precision(samples, reference, n):
    """The paper code's precision_wrt: sample n-gram tokens whose n-gram the reference has."""
    def grams(lines):
        return Counter(tuple(t[i:i + n]) for t in lines for i in range(len(t) - n + 1))
    s, r = grams(samples), grams(reference)
    return sum(c for g, c in s.items() if g in r) / sum(s.values())


def test_precision_recall_match_paper_definition():
    rng = random.Random(0)
    words = "a b c d e f g".split()
    ref = [[rng.choice(words) for _ in range(rng.randint(0, 7))] for _ in range(60)]
    smp = [[rng.choice(words + ["zz"]) for _ in range(rng.randint(0, 7))] for _ in range(30)]
    got = ngram_precision_recall(smp, WordNgrams(ref, 4), orders=(1, 2, 3, 4))
    for n in (1, 2, 3, 4):
        prec, rec = got[n]
        assert prec == pytest.approx(direct_precision(smp, ref, n), abs=1e-12)
        # recall_wrt(p) = p.precision_wrt(self)
        assert rec == pytest.approx(direct_precision(ref, smp, n), abs=1e-12)


def test_distinct_and_unique():
    s = [["a", "b", "a", "b"], ["a", "b"]]
    assert distinct_n(s, 1) == pytest.approx(2 / 6)
    assert distinct_n(s, 2) == pytest.approx(2 / 4)  # ab, ba / ab ba ab ab
    assert distinct_n(s, 5) == 0.0
    assert unique_share([["x"], ["x"], ["y"], []]) == 0.75


def test_bleu_hand_example():
    hyp = [tokenize("the cat sat on the mat")]
    refs = [tokenize("the cat is on the mat"), tokenize("there is a cat on the mat")]
    # 1-grams: the(2) cat sat on mat -> 6; clipped by max ref count: the 2, cat 1, on 1, mat 1,
    #   sat 0 -> p1 = 5/6
    # 2-grams: the cat, cat sat, sat on, on the, the mat -> 5; in a ref: the cat, on the,
    #   the mat -> p2 = 3/5
    # 3-grams: the cat sat, cat sat on, sat on the, on the mat -> 4; on the mat -> p3 = 1/4
    # 4-grams: 3, none match -> smoothed p4 = 0.1/3
    # c = 6, ref lengths 6 and 7 -> closest r = 6 -> BP = 1
    # BLEU = (5/6 * 3/5 * 1/4 * 1/30) ** (1/4) = (1/240) ** (1/4)
    assert corpus_bleu(hyp, refs) == pytest.approx((1 / 240) ** 0.25, abs=1e-12)


def test_bleu_brevity_penalty_and_short_hypotheses():
    # hyp "the cat" (c=2) vs "the cat sat on the mat" (r=6): p1 = 2/2, p2 = 1/1,
    # no 3- or 4-grams: p3 = p4 = 0.1/1; BP = exp(1 - 6/2) = exp(-2)
    got = corpus_bleu([["the", "cat"]], [tokenize("the cat sat on the mat")])
    assert got == pytest.approx(math.exp(-2) * (0.1 * 0.1) ** 0.25, abs=1e-12)
    assert corpus_bleu([[]], [["a"]]) == 0.0
    with pytest.raises(TextganError):
        corpus_bleu([["a"]], [])


def direct_self_bleu(hyps, max_n=4, eps=0.1):
    """Brute force: each hypothesis against the list of all others."""
    m, t = [0] * max_n, [0] * max_n
    c = r = 0
    for i, h in enumerate(hyps):
        others = hyps[:i] + hyps[i + 1:]
        for n in range(1, max_n + 1):
            hc = Counter(tuple(h[j:j + n]) for j in range(len(h) - n + 1))
            for g, k in hc.items():
                best = max(Counter(tuple(o[j:j + n]) for j in range(len(o) - n + 1))[g]
                           for o in others)
                m[n - 1] += min(k, best)
                t[n - 1] += k
        c += len(h)
        r += min((abs(len(o) - len(h)), len(o)) for o in others)[1]
    if c == 0:
        return 0.0
    pairs = zip(m, t, strict=True)
    logp = sum(math.log((mm if mm > 0 else eps) / max(tt, 1)) for mm, tt in pairs) / max_n
    return (1.0 if c > r else math.exp(1 - r / c)) * math.exp(logp)


def test_self_bleu_excludes_the_sample_itself():
    rng = random.Random(1)
    vocab = [f"w{i}" for i in range(300)]
    distinct = [[rng.choice(vocab) for _ in range(rng.randint(5, 12))] for _ in range(80)]
    sb = self_bleu(distinct)
    assert sb < 0.2
    assert sb == pytest.approx(direct_self_bleu(distinct), abs=1e-12)
    same = [tokenize("the quick brown fox jumps over")] * 10
    assert self_bleu(same) == pytest.approx(1.0, abs=1e-12)
    small = [["a", "b", "a"], ["a", "b"], ["b", "a", "b", "a"], ["a", "b"], ["c"]]
    assert self_bleu(small) == pytest.approx(direct_self_bleu(small), abs=1e-12)
    with pytest.raises(TextganError):
        self_bleu([["a"]])
