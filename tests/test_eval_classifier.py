"""The label classifier (multinomial naive Bayes on character n-grams) against hand values."""

from math import log

import numpy as np
import pytest

from textgan.errors import TextganError
from textgan.eval.classifier import ClassifierConfig, NgramClassifier


def logsumexp(a: float, b: float) -> float:
    m = max(a, b)
    return m + log(np.exp(a - m) + np.exp(b - m))


def test_log_probabilities_of_a_hand_example() -> None:
    """Class 0: "ab", "a"; class 1: "b"; orders 1-2, alpha 0.5, markers ^ and $.

    Class 0 n-grams: ^ 2, a 2, b 1, $ 2, ^a 2, ab 1, b$ 1, a$ 1 (N0 = 12); class 1: ^ 1, b 1,
    $ 1, ^b 1, b$ 1 (N1 = 5); |G| = 9 distinct n-grams; denominators N + 0.5 * 9.
    "ba" has ^ b a $ ^b ba a$; "ba" is not in G (ignored).
    """
    clf = NgramClassifier.fit(["ab", "a", "b"], [0, 0, 1], 2,
                              ClassifierConfig(orders=(1, 2), alpha=0.5))
    assert clf.codes.shape == (9,)
    d0, d1 = 12 + 4.5, 5 + 4.5
    s0 = (log(2 / 3) + log(2.5 / d0) + log(1.5 / d0) + log(2.5 / d0) + log(2.5 / d0)
          + log(0.5 / d0) + log(1.5 / d0))  # ^ b a $ ^b a$
    s1 = (log(1 / 3) + log(1.5 / d1) + log(1.5 / d1) + log(0.5 / d1) + log(1.5 / d1)
          + log(1.5 / d1) + log(0.5 / d1))
    np.testing.assert_allclose(clf.scores(["ba"])[0], [s0, s1], rtol=0, atol=1e-12)
    z = logsumexp(s0, s1)
    np.testing.assert_allclose(clf.log_probabilities(["ba"])[0], [s0 - z, s1 - z], atol=1e-12)
    # an unseen character only removes n-grams: "bz" scores ^ b $ ^b (z, bz, z$ unseen)
    t0 = log(2 / 3) + log(2.5 / d0) + log(1.5 / d0) + log(2.5 / d0) + log(0.5 / d0)
    t1 = log(1 / 3) + 4 * log(1.5 / d1)
    np.testing.assert_allclose(clf.scores(["bz"])[0], [t0, t1], atol=1e-12)
    # the empty line is ^$: unigrams ^ and $ (the bigram ^$ was never seen)
    e0, e1 = log(2 / 3) + 2 * log(2.5 / d0), log(1 / 3) + 2 * log(1.5 / d1)
    np.testing.assert_allclose(clf.scores([""])[0], [e0, e1], atol=1e-12)
    assert clf.predict(["ba", "bz", ""]).tolist() == [int(s1 > s0), int(t1 > t0), int(e1 > e0)]


def test_separable_classes_are_told_apart() -> None:
    rng = np.random.default_rng(0)

    def lines(alphabet: str, n: int) -> list[str]:
        return ["".join(rng.choice(list(alphabet), rng.integers(3, 20))) for _ in range(n)]

    train = lines("abcd ", 300) + lines("wxyz ", 300) + lines("abwx", 300)
    y = [0] * 300 + [1] * 300 + [2] * 300
    test = lines("abcd ", 100) + lines("wxyz ", 100) + lines("abwx", 100)
    clf = NgramClassifier.fit(train, y, 3)
    acc, by_class = clf.accuracy_by_class(test, [0] * 100 + [1] * 100 + [2] * 100)
    assert acc > 0.97 and by_class.min() > 0.95
    probs = np.exp(clf.log_probabilities(test))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    # deterministic: the same data gives the same model
    again = NgramClassifier.fit(train, y, 3)
    assert np.array_equal(again.codes, clf.codes) and np.array_equal(again.log_theta, clf.log_theta)


def test_ngrams_never_cross_lines_and_orders_never_share_codes() -> None:
    clf = NgramClassifier.fit(["ab", "cd"], [0, 1], 2, ClassifierConfig(orders=(1, 2, 3)))
    # per line: 4 unigrams (^ x y $), 3 bigrams, 2 trigrams; "^" and "$" shared by both lines
    assert clf.codes.shape == (2 + 4 + 3 * 2 + 2 * 2,)
    assert np.isclose(np.exp(clf.log_prior).sum(), 1.0)
    # a line's own n-grams decide it; "bc" (across the two lines' boundary) was never seen
    assert clf.predict(["ab", "cd", "a", "d"]).tolist() == [0, 1, 0, 1]


def test_accuracy_by_class_counts_per_class() -> None:
    clf = NgramClassifier.fit(["aaa", "bbb", "ccc"], [0, 1, 2], 3)
    acc, by_class = clf.accuracy_by_class(["aa", "bb", "cc"], [0, 0, 2])  # "bb" is class 1
    assert acc == pytest.approx(2 / 3)
    assert by_class[0] == 0.5 and np.isnan(by_class[1]) and by_class[2] == 1.0
    with pytest.raises(TextganError, match="labels must be in 0..2"):
        clf.accuracy_by_class(["aa"], [3])


@pytest.mark.parametrize("lines,labels,message", [
    ([], [], "no labelled lines"),
    (["a", "b"], [0], "2 lines but 1 labels"),
    (["a", "b"], [0, 3], "labels must be in 0..1"),
    (["a", "b"], [0, 0], r"classes \[1\] have no training lines"),
])
def test_bad_training_data_is_one_line(lines, labels, message) -> None:
    with pytest.raises(TextganError, match=message):
        NgramClassifier.fit(lines, labels, 2)
