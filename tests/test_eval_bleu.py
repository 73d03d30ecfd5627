"""Texygen BLEU-n / Self-BLEU-n against NLTK's sentence_bleu (method 1), and their keys."""

import math
import random

import pytest

from textgan.errors import TextganError
from textgan.eval import EvalConfig, ReferenceConfig, ReferenceSet, evaluate, tokenize
from textgan.eval.bleu import texygen_bleu, texygen_self_bleu

bleu_score = pytest.importorskip("nltk.translate.bleu_score")

ORDERS = (2, 3, 4, 5)
WEIGHTS = [tuple(1.0 / n for _ in range(n)) for n in ORDERS]  # as Texygen builds them
VOCAB = ("the of and to a in is it that he was for on are with as his they be at one have "
         "this from or had by not but what some we can out other were all there when up use "
         "your how said an each she which do their time if will way about many then them . , ?"
         ).split()


def nltk_mean(pairs):
    """Texygen's loop: mean over hypotheses of sentence_bleu(references, hypothesis)."""
    smooth = bleu_score.SmoothingFunction().method1
    sums = [0.0] * len(ORDERS)
    for refs, hyp in pairs:
        for i, s in enumerate(bleu_score.sentence_bleu(refs, hyp, WEIGHTS,
                                                       smoothing_function=smooth)):
            sums[i] += s
    return {n: s / len(pairs) for n, s in zip(ORDERS, sums, strict=True)}


def sentences(n, seed):
    """Zipf-ish word lines: many shared n-grams, some rare words, lengths 0..25 (empty lines,
    lines shorter than n, ties in closest reference length), some exact repeats."""
    rng = random.Random(seed)
    weights = [1.0 / (r + 1) for r in range(len(VOCAB))]
    out = []
    for _ in range(n):
        if out and rng.random() < 0.05:
            out.append(list(rng.choice(out)))
            continue
        line = rng.choices(VOCAB, weights, k=rng.randint(0, 25))
        if rng.random() < 0.1 and line:
            line[rng.randrange(len(line))] = f"rare{rng.randrange(10**6)}"
        out.append(line)
    return out


def test_texygen_bleu_equals_nltk_sentence_bleu():
    hyps, refs = sentences(300, 1), sentences(300, 2)
    got = texygen_bleu(hyps, refs, ORDERS)
    want = nltk_mean([(refs, h) for h in hyps])
    for n in ORDERS:
        assert got[n] == pytest.approx(want[n], abs=1e-9), n
    assert 0.05 < got[5] < got[2] < 1


def test_texygen_self_bleu_equals_nltk_against_the_other_samples():
    hyps = sentences(300, 3)
    got = texygen_self_bleu(hyps, ORDERS)
    want = nltk_mean([(hyps[:i] + hyps[i + 1:], h) for i, h in enumerate(hyps)])
    for n in ORDERS:
        assert got[n] == pytest.approx(want[n], abs=1e-9), n


@pytest.mark.parametrize("hyps,refs", [
    ([[]], [["a"]]),                                   # empty hypothesis: 0
    ([["x", "y"]], [["a", "b"]]),                      # no unigram match: 0
    ([["a"]], [["a", "b", "c"], []]),                  # shorter than every order but 1
    ([["a", "b", "a", "b", "a"]], [["a", "b"], ["b", "a", "b", "a", "b", "a", "b"]]),
    ([["a", "b", "c"]], [["a", "b"], ["a", "b", "c", "d"]]),  # closest length tie: shorter
    ([["a", "a", "a", "a", "a", "a"]], [["a", "a"], ["a", "a", "a"]]),  # clipped by the max
])
def test_nltk_corner_cases(hyps, refs):
    got = texygen_bleu(hyps, refs, ORDERS)
    want = nltk_mean([(refs, h) for h in hyps])
    for n in ORDERS:
        assert got[n] == pytest.approx(want[n], abs=1e-12), (n, hyps, refs)


def test_self_bleu_ties_and_duplicates():
    hyps = [["a", "b", "a", "b"], ["a", "b", "a", "b"], ["a", "b"], ["b", "a", "b", "a"], [],
            ["c"], ["a", "b", "c", "a", "b", "c"]]
    got = texygen_self_bleu(hyps, ORDERS)
    want = nltk_mean([(hyps[:i] + hyps[i + 1:], h) for i, h in enumerate(hyps)])
    for n in ORDERS:
        assert got[n] == pytest.approx(want[n], abs=1e-12)
    assert texygen_self_bleu([["one", "same", "line", "said", "here"]] * 5, ORDERS)[5] == pytest.approx(1.0)


def test_errors_are_one_line():
    for call in (lambda: texygen_bleu([["a"]], []), lambda: texygen_bleu([], [["a"]]),
                 lambda: texygen_self_bleu([["a"]]), lambda: texygen_bleu([["a"]], [["a"]], ())):
        with pytest.raises(TextganError) as err:
            call()
        assert "\n" not in str(err.value)


def test_evaluate_reports_texygen_keys_with_real_values():
    rng = random.Random(5)
    lines = [" ".join(rng.choice(VOCAB[:30]) for _ in range(rng.randint(1, 8)))
             for _ in range(900)]
    ref = ReferenceSet.from_texts(lines[:700], lines[700:], seq_len=40,
                                  config=ReferenceConfig(real_pool_lines=200))
    out = evaluate(lines[:100], ref, EvalConfig(lm=False))
    for n in ORDERS:
        for key in (f"texygen_bleu{n}", f"texygen_self_bleu{n}"):
            assert 0 < out[key] <= 1 and math.isfinite(out[key + "_real"]), key
    assert "bleu4" in out and "self_bleu4_real" in out  # the corpus-level ones stay
    # split corpus: BLEU references are the held-out lines, for samples and real lines alike
    held = [tokenize(line) for line in ref.lines(ref.heldout)]
    words = [tokenize(line[:40]) for line in lines[:100]]
    assert out["texygen_bleu3"] == pytest.approx(texygen_bleu(words, held, (3,))[3], abs=1e-12)
    assert "texygen_bleu2" not in evaluate(lines[:10], ref, EvalConfig(lm=False,
                                                                        texygen_orders=()))
